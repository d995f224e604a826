"""Tables and listings: the console's ``responses``, ``items`` and ``help``; ``rtc doctor``;
``rtc config`` and ``rtc profile``. Cells are ``Text`` built through ``safe``, never markup."""

from __future__ import annotations

from collections.abc import Mapping

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from realtime_cli.protocol.events import JSON
from realtime_cli.protocol.fields import obj, seq, text
from realtime_cli.protocol.summary import RESPONSE_COLUMNS, response_row
from realtime_cli.protocol.tracker import ResponseState
from realtime_cli.render.panels import STATUS_STYLE
from realtime_cli.render.safe import one_line, plain

DOCTOR_STYLE = {
    "pass": "green",
    "fail": "bold red",
    "not supported": "yellow",
    "not exercised": "dim",
}
_NUMBERS = ("tokens in/out", "first delta", "total", "cost")
# The responses table at any width: columns are dropped from the end of this list until the
# rest fits (the id and status always stay; an id folds only when nothing else is left to give).
_PRIORITY = ("response", "status", "reason", "tokens in/out", "total", "metadata", "first delta")
_SHORT_HEADERS = {"tokens in/out": "tokens", "first delta": "first"}
_METADATA_MIN = 12  # metadata wraps in its column; shown when at least this much room is left
_OOB = " (oob)"


def _table() -> Table:
    return Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)


class _ResponsesTable:
    """The responses table laid out for the width it is printed at (see ``_PRIORITY``)."""

    def __init__(
        self, responses: list[ResponseState], costs: Mapping[str, str] | None = None
    ) -> None:
        self.responses = responses
        self.rows = [
            dict(zip(RESPONSE_COLUMNS, (one_line(c) for c in response_row(r)), strict=True))
            for r in responses
        ]
        self.columns: tuple[str, ...] = RESPONSE_COLUMNS
        self.priority: tuple[str, ...] = _PRIORITY
        if costs is not None:  # the meters' estimate, kept after the total when width allows
            at = RESPONSE_COLUMNS.index("total") + 1
            self.columns = (*RESPONSE_COLUMNS[:at], "cost", *RESPONSE_COLUMNS[at:])
            at = _PRIORITY.index("total") + 1
            self.priority = (*_PRIORITY[:at], "cost", *_PRIORITY[at:])
            for response, row in zip(responses, self.rows, strict=True):
                row["cost"] = one_line(costs.get(response.id, "-"))

    def _natural(self, name: str, header: str, oob: bool = True) -> int:
        cells = [row[name] for row in self.rows]
        if name == "response" and oob:
            pairs = zip(cells, self.responses, strict=True)
            cells = [c + _OOB if r.out_of_band else c for c, r in pairs]
        return max([cell_len(header), *(cell_len(c) for c in cells)])

    def layout(self, width: int) -> tuple[dict[str, int], bool]:
        """The columns shown and the width of each, and whether with short headers."""
        for count in range(len(self.priority), 2, -1):
            names = self.priority[:count]
            for short in (False, True):
                for oob in (True,):  # " (oob)" stays beside its id: other columns give way
                    widths = {
                        name: self._natural(
                            name, _SHORT_HEADERS.get(name, name) if short else name, oob
                        )
                        for name in names
                    }
                    metadata = widths.pop("metadata", None)  # it wraps: some room will do
                    spare = width - sum(widths.values()) - 2 * (len(widths) - 1)
                    if metadata is None and spare >= 0:
                        return widths, short
                    if metadata is not None and spare - 2 >= min(metadata, _METADATA_MIN):
                        return {**widths, "metadata": min(metadata, spare - 2)}, short
        names = self.priority[:2]
        return {n: self._natural(n, n) for n in names}, True

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths, short = self.layout(options.max_width)
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1, 0, 0))
        shown = [n for n in self.columns if n in widths]
        for name in shown:
            table.add_column(
                _SHORT_HEADERS.get(name, name) if short else name,
                justify="right" if name in _NUMBERS else "left",
                no_wrap=name in _NUMBERS,
                overflow="fold",
                max_width=widths[name],
            )
        for response, row in zip(self.responses, self.rows, strict=True):
            cells = [Text(row[name]) for name in shown]
            if response.out_of_band:
                cells[0].append(_OOB)
            cells[1].stylize(STATUS_STYLE.get(response.status, ""))
            table.add_row(*cells)
        yield table


def responses_table(
    responses: list[ResponseState], costs: Mapping[str, str] | None = None
) -> RenderableType:
    """Every response of the session: id, status, reason, tokens, timings, metadata (and with
    ``costs``, response id → estimated cost, a cost column); as many columns as the width holds
    (at 80: id, status, reason, tokens, total; metadata if room)."""
    return _ResponsesTable(responses, costs)


def _item_content(item: JSON) -> str:
    texts = []
    for part in seq(item.get("content")):
        if isinstance(part, dict):
            said = part.get("text") or part.get("transcript")
            if said:
                texts.append(text(said))
            elif part.get("type"):
                texts.append(f"[{text(part['type'])}]")
    if item.get("type") == "function_call":
        texts.append(f"{text(item.get('name'))}({text(item.get('arguments'))})")
    elif item.get("type") == "function_call_output":
        texts.append(text(item.get("output")))
    return " ".join(texts)


# The items table at any width: columns leave in this order until the rest fits; the id never
# leaves and is never cut (``delete`` and ``show`` need it whole), content shrinks first.
_ITEM_COLUMNS = ("item", "type", "role", "status", "content")
_ITEM_DROP = ("type", "status", "role")
_CONTENT_MIN = 12


class _ItemsTable:
    def __init__(self, items: list[JSON]) -> None:
        self.rows = []
        for value in items:
            item = obj(value)
            self.rows.append(
                {
                    "item": one_line(item.get("id")),
                    "type": one_line(item.get("type")),
                    "role": one_line(item.get("role") or item.get("name")),
                    "status": one_line(item.get("status")),
                    "content": one_line(_item_content(item), 200),
                }
            )

    def _natural(self, name: str) -> int:
        return max([cell_len(name), *(cell_len(row[name]) for row in self.rows)])

    def columns(self, width: int) -> list[str]:
        shown = list(_ITEM_COLUMNS)
        for leaving in (None, *_ITEM_DROP):
            if leaving:
                shown.remove(leaving)
            fixed = sum(self._natural(n) for n in shown if n != "content")
            if width - fixed - 2 * (len(shown) - 1) >= _CONTENT_MIN:
                return shown
        return shown

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        shown = self.columns(options.max_width)
        fixed = sum(self._natural(n) for n in shown if n != "content")
        room = max(options.max_width - fixed - 2 * (len(shown) - 1), 1)
        table = _table()
        for name in shown:
            natural = self._natural(name)
            table.add_column(
                name,
                no_wrap=True,
                overflow="ellipsis",
                min_width=natural if name != "content" else None,
                max_width=room if name == "content" else None,
            )
        for row in self.rows:
            table.add_row(*(Text(row[name]) for name in shown))
        yield table


def items_table(items: list[JSON]) -> RenderableType:
    """The conversation items: id, type, role or name, status, content in short; as many
    columns as the width holds, the id always whole."""
    return _ItemsTable(items)


def help_view(sections: list[tuple[str, list[tuple[str, str]]]]) -> RenderableType:
    """Help: per section a heading, then terms and their descriptions (which wrap in place)."""
    parts: list[RenderableType] = []
    for heading, rows in sections:
        parts.append(Text(heading, style="bold"))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True, style="cyan")
        grid.add_column()
        for term, description in rows:
            grid.add_row(Text(term), Text(description))
        parts.append(Padding(grid, (0, 0, 0, 2)))
    return Group(*parts)


def doctor_table(rows: list[tuple[str, str, str]]) -> Table:
    """``rtc doctor``: one row per check (name, result, detail); details quote the server."""
    table = _table()
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail")
    for name, status, detail in rows:
        table.add_row(
            Text(plain(name)),
            Text(plain(status), style=DOCTOR_STYLE.get(status, "")),
            Text(plain(detail)),
        )
    return table


def print_settings(console: Console, rows: list[tuple[str, str, str]]) -> None:
    """``rtc config`` / ``rtc profile show``: a line per setting, its value (already redacted)
    never cropped, then where it came from."""
    width = max((len(name) for name, _, _ in rows), default=0)
    for name, value, source in rows:
        line = Text(f"{name:<{width}}  ", style="bold")
        line.append(plain(value))
        if source:
            line.append(f"  ← {plain(source)}", style="dim")
        console.print(line, soft_wrap=True)


def profiles_table(rows: list[tuple[str, str, str, str, str]]) -> Table:
    """``rtc profile list``: name (``*`` marks the default), kind, endpoint, model, key."""
    table = _table()
    for name in ("profile", "kind", "endpoint", "model", "key"):
        table.add_column(name, no_wrap=name in ("profile", "kind"), overflow="fold")
    for row in rows:
        table.add_row(*(Text(plain(cell)) for cell in row))
    return table
