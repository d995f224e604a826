"""``rtc pipe``: client events from stdin, server events as JSON lines, and the sans-I/O ledger
that decides when the work is done."""
