"""The command line (typer): the only package that imports typer.

Options become settings here and are handed to the module that does the work. The commands
register on ``app`` as their modules are imported, in the order ``rtc --help`` lists them.
"""

# Importing these registers their commands, in the order `rtc --help` lists them.
from realtime_cli.cli import run  # isort: skip  # noqa: F401
from realtime_cli.cli import tools  # isort: skip  # noqa: F401
from realtime_cli.cli import settings  # isort: skip  # noqa: F401
from realtime_cli.cli import measure  # isort: skip  # noqa: F401
from realtime_cli.cli.app import app, main
from realtime_cli.cli.tools import COMPLETION_FILES, completion_script

__all__ = [
    "COMPLETION_FILES",
    "app",
    "completion_script",
    "main",
]
