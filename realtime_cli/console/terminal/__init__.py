"""The interactive console's terminal side: the input line, keys, completion, history, the live
region of streaming responses and the toolbar. The only package that imports prompt-toolkit.

One event loop runs three things. The prompt loop (the body of a TaskGroup, in the caller's
task) reads lines and runs them; it owns the connection (``Shell.connect``/``disconnect`` must
run in one task). Beside it, in the group: the receive loop, which shows server events and is
cancelled by the prompt loop on ``reconnect`` and on leaving (it ends by itself when the socket
closes); and the redraw ticker, cancelled by the prompt loop on leaving.

Streaming text never prints per delta: the receive loop only updates state and sets
``Shell.changed``; the ticker invalidates the prompt at most every ``REDRAW_INTERVAL`` and the
live region (the lines of the prompt message above the input) is computed once per redraw.
Finished panels, rows and notes go to the scrollback through the rich console, which in a real
terminal writes through ``patch_stdout(raw=True)`` so they land above the prompt.
"""

from realtime_cli.console.terminal.app import Repl, run_repl
from realtime_cli.console.terminal.completion import ConsoleCompleter
from realtime_cli.console.terminal.history import history_file, keeps_secret, open_history

__all__ = ["ConsoleCompleter", "Repl", "history_file", "keeps_secret", "open_history", "run_repl"]
