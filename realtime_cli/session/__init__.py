"""The client connection: the websockets transport, the connected ``Session`` (tracking every
event both ways), and recordings."""
