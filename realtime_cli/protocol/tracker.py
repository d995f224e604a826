"""Session state as a user asks about it, built from the events both ways. No I/O.

``Tracker.sent`` records every client event rtc sends; ``Tracker.feed`` takes every parsed server
event and returns an ``Update`` saying what changed. From these it keeps the session, the
conversation items, every response (status, text, transcript, audio bytes, usage, timings,
metadata) and every ``error`` tied to the client event that caused it (``error.event_id``).

Beta event names are mapped onto their GA twins first, so old servers and recordings track the
same. Times are whatever clock the caller passes (seconds, monotonic); the tracker never reads one.

Any JSON is accepted (``guards``): what the state keeps has the types its fields declare, so code
that shows it never meets a list where an id belongs, and usage holds integers only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from realtime_cli.protocol.events import JSON, Client, Server, ga_type
from realtime_cli.protocol.fields import base64_size, count, obj, opt_text, seq, text
from realtime_cli.protocol.response_state import LOST, ErrorInfo, ResponseState, Update

__all__ = ["LOST", "ErrorInfo", "ResponseState", "Tracker", "Update"]

SENT_KEPT = 10_000  # client events remembered for error correlation (the newest)
_SMALL = 256  # longer strings of a sent event (instructions, say) are not kept
# Keyed by the type strings (a StrEnum member hashes as its string): no Server(...) per event.
_TEXT_DELTAS: dict[str, str] = {
    Server.response_output_text_delta: "text",
    Server.response_output_audio_transcript_delta: "transcript",
}
_TEXT_DONES: dict[str, tuple[str, str]] = {
    Server.response_output_text_done: ("text", "text"),
    Server.response_output_audio_transcript_done: ("transcript", "transcript"),
}


@dataclass
class _PendingCreate:
    event_id: str | None
    t: float


class Tracker:
    def __init__(self) -> None:
        self.session: JSON | None = None
        self.items: dict[str, JSON] = {}
        self.responses: dict[str, ResponseState] = {}
        self._active: dict[str, ResponseState] = {}  # not yet done: read per redraw, O(active)
        self.errors: list[ErrorInfo] = []
        self.rate_limits: list[JSON] = []
        # event_id → what error correlation needs of a sent event: its type and small fields
        # (never an audio chunk), for the newest SENT_KEPT events.
        self.sent_events: dict[str, JSON] = {}
        self.server_events = 0
        self._speech_stopped: float | None = None  # the latest, until a response claims it
        # response.created does not name the response.create it answers; they are answered in
        # order, so pending creates are matched first in, first out.
        self._pending: deque[_PendingCreate] = deque()

    # -- client side ---------------------------------------------------------------------------

    def sent(self, event: JSON, t: float) -> None:
        event_id = event.get("event_id")
        if isinstance(event_id, str):
            self.sent_events[event_id] = _small_fields(event)
            while len(self.sent_events) > SENT_KEPT:
                del self.sent_events[next(iter(self.sent_events))]
        if event.get("type") == Client.response_create:
            self._pending.append(_PendingCreate(event_id if isinstance(event_id, str) else None, t))

    # -- queries ------------------------------------------------------------------------------

    @property
    def active(self) -> list[ResponseState]:
        return list(self._active.values())

    def active_default(self) -> ResponseState | None:
        """The active response writing to the default conversation, if any."""
        for response in self.active:
            if not response.out_of_band:
                return response
        return None

    def response_for_request(self, event_id: str) -> ResponseState | None:
        for response in self.responses.values():
            if response.request_event_id == event_id:
                return response
        return None

    def error_for(self, event_id: str) -> ErrorInfo | None:
        for error in self.errors:
            if error.event_id == event_id:
                return error
        return None

    @property
    def expires_at(self) -> int | None:
        value = (self.session or {}).get("expires_at")
        return value if isinstance(value, int) else None

    def lost(self, t: float) -> list[ResponseState]:
        """The connection closed at ``t``: every active response ends there, with the local
        status ``lost`` (no server sends it; its ``response.done`` will never come). Returns
        the responses it closed. Creates still waiting for ``response.created`` are dropped."""
        closed = self.active
        for response in closed:
            response.status = LOST
            response.t_done = t
        self._active.clear()
        self._pending.clear()
        return closed

    # -- server side --------------------------------------------------------------------------

    def feed(self, event: JSON, t: float) -> Update:
        self.server_events += 1
        type_ = ga_type(text(event.get("type")))
        update = Update(type_, event)
        handler = _HANDLERS.get(type_)
        if handler:
            handler(self, event, t, update)
        elif isinstance(event.get("response_id"), str):
            update.response = self.responses.get(event["response_id"])
        return update

    def _response(self, event: JSON) -> ResponseState | None:
        response_id = event.get("response_id")
        return self.responses.get(response_id) if isinstance(response_id, str) else None

    def _on_session(self, event: JSON, t: float, update: Update) -> None:
        session = event.get("session")
        if isinstance(session, dict):
            self.session = session

    def _on_item(self, event: JSON, t: float, update: Update) -> None:
        item = event.get("item")
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            self.items[item["id"]] = item

    def _on_item_deleted(self, event: JSON, t: float, update: Update) -> None:
        self.items.pop(text(event.get("item_id")), None)

    def _on_created(self, event: JSON, t: float, update: Update) -> None:
        raw = event.get("response")
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            return
        pending = self._pending.popleft() if self._pending else None
        response = ResponseState(id=raw["id"], t_created=t)
        if pending:
            response.request_event_id = pending.event_id
            response.t_request = pending.t
        else:  # started by the server: after speech, the turn's latency counts from its end
            response.t_speech_stopped, self._speech_stopped = self._speech_stopped, None
        self.responses[response.id] = self._active[response.id] = response
        _apply_response(response, raw)
        response.audio_format = response.audio_format or _output_format(self.session)
        update.response = response

    def _on_done(self, event: JSON, t: float, update: Update) -> None:
        raw = event.get("response")
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            return
        response = self.responses.get(raw["id"])
        if response is None:  # joined mid-response (or a recording cut short): still show it
            response = self.responses[raw["id"]] = ResponseState(id=raw["id"], t_created=t)
        _apply_response(response, raw)
        response.t_done = t
        self._active.pop(response.id, None)
        # A text/transcript we missed deltas for (e.g. a partial recording) is still shown.
        if not response.answer_parts:
            response.text, response.transcript = _final_text(raw)
        update.response = response
        update.finished = True

    def _on_text_delta(self, event: JSON, t: float, update: Update) -> None:
        response = self._response(event)
        delta = event.get("delta")
        # After its response.done (a server bug, but servers have them) the text is final.
        if response is None or not response.active or not isinstance(delta, str):
            return
        response.parts(_TEXT_DELTAS[update.type]).append(delta)
        response.deltas += 1
        if response.t_first_delta is None:
            response.t_first_delta = t
        update.response = response
        update.delta = delta

    def _on_text_done(self, event: JSON, t: float, update: Update) -> None:
        response = self._response(event)
        attribute, key = _TEXT_DONES[update.type]
        final = event.get(key)
        if response is not None and isinstance(final, str) and not response.parts(attribute):
            setattr(response, attribute, final)
        update.response = response

    def _on_audio_delta(self, event: JSON, t: float, update: Update) -> None:
        response = self._response(event)
        delta = event.get("delta")
        if response is None or not isinstance(delta, str):
            return
        response.audio_bytes += base64_size(delta)
        if response.t_first_delta is None:
            response.t_first_delta = t
        update.response = response

    def _on_function_args_done(self, event: JSON, t: float, update: Update) -> None:
        response = self._response(event)
        if response is not None:
            response.function_calls.append(
                {k: text(event.get(k)) for k in ("name", "call_id", "arguments", "item_id")}
            )
        update.response = response

    def _on_function_args_delta(self, event: JSON, t: float, update: Update) -> None:
        response = self._response(event)
        if response is not None and response.t_first_delta is None:
            response.t_first_delta = t
        update.response = response

    def _on_error(self, event: JSON, t: float, update: Update) -> None:
        body = obj(event.get("error"))
        event_id = body.get("event_id")
        event_id = event_id if isinstance(event_id, str) else None
        cause = self.sent_events.get(event_id) if event_id else None
        # A rejected response.create will never get its response.created.
        if cause and cause.get("type") == Client.response_create:
            self._pending = deque(p for p in self._pending if p.event_id != event_id)
        error = ErrorInfo(
            code=opt_text(body.get("code")),
            message=text(body.get("message")),
            type=opt_text(body.get("type")),
            param=opt_text(body.get("param")),
            event_id=event_id,
            cause=cause,
            t=t,
            raw=event,
        )
        self.errors.append(error)
        update.error = error

    def _on_speech_stopped(self, event: JSON, t: float, update: Update) -> None:
        self._speech_stopped = t

    def _on_rate_limits(self, event: JSON, t: float, update: Update) -> None:
        limits = event.get("rate_limits")
        if isinstance(limits, list):
            self.rate_limits = limits


def _apply_response(response: ResponseState, raw: JSON) -> None:
    response.raw = raw
    response.status = text(raw.get("status")) or response.status
    details = raw.get("status_details")
    response.status_details = details if isinstance(details, dict) else None
    conversation_id = raw.get("conversation_id")
    response.conversation_id = conversation_id if isinstance(conversation_id, str) else None
    metadata = raw.get("metadata")
    response.metadata = metadata if isinstance(metadata, dict) else None
    modalities = raw.get("output_modalities") or raw.get("modalities")
    if isinstance(modalities, list):
        response.output_modalities = [text(m) for m in modalities]
    usage = raw.get("usage")
    if isinstance(usage, dict):
        response.usage = _usage(usage)
    output = raw.get("output")
    if isinstance(output, list):
        response.output = output
    response.audio_format = _output_format(raw) or response.audio_format


def _output_format(config: JSON | None) -> str | None:
    """The output audio format a session or response object names (GA or beta), if any."""
    audio = obj(obj(obj(config).get("audio")).get("output")).get("format")
    name = audio.get("type") if isinstance(audio, dict) else audio
    if not isinstance(name, str):
        name = obj(config).get("output_audio_format")
    return name if isinstance(name, str) else None


def _final_text(raw: JSON) -> tuple[str, str]:
    texts: list[str] = []
    transcripts: list[str] = []
    for item in seq(raw.get("output")):
        for part in seq(obj(item).get("content")):
            if isinstance(part, dict):
                texts.append(text(part.get("text")))
                transcripts.append(text(part.get("transcript")))
    return "".join(texts), "".join(transcripts)


def _usage(raw: JSON) -> JSON:
    """Usage with integers only: the three totals always (total = in + out when missing), the
    ``*_token_details`` objects (two levels deep) with whatever counts they hold."""
    usage = _counts(raw)
    usage["input_tokens"] = count(raw.get("input_tokens"))
    usage["output_tokens"] = count(raw.get("output_tokens"))
    usage["total_tokens"] = count(
        raw.get("total_tokens"), usage["input_tokens"] + usage["output_tokens"]
    )
    return usage


def _counts(value: JSON, depth: int = 0) -> JSON:
    kept: JSON = {}
    for key, field_value in value.items():
        if isinstance(field_value, dict):
            if depth < 2:
                kept[key] = _counts(field_value, depth + 1)
        else:
            kept[key] = count(field_value)
    return kept


def _small_fields(event: JSON) -> JSON:
    """A sent event as errors need it: its type and other scalars, short strings only, and never
    ``audio`` (each ``input_audio_buffer.append`` carries up to 15 MiB of it)."""
    return {
        key: value
        for key, value in event.items()
        if key != "audio"
        and (
            value is None
            or isinstance(value, bool | int | float)
            or (isinstance(value, str) and len(value) <= _SMALL)
        )
    }


_Handler = Callable[[Tracker, JSON, float, Update], None]
_HANDLERS: dict[str, _Handler] = {
    Server.session_created: Tracker._on_session,
    Server.session_updated: Tracker._on_session,
    Server.conversation_item_added: Tracker._on_item,
    Server.conversation_item_done: Tracker._on_item,
    Server.conversation_item_created: Tracker._on_item,
    Server.conversation_item_retrieved: Tracker._on_item,
    Server.conversation_item_deleted: Tracker._on_item_deleted,
    Server.response_created: Tracker._on_created,
    Server.response_done: Tracker._on_done,
    Server.response_output_text_delta: Tracker._on_text_delta,
    Server.response_output_audio_transcript_delta: Tracker._on_text_delta,
    Server.response_output_text_done: Tracker._on_text_done,
    Server.response_output_audio_transcript_done: Tracker._on_text_done,
    Server.response_output_audio_delta: Tracker._on_audio_delta,
    Server.response_function_call_arguments_delta: Tracker._on_function_args_delta,
    Server.response_function_call_arguments_done: Tracker._on_function_args_done,
    Server.error: Tracker._on_error,
    Server.rate_limits_updated: Tracker._on_rate_limits,
    Server.input_audio_buffer_speech_stopped: Tracker._on_speech_stopped,
}
