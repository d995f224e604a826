"""The sans-I/O protocol core: the event catalog, client-event validation, the tracker, JSON
readers and the one ``create`` grammar. No socket, no terminal, no typer: plain calls test it."""
