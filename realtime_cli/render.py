"""Everything rich: event rows, response panels, error lines. The only module importing rich.

Nothing here renders per delta: streaming text is written to the console's file as plain text
(cheap), deltas of one content part are folded into one event row written when the part ends,
and a panel is built once, at ``response.done``.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from typing import IO, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.json import JSON as RichJSON
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from realtime_cli.events import DELTA_TYPES, JSON, Server, ga_type
from realtime_cli.safe_text import clean, visible_response
from realtime_cli.tracker import ErrorInfo, ResponseState

STATUS_STYLE = {
    "completed": "green",
    "in_progress": "cyan",
    "cancelled": "yellow",
    "incomplete": "yellow",
    "failed": "red",
}
_ID_KEYS = ("response_id", "item_id", "call_id", "previous_item_id")


def make_console(file: IO[str] | None = None, *, stderr: bool = False, **kwargs: Any) -> Console:
    """A console that uses colour and cursor control only when writing to a terminal."""
    # Messages on stderr are one line each, never broken at the width (logs grep them whole);
    # stdout wraps, so panels and their text fit the screen.
    kwargs.setdefault("soft_wrap", stderr)
    return Console(file=file, stderr=stderr, highlight=False, **kwargs)


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = clean(" ".join(text.split()))
    return text if len(text) <= width else text[: width - 1] + "…"


def _audio_bytes(delta: Any) -> int:
    if not isinstance(delta, str):
        return 0
    return len(delta) * 3 // 4 - delta[-2:].count("=")


def summary(event: JSON) -> str:
    """The key facts of one event in a few words: ids, status, sizes — never base64 audio."""
    type_ = ga_type(str(event.get("type")))
    bits: list[str] = []
    if type_ in (Server.response_created, Server.response_done):
        response = event.get("response") or {}
        bits += [str(response.get("id")), str(response.get("status"))]
        details = response.get("status_details") or {}
        if isinstance(details, dict) and details.get("reason"):
            bits.append(f"reason={details['reason']}")
        if response.get("conversation_id") is None and "conversation_id" in response:
            bits.append("out-of-band")
    elif type_ == Server.error:
        error = event.get("error") or {}
        bits += [str(error.get("code")), _short(error.get("message"), 70)]
        if error.get("event_id"):
            bits.append(f"event_id={error['event_id']}")
    elif type_ in (Server.session_created, Server.session_updated):
        session = event.get("session") or {}
        bits += [str(session.get("id", "")), str(session.get("model", ""))]
        modalities = session.get("output_modalities") or session.get("modalities") or []  # beta
        bits.append("modalities=" + ",".join(modalities))
    elif isinstance(event.get("item"), dict):
        item = event["item"]
        bits += [str(item.get("id")), str(item.get("type"))]
        bits += [str(item[k]) for k in ("role", "name", "status") if item.get(k)]
    for key in _ID_KEYS:
        if event.get(key) and str(event[key]) not in bits:
            bits.append(str(event[key]))
    if type_ == Server.response_output_audio_delta:
        bits.append(f"{_audio_bytes(event.get('delta'))} B audio")
    elif isinstance(event.get("delta"), str):
        bits.append(repr(_short(event["delta"], 40)))
    for key in ("text", "transcript", "arguments"):
        if isinstance(event.get(key), str):
            bits.append(repr(_short(event[key], 50)))
    if type_ == Server.rate_limits_updated:
        for limit in event.get("rate_limits") or []:
            if isinstance(limit, dict):
                bits.append(f"{limit.get('name')} {limit.get('remaining')}/{limit.get('limit')}")
    return " ".join(b for b in bits if b and b != "None")


@dataclass
class _Fold:
    type: str
    key: tuple[Any, ...]
    t: float
    count: int = 0
    chars: int = 0
    audio: int = 0


@dataclass
class EventRows:
    """Compact one-line rows for the event stream.

    Deltas are folded: one row per content part (``×N``, characters or audio bytes), written
    when the next non-delta event arrives. Parts are keyed separately because a live audio
    response interleaves transcript and audio deltas.
    """

    console: Console
    _folds: dict[tuple[Any, ...], _Fold] = field(default_factory=dict, init=False)

    def server(self, event: JSON, t: float) -> None:
        type_ = ga_type(str(event.get("type")))
        if type_ in DELTA_TYPES:
            ids = tuple(event.get(k) for k in ("response_id", "item_id", "content_index"))
            key = (type_, *ids)
            fold = self._folds.get(key)
            if fold is None:
                fold = self._folds[key] = _Fold(type_, key, t)
            fold.count += 1
            delta = event.get("delta")
            if type_ == Server.response_output_audio_delta:
                fold.audio += _audio_bytes(delta)
            elif isinstance(delta, str):
                fold.chars += len(delta)
            return
        self.flush()
        self._row(t, "←", type_, summary(event), "red" if type_ == Server.error else "")

    def client(self, event: JSON, t: float) -> None:
        self.flush()
        bits = [str(event.get("event_id") or "")]
        if event.get("response_id"):
            bits.append(str(event["response_id"]))
        if isinstance(event.get("response"), dict):
            bits.append(_short(event["response"], 70))
        self._row(t, "→", str(event.get("type")), " ".join(b for b in bits if b), "magenta")

    def flush(self) -> None:
        folds, self._folds = self._folds, {}
        for fold in folds.values():
            size = f"{fold.audio} B audio" if fold.audio else f"{fold.chars} chars"
            ids = " ".join(str(k) for k in fold.key[1:3] if k)
            self._row(fold.t, "←", fold.type, f"×{fold.count} {size} {ids}".strip(), "dim")

    def _row(self, t: float, arrow: str, type_: str, detail: str, style: str) -> None:
        row = Text()
        row.append(f"{t:8.3f} ", style="dim")
        row.append(f"{arrow} ", style="bold")
        row.append(type_, style=style or "cyan")
        if detail:
            row.append(" " + detail, style="dim" if style == "dim" else "")
        if self.console.is_terminal:  # one screen line each; logs keep the whole row
            self.console.print(row, soft_wrap=False, no_wrap=True, overflow="ellipsis", crop=True)
        else:
            self.console.print(row, soft_wrap=True)


def _usage_line(usage: JSON | None) -> str:
    if not usage:
        return "-"
    inp = usage.get("input_tokens", 0)
    out = usage.get("output_tokens", 0)
    text = f"{usage.get('total_tokens', inp + out)} total · {inp} in · {out} out"
    # Details may be missing or mangled (recordings): show what is there, never fail.
    in_details = usage.get("input_token_details")
    out_details = usage.get("output_token_details")
    in_details = in_details if isinstance(in_details, dict) else {}
    out_details = out_details if isinstance(out_details, dict) else {}
    extra = []
    if in_details.get("cached_tokens"):
        extra.append(f"{in_details['cached_tokens']} cached")
    if out_details.get("audio_tokens"):
        text_tokens = out_details.get("text_tokens", 0)
        extra.append(f"out {text_tokens} text/{out_details['audio_tokens']} audio")
    return text + (f" ({', '.join(extra)})" if extra else "")


def response_panel(response: ResponseState) -> Panel:
    """The finished response: its answer, status and reason, usage, timings, metadata.

    Server text is cleaned here (``safe_text``), so every caller prints a safe panel.
    """
    response = visible_response(response)
    body: list[RenderableType] = []
    if response.answer:
        body.append(Text(response.answer))
    for call in response.function_calls:
        body.append(Text(f"→ {call.get('name')}({call.get('arguments')})  {call.get('call_id')}"))
    if response.audio_bytes:
        seconds = response.audio_bytes / 48000
        body.append(Text(f"[audio {response.audio_bytes:,} bytes, ~{seconds:.1f} s]", style="dim"))
    if not body:
        body.append(Text("(no output)", style="dim"))

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    status = Text(response.status, style=STATUS_STYLE.get(response.status, ""))
    if response.reason:
        status.append(f" ({response.reason})")
    grid.add_row("status", status)
    grid.add_row("usage", _usage_line(response.usage))
    start = response.t_request if response.t_request is not None else response.t_created
    timings = []
    if response.t_request is not None:
        timings.append(f"created {_ms(response.t_created - start)}")
    if response.t_first_delta is not None:
        timings.append(f"first delta {_ms(response.t_first_delta - start)}")
    if response.t_done is not None:
        timings.append(f"total {_ms(response.t_done - start)}")
    grid.add_row("timing", " · ".join(timings) or "-")
    if response.metadata:
        grid.add_row("metadata", " ".join(f"{k}={v}" for k, v in response.metadata.items()))
    grid.add_row("conversation", response.conversation_id or "none (out-of-band)")
    body.append(Text(""))
    body.append(grid)
    style = STATUS_STYLE.get(response.status, "white")
    return Panel(
        Group(*body),
        title=f"[bold]{response.id}[/] · [{style}]{response.status}[/]",
        title_align="left",
        border_style=style,
    )


def error_text(error: ErrorInfo) -> Text:
    """One line: code, message, and the client event it answers."""
    style = "yellow" if error.is_notice else "bold red"
    line = Text("notice: " if error.is_notice else "error: ", style=style)
    line.append(f"{error.code or error.type or 'error'}", style=style)
    if error.param:
        line.append(f" ({error.param})")
    line.append(f": {clean(error.message)}")
    if error.event_id:
        cause = error.cause.get("type") if error.cause else "an event rtc did not send"
        line.append(f"  ← answers {error.event_id} ({cause})", style="dim")
    return line


def stderr_console() -> Console:
    return make_console(sys.stderr, stderr=True)


# -- the interactive console's pieces (repl): tables, JSON, log rows, one-line notes -----------

RichConsole = Console  # the type other modules name without importing rich
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def note(message: str, style: str = "dim") -> Text:
    """One line of the console's own voice, never read as markup (server text may hold '[')."""
    return Text(message, style=style)


def error_line(error: ErrorInfo, command: str | None = None) -> Text:
    """``error_text`` plus the console line whose event the server rejected."""
    line = error_text(error)
    if command:
        line.append(f" from `{_short(command, 60)}`", style="dim")
    return line


def log_row(t: float, direction: str, event: JSON) -> Text:
    """One event of the log: time, direction, type, its event_id (for ``show``), key facts."""
    type_ = str(event.get("type"))
    row = Text(no_wrap=True, overflow="ellipsis")
    row.append(f"{t:8.3f} ", style="dim")
    row.append(f"{direction} ", style="bold")
    style = "red" if type_ == Server.error else "magenta" if direction == "→" else "cyan"
    row.append(type_, style=style)
    row.append(f" {event.get('event_id') or '-'}", style="dim")
    if direction == "→":
        bits = [str(event[k]) for k in ("response_id", "item_id") if event.get(k)]
        for key in ("response", "item", "session"):
            if isinstance(event.get(key), dict):
                bits.append(_short(event[key], 70))
        detail = " ".join(bits)
    else:
        detail = summary(event)
    if detail:
        row.append(" " + detail)
    return row


def responses_table(responses: list[ResponseState]) -> Table:
    """Every response of the session: status, reason, tokens, timings, metadata."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name, justify in (
        ("response", "left"),
        ("status", "left"),
        ("reason", "left"),
        ("tokens in/out", "right"),
        ("first", "right"),
        ("total", "right"),
        ("metadata", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=name != "metadata")  # type: ignore[arg-type]
    for r in responses:
        start = r.t_request if r.t_request is not None else r.t_created
        usage = r.usage or {}
        tokens = f"{usage.get('input_tokens', '-')}/{usage.get('output_tokens', r.output_tokens)}"
        table.add_row(
            r.id + ("" if not r.out_of_band else " (oob)"),
            Text(r.status, style=STATUS_STYLE.get(r.status, "")),
            r.reason or "",
            tokens,
            _ms(r.t_first_delta - start) if r.t_first_delta is not None else "-",
            _ms(r.t_done - start) if r.t_done is not None else "-",
            " ".join(f"{k}={v}" for k, v in (r.metadata or {}).items()),
        )
    return table


def items_table(items: list[JSON]) -> Table:
    """The conversation items: id, type, role or name, status, content in short."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in ("item", "type", "role", "status", "content"):
        table.add_column(name, no_wrap=name != "content", overflow="ellipsis")
    for item in items:
        texts = []
        for part in item.get("content") or []:
            if isinstance(part, dict):
                text = part.get("text") or part.get("transcript")
                if text:
                    texts.append(str(text))
                elif part.get("type"):
                    texts.append(f"[{part['type']}]")
        if item.get("type") == "function_call":
            texts.append(f"{item.get('name')}({item.get('arguments')})")
        elif item.get("type") == "function_call_output":
            texts.append(str(item.get("output")))
        table.add_row(
            str(item.get("id")),
            str(item.get("type") or ""),
            str(item.get("role") or item.get("name") or ""),
            str(item.get("status") or ""),
            _short(" ".join(texts), 200),
        )
    return table


def _shorten_base64(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shorten_base64(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten_base64(v) for v in value]
    if isinstance(value, str) and len(value) > 200 and _BASE64.fullmatch(value):
        return f"<base64, {_audio_bytes(value):,} bytes>"
    return value


def json_block(value: Any) -> RenderableType:
    """Pretty JSON (long base64 payloads shown as their size)."""
    return RichJSON.from_data(_shorten_base64(value), indent=2, ensure_ascii=False)


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


def print_row(console: Console, row: Text) -> None:
    """A row as ``EventRows`` prints it: one screen line on a terminal, whole in a log."""
    if console.is_terminal:
        console.print(row, soft_wrap=False, no_wrap=True, overflow="ellipsis", crop=True)
    else:
        console.print(row)


def console_for_repl(file: IO[str]) -> Console:
    """The interactive console's scrollback on a terminal: text word-wraps (a panel keeps its
    whole answer), event rows crop themselves to one line."""
    return Console(file=file, highlight=False, soft_wrap=False)


# -- endpoints: rtc doctor, rtc config, rtc profile ----------------------------------------------

DOCTOR_STYLE = {
    "pass": "green",
    "fail": "bold red",
    "not supported": "yellow",
    "not exercised": "dim",
}


def doctor_table(rows: list[tuple[str, str, str]]) -> Table:
    """``rtc doctor``: one row per check (name, result, detail); server text is never markup."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail")
    for name, status, detail in rows:
        table.add_row(Text(name), Text(status, style=DOCTOR_STYLE.get(status, "")), Text(detail))
    return table


def print_settings(console: Console, rows: list[tuple[str, str, str]]) -> None:
    """``rtc config`` / ``rtc profile show``: a line per setting, its value (already redacted)
    never cropped, then where it came from."""
    width = max((len(name) for name, _, _ in rows), default=0)
    for name, value, source in rows:
        line = Text(f"{name:<{width}}  ", style="bold")
        line.append(value)
        if source:
            line.append(f"  ← {source}", style="dim")
        console.print(line, soft_wrap=True)


def profiles_table(rows: list[tuple[str, str, str, str, str]]) -> Table:
    """``rtc profile list``: name (``*`` marks the default), kind, endpoint, model, key."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in ("profile", "kind", "endpoint", "model", "key"):
        table.add_column(name, no_wrap=name in ("profile", "kind"), overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table
