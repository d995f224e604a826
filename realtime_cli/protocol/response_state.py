"""What the tracker keeps of each response and error, and the ``Update`` it returns per event:
plain data, no I/O (``tracker`` fills them in)."""

from __future__ import annotations

from dataclasses import dataclass, field

from realtime_cli.protocol.events import JSON
from realtime_cli.protocol.fields import count, text
from realtime_cli.protocol.text_parts import TextField, TextParts

LOST = "lost"  # rtc's own status of a response cut off by the connection's end (never sent)


@dataclass
class ErrorInfo:
    """A server ``error`` event, with the client event it answers when the server named one."""

    code: str | None
    message: str
    type: str | None
    param: str | None
    event_id: str | None  # the client event_id echoed in error.event_id
    cause: JSON | None  # the client event we sent with that event_id
    t: float
    raw: JSON

    @property
    def is_notice(self) -> bool:
        """Expected in normal use: cancelling what has just finished is a race, not an alarm."""
        return self.code == "response_cancel_not_active"


@dataclass
class ResponseState:
    id: str
    status: str = "in_progress"
    status_details: JSON | None = None
    conversation_id: str | None = None
    metadata: JSON | None = None
    output_modalities: list[str] = field(default_factory=list)
    # Built from deltas in parts (O(1) each), read as plain strings: see text_parts.
    text: TextField = TextField()  # noqa: RUF009 (a descriptor, not a shared default)
    transcript: TextField = TextField()  # noqa: RUF009
    audio_bytes: int = 0
    # The output audio format as the server names it (GA "audio/pcmu" or beta "g711_ulaw"):
    # the response's own, else the session's when it was created. Durations depend on it.
    audio_format: str | None = None
    deltas: int = 0
    usage: JSON | None = None
    function_calls: list[JSON] = field(default_factory=list)
    output: list[JSON] = field(default_factory=list)
    request_event_id: str | None = None  # event_id of the response.create that started it
    t_request: float | None = None
    t_created: float = 0.0
    t_first_delta: float | None = None
    t_done: float | None = None
    raw: JSON = field(default_factory=dict)
    # Voice: when the user's speech stopped, for a response server VAD started (the latency a
    # user feels runs from there to the first audio delta), and how much of its audio was
    # played (set by the player; None when nothing plays it).
    t_speech_stopped: float | None = None
    audio_played_ms: int | None = None

    @property
    def active(self) -> bool:
        return self.t_done is None

    @property
    def out_of_band(self) -> bool:
        """``conversation: "none"``: the server reports a null conversation_id."""
        return "conversation_id" in self.raw and self.raw["conversation_id"] is None

    @property
    def reason(self) -> str | None:
        details = self.status_details or {}
        if details.get("reason"):
            return text(details["reason"])
        error = details.get("error")
        if isinstance(error, dict):
            # A failed response: the error's code and message, as the server sent them.
            code = text(error.get("code") or error.get("type"))
            message = text(error.get("message"))
            return ": ".join(part for part in (code, message) if part) or None
        return None

    @property
    def output_tokens(self) -> int:
        """Tokens so far: the usage when done, one per text/transcript delta while streaming."""
        if self.usage:
            return count(self.usage.get("output_tokens"))
        return self.deltas

    @property
    def answer(self) -> str:
        return self.text or self.transcript

    def parts(self, attribute: str) -> TextParts:
        """The builder of ``text`` or ``transcript``."""
        return _FIELDS[attribute].parts(self)

    @property
    def answer_parts(self) -> TextParts:
        """The answer's builder: its length and its end are read without joining it."""
        text_parts = self.parts("text")
        return text_parts if text_parts else self.parts("transcript")


_FIELDS: dict[str, TextField] = {
    "text": ResponseState.__dict__["text"],
    "transcript": ResponseState.__dict__["transcript"],
}


@dataclass
class Update:
    """What one server event changed. ``delta`` is new text/transcript to show, if any."""

    type: str  # the GA type
    event: JSON
    response: ResponseState | None = None
    delta: str = ""
    finished: bool = False  # this event was the response's response.done
    error: ErrorInfo | None = None
