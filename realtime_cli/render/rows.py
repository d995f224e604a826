"""The event stream as compact one-line rows: ``rtc create --events``, ``rtc pipe --pretty``,
``rtc replay`` and the console's events view and ``events`` log.

Nothing here renders per delta: deltas of one content part are folded into one row, written when
the part ends. Every server value is read through ``guards`` (any JSON is fine) and shown through
``safe`` (never markup, never raw control characters).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.text import Text

from realtime_cli.protocol.events import DELTA_TYPES, JSON, Client, Server, ga_type
from realtime_cli.protocol.fields import base64_size, obj, seq, text
from realtime_cli.render.console import print_row
from realtime_cli.render.safe import one_line

_ID_KEYS = ("response_id", "item_id", "call_id", "previous_item_id")
_FOLD_KEYS = ("response_id", "item_id", "content_index")
_TYPE_WIDTH = 80  # a type longer than any the protocol has is shown shortened
_ID_WIDTH = 60


def _id(value: object) -> str:
    return one_line(value, _ID_WIDTH)


def summary(event: JSON) -> str:
    """The key facts of one event in a few words: ids, status, sizes — never base64 audio."""
    type_ = ga_type(text(event.get("type")))
    bits: list[str] = []
    if type_ in (Server.response_created, Server.response_done):
        response = obj(event.get("response"))
        bits += [_id(response.get("id")), _id(response.get("status"))]
        reason = obj(response.get("status_details")).get("reason")
        if reason:
            bits.append(f"reason={_id(reason)}")
        if response.get("conversation_id") is None and "conversation_id" in response:
            bits.append("out-of-band")
    elif type_ == Server.error:
        error = obj(event.get("error"))
        bits += [_id(error.get("code")), one_line(error.get("message"), 70)]
        if error.get("event_id"):
            bits.append(f"event_id={_id(error['event_id'])}")
    elif type_ in (Server.session_created, Server.session_updated):
        session = obj(event.get("session"))
        bits += [_id(session.get("id")), _id(session.get("model"))]
        modalities = session.get("output_modalities") or session.get("modalities")  # beta
        bits.append("modalities=" + ",".join(_id(m) for m in seq(modalities)))
    elif isinstance(event.get("item"), dict):
        item = event["item"]
        bits += [_id(item.get("id")), _id(item.get("type"))]
        bits += [_id(item[k]) for k in ("role", "name", "status") if item.get(k)]
        if item.get("server_label"):  # MCP items: which server
            bits.append("server=" + _id(item["server_label"]))
    for key in _ID_KEYS:
        value = _id(event.get(key))
        if value and value not in bits:
            bits.append(value)
    if type_ == Server.response_output_audio_delta:
        bits.append(f"{base64_size(event.get('delta'))} B audio")
    elif isinstance(event.get("delta"), str):
        bits.append(repr(one_line(event["delta"], 40)))
    for key in ("text", "transcript", "arguments"):
        if isinstance(event.get(key), str):
            bits.append(repr(one_line(event[key], 50)))
    if type_ == Server.rate_limits_updated:
        for limit in seq(event.get("rate_limits")):
            if isinstance(limit, dict):
                name, left, of = (_id(limit.get(k)) for k in ("name", "remaining", "limit"))
                bits.append(f"{name} {left}/{of}")
    return " ".join(b for b in bits if b)


def _client_detail(event: JSON) -> str:
    bits = [_id(event.get(k)) for k in ("response_id", "item_id")]
    for key in ("response", "item", "session"):
        if isinstance(event.get(key), dict):
            bits.append(one_line(event[key], 70))
    return " ".join(b for b in bits if b)


@dataclass
class _Fold:
    type: str
    ids: tuple[str, ...]
    t: float
    count: int = 0
    chars: int = 0
    audio: int = 0
    arrow: str = "←"


@dataclass
class EventRows:
    """Compact one-line rows for the event stream.

    Deltas are folded: one row per content part (``×N``, characters or audio bytes), written
    when the next non-delta event arrives. Parts are keyed separately because a live audio
    response interleaves transcript and audio deltas.
    """

    console: Console
    _folds: dict[tuple[str, ...], _Fold] = field(default_factory=dict, init=False)

    def server(self, event: JSON, t: float) -> None:
        type_ = ga_type(text(event.get("type")))
        if type_ in DELTA_TYPES:
            ids = tuple(text(event.get(k)) for k in _FOLD_KEYS)
            fold = self._folds.get((type_, *ids))
            if fold is None:
                fold = self._folds[(type_, *ids)] = _Fold(type_, ids, t)
            fold.count += 1
            delta = event.get("delta")
            if type_ == Server.response_output_audio_delta:
                fold.audio += base64_size(delta)
            elif isinstance(delta, str):
                fold.chars += len(delta)
            return
        self.flush()
        self._row(t, "←", type_, summary(event), "red" if type_ == Server.error else "")

    def client(self, event: JSON, t: float) -> None:
        if event.get("type") == Client.input_audio_buffer_append:  # a stream: one row per run
            fold = self._folds.get((Client.input_audio_buffer_append,))
            if fold is None:
                fold = _Fold(Client.input_audio_buffer_append, (), t, arrow="→")
                self._folds[(Client.input_audio_buffer_append,)] = fold
            fold.count += 1
            fold.audio += base64_size(event.get("audio"))
            return
        self.flush()
        bits = [_id(event.get("event_id")), _id(event.get("response_id"))]
        if isinstance(event.get("response"), dict):
            bits.append(one_line(event["response"], 70))
        detail = " ".join(b for b in bits if b)
        self._row(t, "→", text(event.get("type")), detail, "magenta")

    def flush(self) -> None:
        folds, self._folds = self._folds, {}
        for fold in folds.values():
            audio = fold.type in (
                Server.response_output_audio_delta,
                Client.input_audio_buffer_append,
            )
            size = f"{fold.audio} B audio" if audio else f"{fold.chars} chars"
            ids = " ".join(_id(i) for i in fold.ids[:2] if i)
            self._row(fold.t, fold.arrow, fold.type, f"×{fold.count} {size} {ids}".strip(), "dim")

    def _row(self, t: float, arrow: str, type_: str, detail: str, style: str) -> None:
        row = Text()
        row.append(f"{t:8.3f} ", style="dim")
        row.append(f"{arrow} ", style="bold")
        row.append(one_line(type_, _TYPE_WIDTH), style=style or "cyan")
        if detail:
            row.append(" " + detail, style="dim" if style == "dim" else "")
        print_row(self.console, row)


def log_row(t: float, direction: str, event: JSON) -> Text:
    """One event of the log: time, direction, type, its event_id (for ``show``), key facts."""
    type_ = one_line(event.get("type"), _TYPE_WIDTH)
    row = Text(no_wrap=True, overflow="ellipsis")
    row.append(f"{t:8.3f} ", style="dim")
    row.append(f"{direction} ", style="bold")
    style = "red" if type_ == Server.error else "magenta" if direction == "→" else "cyan"
    row.append(type_, style=style)
    row.append(f" {_id(event.get('event_id')) or '-'}", style="dim")
    detail = _client_detail(event) if direction == "→" else summary(event)
    if detail:
        row.append(" " + detail)
    return row
