"""``rtc diff`` and ``rtc bench`` for a person: side-by-side tables and a live progress line.
Cells are ``Text`` through ``safe`` (recordings hold server text)."""

from __future__ import annotations

from rich import box
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
