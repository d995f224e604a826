"""The typer application object and the entry point.

``main`` is the one place that catches broadly, turning ``RtcError`` into a one-line message
and its exit code. Commands live in sibling modules, each importing the heavy modules it needs
inside the command, so ``rtc --help`` stays fast.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from realtime_cli import __version__
from realtime_cli.errors import ExitCode, RtcError

app = typer.Typer(
    name="rtc",
    help=(
        "rtc: a terminal console for OpenAI Realtime WebSocket endpoints (OpenAI, Azure, "
        "compatible servers). With no API key and no --url, rtc uses its built-in local server."
        "\n\nWith no command, rtc opens the interactive console, or runs pipe mode when stdin "
        "is not a terminal."
        "\n\nExamples: rtc create --instructions 'Say hello'    rtc --url ws://HOST/v1/realtime"
    ),
    no_args_is_help=False,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def show_version(value: bool) -> None:
    if value:
        typer.echo(f"rtc {__version__}")
        raise typer.Exit()


def main() -> NoReturn:
    """Entry point: every expected failure becomes one line on stderr and an exit code."""
    try:
        app()  # standalone: usage errors exit 2 with typer's message
    except RtcError as exc:
        # The message may quote a server (a close reason, a handshake error's body): its
        # escape sequences are shown, not obeyed, and it stays one line.
        from realtime_cli.safe_text import clean

        message = " ".join(clean(exc.message).splitlines())
        sys.stderr.write(f"rtc: error: {message}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
    sys.exit(ExitCode.OK)
