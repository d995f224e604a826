"""The consoles rtc writes to, and the two ways it prints a line of its own."""

from __future__ import annotations

from typing import IO, Any

from rich.console import Console
from rich.text import Text

from realtime_cli.render.safe import plain

RichConsole = Console  # the type other modules name without importing rich


def make_console(file: IO[str] | None = None, *, stderr: bool = False, **kwargs: Any) -> Console:
    """A console that uses colour and cursor control only when writing to a terminal."""
    # Messages on stderr are one line each, never broken at the width (logs grep them whole);
    # stdout wraps, so panels and their text fit the screen.
    kwargs.setdefault("soft_wrap", stderr)
    return Console(file=file, stderr=stderr, highlight=False, **kwargs)


def console_for_repl(file: IO[str]) -> Console:
    """The interactive console's scrollback on a terminal: text word-wraps (a panel keeps its
    whole answer), event rows crop themselves to one line."""
    return Console(file=file, highlight=False, soft_wrap=False)


def note(message: str, style: str = "dim") -> Text:
    """One line of the console's own voice. It may quote a server (an id, a reason), so it is
    never read as markup and its control characters are shown, not obeyed."""
    return Text(plain(message), style=style)


def print_row(console: Console, row: Text) -> None:
    """An event row: one screen line on a terminal (cropped), whole in a log or a pipe."""
    if console.is_terminal:
        console.print(row, soft_wrap=False, no_wrap=True, overflow="ellipsis", crop=True)
    else:
        console.print(row, soft_wrap=True)


def print_listed_row(console: Console, row: Text) -> None:
    """A row of a listing the user asked for (``events``): on a terminal it wraps between
    words rather than being cropped, so the ids in it stay whole for ``show``."""
    if console.is_terminal:
        row = row.copy()
        row.no_wrap, row.overflow = False, "fold"
        console.print(row)
    else:
        console.print(row, soft_wrap=True)
