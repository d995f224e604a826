"""The command line (typer): the only package that imports typer.

Options become settings here and are handed to the module that does the work. The commands
register on ``realtime_cli.cli.app.app`` as their modules are imported, in the order
``rtc --help`` lists them.

Nothing is imported until ``main`` runs: ``rtc --version`` alone is answered before typer and
the commands are loaded, which is most of rtc's start-up.
"""

from __future__ import annotations

import sys
from typing import NoReturn

from realtime_cli import __version__

__all__ = ["main"]


def load() -> None:
    """Import the commands, registering them on the app in the order ``rtc --help`` lists."""
    from realtime_cli.cli import run  # isort: skip  # noqa: F401
    from realtime_cli.cli import tools  # isort: skip  # noqa: F401
    from realtime_cli.cli import settings  # isort: skip  # noqa: F401
    from realtime_cli.cli import measure  # isort: skip  # noqa: F401


def main() -> NoReturn:
    """Entry point: every expected failure becomes one line on stderr and an exit code."""
    if sys.argv[1:] in (["--version"], ["-V"]):
        sys.stdout.write(f"rtc {__version__}\n")
        sys.exit(0)
    load()
    from realtime_cli.cli.app import main as run_app

    run_app()
