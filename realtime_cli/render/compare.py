"""``rtc diff`` and ``rtc bench`` for a person: side-by-side tables and a live progress line.
Cells are ``Text`` through ``safe`` (recordings hold server text)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich import box
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from realtime_cli.render.safe import plain


def side_by_side(title: str, a: str, b: str, rows: list[tuple[str, str, str, bool]]) -> Table:
    """Rows of (aspect, A, B, differs): those that differ in bold yellow."""
    table = Table(title=Text(plain(title), style="bold"), title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("", no_wrap=True, style="bold")
    table.add_column(Text(plain(a)), overflow="fold")
    table.add_column(Text(plain(b)), overflow="fold")
    for name, left, right, differs in rows:
        style = "bold yellow" if differs else ""
        table.add_row(Text(name), Text(plain(left), style=style), Text(plain(right), style=style))
    return table


def figures_table(title: str, columns: list[str], rows: list[list[str]]) -> Table:
    """A plain table of figures: the first column left, the rest right-aligned."""
    table = Table(title=Text(plain(title), style="bold"), title_justify="left", box=box.SIMPLE_HEAD)
    for index, name in enumerate(columns):
        table.add_column(name, justify="left" if index == 0 else "right", no_wrap=True)
    for row in rows:
        table.add_row(*(Text(plain(cell)) for cell in row))
    return table


@contextlib.contextmanager
def live_line(console: Console) -> Iterator[Callable[[str], None]]:
    """A status line redrawn in place (when ``console`` is a terminal; else nothing is drawn):
    yields ``show(text)``, called at the caller's pace, never per event."""
    if not console.is_terminal:
        yield lambda text: None
        return
    with Live(console=console, transient=True, auto_refresh=False) as live:
        yield lambda text: live.update(
            Text(plain(text), no_wrap=True, overflow="ellipsis"), refresh=True
        )
