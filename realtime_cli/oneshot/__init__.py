"""``rtc create``: send one ``response.create``, follow it to ``response.done``, exit with a code
scripts can trust (see ``errors.ExitCode`` and the README's table).

Output: in ``--json`` mode stdout carries every server frame as received, one per line, and
nothing else. Otherwise the answer streams to stdout as it arrives and a panel follows at
``response.done``; ``--events`` prints a compact row per server event instead of the stream.
Human messages (notices, errors) always go to stderr. ``--json`` never loads rich: the renderers
are imported only where a person's view is built.
"""

from realtime_cli.oneshot.job import CreateJob
from realtime_cli.oneshot.run import run_create

__all__ = ["CreateJob", "run_create"]
