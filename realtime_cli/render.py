"""Everything rich: event rows, response panels, error lines. The only module importing rich.

Nothing here renders per delta: streaming text is written to the console's file as plain text
(cheap), deltas of one content part are folded into one event row written when the part ends,
and a panel is built once, at ``response.done``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from realtime_cli.events import DELTA_TYPES, JSON, Server, ga_type
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
    return Console(file=file, stderr=stderr, highlight=False, soft_wrap=False, **kwargs)


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
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
        bits.append("modalities=" + ",".join(session.get("output_modalities") or []))
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
    """Compact one-line rows for the event stream, deltas of one part folded into one row."""

    console: Console
    _fold: _Fold | None = field(default=None, init=False)

    def server(self, event: JSON, t: float) -> None:
        type_ = ga_type(str(event.get("type")))
        if type_ in DELTA_TYPES:
            key = tuple(event.get(k) for k in ("response_id", "item_id", "content_index"))
            key = (type_, *key)
            if self._fold is None or self._fold.key != key:
                self.flush()
                self._fold = _Fold(type_, key, t)
            self._fold.count += 1
            delta = event.get("delta")
            if type_ == Server.response_output_audio_delta:
                self._fold.audio += _audio_bytes(delta)
            elif isinstance(delta, str):
                self._fold.chars += len(delta)
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
        fold, self._fold = self._fold, None
        if fold is None:
            return
        size = f"{fold.audio} B audio" if fold.audio else f"{fold.chars} chars"
        ids = " ".join(str(k) for k in fold.key[1:3] if k)
        self._row(fold.t, "←", fold.type, f"×{fold.count} {size} {ids}".strip(), "dim")

    def _row(self, t: float, arrow: str, type_: str, detail: str, style: str) -> None:
        row = Text(no_wrap=True, overflow="ellipsis")
        row.append(f"{t:8.3f} ", style="dim")
        row.append(f"{arrow} ", style="bold")
        row.append(type_, style=style or "cyan")
        if detail:
            row.append(" " + detail, style="dim" if style == "dim" else "")
        self.console.print(row)


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
    """The finished response: its answer, status and reason, usage, timings, metadata."""
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
    line.append(f": {error.message}")
    if error.event_id:
        cause = error.cause.get("type") if error.cause else "an event rtc did not send"
        line.append(f"  ← answers {error.event_id} ({cause})", style="dim")
    return line


def stderr_console() -> Console:
    return make_console(sys.stderr, stderr=True)
