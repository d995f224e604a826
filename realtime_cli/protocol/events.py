"""The event catalog: every wire ``type`` string, spelled once, exactly as the protocol spells it.

Also the small pieces every side needs: ids, client-event builders, and parsing a server frame.
Validation of client events lives in ``schema.py``; this module holds no I/O.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import string
import sys
from enum import StrEnum
from typing import Any

from realtime_cli.protocol.values import (  # re-exported: the catalog is read from here
    CONVERSATION_MODES as CONVERSATION_MODES,
)
from realtime_cli.protocol.values import (
    MODALITIES as MODALITIES,
)
from realtime_cli.protocol.values import (
    TOOL_CHOICE_MODES as TOOL_CHOICE_MODES,
)
from realtime_cli.protocol.values import (
    VOICES as VOICES,
)

JSON = dict[str, Any]


class Client(StrEnum):
    """Client events accepted by the GA server (protocol.md §2)."""

    session_update = "session.update"
    input_audio_buffer_append = "input_audio_buffer.append"
    input_audio_buffer_commit = "input_audio_buffer.commit"
    input_audio_buffer_clear = "input_audio_buffer.clear"
    output_audio_buffer_clear = "output_audio_buffer.clear"
    conversation_item_create = "conversation.item.create"
    conversation_item_retrieve = "conversation.item.retrieve"
    conversation_item_truncate = "conversation.item.truncate"
    conversation_item_delete = "conversation.item.delete"
    response_create = "response.create"
    response_cancel = "response.cancel"


class Server(StrEnum):
    """GA server events (protocol.md §3 and §8)."""

    error = "error"
    session_created = "session.created"
    session_updated = "session.updated"
    conversation_created = "conversation.created"
    conversation_item_added = "conversation.item.added"
    conversation_item_done = "conversation.item.done"
    conversation_item_created = "conversation.item.created"
    conversation_item_retrieved = "conversation.item.retrieved"
    conversation_item_truncated = "conversation.item.truncated"
    conversation_item_deleted = "conversation.item.deleted"
    input_audio_buffer_committed = "input_audio_buffer.committed"
    input_audio_buffer_cleared = "input_audio_buffer.cleared"
    input_audio_buffer_speech_started = "input_audio_buffer.speech_started"
    input_audio_buffer_speech_stopped = "input_audio_buffer.speech_stopped"
    input_audio_buffer_timeout_triggered = "input_audio_buffer.timeout_triggered"
    input_audio_buffer_dtmf_event_received = "input_audio_buffer.dtmf_event_received"
    input_transcription_delta = "conversation.item.input_audio_transcription.delta"
    input_transcription_completed = "conversation.item.input_audio_transcription.completed"
    input_transcription_segment = "conversation.item.input_audio_transcription.segment"
    input_transcription_failed = "conversation.item.input_audio_transcription.failed"
    response_created = "response.created"
    response_done = "response.done"
    response_output_item_added = "response.output_item.added"
    response_output_item_done = "response.output_item.done"
    response_content_part_added = "response.content_part.added"
    response_content_part_done = "response.content_part.done"
    response_output_text_delta = "response.output_text.delta"
    response_output_text_done = "response.output_text.done"
    response_output_audio_delta = "response.output_audio.delta"
    response_output_audio_done = "response.output_audio.done"
    response_output_audio_transcript_delta = "response.output_audio_transcript.delta"
    response_output_audio_transcript_done = "response.output_audio_transcript.done"
    response_function_call_arguments_delta = "response.function_call_arguments.delta"
    response_function_call_arguments_done = "response.function_call_arguments.done"
    response_mcp_call_arguments_delta = "response.mcp_call_arguments.delta"
    response_mcp_call_arguments_done = "response.mcp_call_arguments.done"
    response_mcp_call_in_progress = "response.mcp_call.in_progress"
    response_mcp_call_completed = "response.mcp_call.completed"
    response_mcp_call_failed = "response.mcp_call.failed"
    mcp_list_tools_in_progress = "mcp_list_tools.in_progress"
    mcp_list_tools_completed = "mcp_list_tools.completed"
    mcp_list_tools_failed = "mcp_list_tools.failed"
    output_audio_buffer_started = "output_audio_buffer.started"
    output_audio_buffer_stopped = "output_audio_buffer.stopped"
    output_audio_buffer_cleared = "output_audio_buffer.cleared"
    rate_limits_updated = "rate_limits.updated"


# Older servers and recordings speak the beta protocol; these names map onto their GA twins so
# they are tracked and rendered the same way (protocol.md §3.12).
BETA_TO_GA: dict[str, Server] = {
    "response.text.delta": Server.response_output_text_delta,
    "response.text.done": Server.response_output_text_done,
    "response.audio.delta": Server.response_output_audio_delta,
    "response.audio.done": Server.response_output_audio_done,
    "response.audio_transcript.delta": Server.response_output_audio_transcript_delta,
    "response.audio_transcript.done": Server.response_output_audio_transcript_done,
    # A beta transcription session's answer to transcription_session.update; GA answers a
    # session.update with type "transcription" with session.updated.
    "transcription_session.updated": Server.session_updated,
}

DELTA_TYPES = frozenset(
    {
        Server.response_output_text_delta,
        Server.response_output_audio_delta,
        Server.response_output_audio_transcript_delta,
        Server.response_function_call_arguments_delta,
        Server.response_mcp_call_arguments_delta,
        Server.input_transcription_delta,
    }
)


_ID_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """An id shaped like the live service's: a prefix and 21 alphanumerics (``resp_Cdul...``)."""
    return prefix + "_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(21))


def ga_type(type_: str) -> str:
    """The GA name of a server event type (beta names mapped, everything else unchanged)."""
    return BETA_TO_GA.get(type_, type_)


# -- reading JSON that comes from outside (stdin, a typed line, a file, the network) -----------

# Deeper JSON is refused as input: no client event nests anywhere near this, and everything that
# walks a value afterwards (validation, ``$last_response`` substitution, rendering) recurses.
MAX_DEPTH = 128


class Refused(ValueError):
    """Text that Python's json module would take but that is not input rtc accepts: ``NaN`` or
    ``Infinity`` (not JSON), a number too large for a float or with too many digits, or nesting
    deeper than ``MAX_DEPTH``. ``token`` is the offending number as written, when known."""

    def __init__(self, reason: str, token: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.token = token


def _constant(token: str) -> Any:
    raise Refused(f"{token} is not JSON (JSON numbers are finite)", token)


def _finite(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise Refused(f"number {token} is too large (JSON numbers are finite)", token)
    return value


_DECODER = json.JSONDecoder(parse_constant=_constant, parse_float=_finite)
_NUMBER_OR_STRING = re.compile(
    r'"[^"\\]*(?:\\.[^"\\]*)*"'  # a string (skipped over)
    r"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|NaN|-?Infinity"
)


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth >= MAX_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


def raw_decode(text: str, pos: int = 0) -> tuple[Any, int]:
    """``json.JSONDecoder.raw_decode`` for input: a syntax error is a ``json.JSONDecodeError``,
    JSON rtc refuses (see ``Refused``) a ``Refused``; both are ``ValueError``s."""
    try:
        value, end = _DECODER.raw_decode(text, pos)
    except (json.JSONDecodeError, Refused):
        raise
    except RecursionError:
        raise Refused(f"JSON nested too deeply (more than {MAX_DEPTH} levels)") from None
    except ValueError:  # an integer of more digits than Python converts (4300)
        digits = sys.get_int_max_str_digits()
        raise Refused(f"number too long (more than {digits} digits)") from None
    # Fewer brackets in the text than MAX_DEPTH cannot nest that deep: counted in C, where a
    # walk of every event cost more than its parse (a million deltas).
    shallow = text.count("{", pos, end) + text.count("[", pos, end) < MAX_DEPTH
    if not shallow and isinstance(value, dict | list) and _too_deep(value):
        raise Refused(f"JSON nested too deeply (more than {MAX_DEPTH} levels)")
    return value, end


def loads(text: str) -> Any:
    """``json.loads`` for input (see ``raw_decode``)."""
    start = len(text) - len(text.lstrip(" \t\n\r"))
    value, end = raw_decode(text, start)
    rest = len(text) - len(text[end:].lstrip(" \t\n\r"))
    if rest != len(text):
        raise json.JSONDecodeError("Extra data", text, rest)
    return value


def refused_at(text: str, start: int, exc: Refused) -> int:
    """Where in ``text`` the number ``exc`` names is, in the value starting at ``start``
    (``start`` itself when unknown). The value is valid JSON up to that number, so the first
    string-or-number token equal to it outside strings is the one (an earlier equal one would
    have been refused first)."""
    if exc.token is not None:
        for match in _NUMBER_OR_STRING.finditer(text, start):
            if match.group() == exc.token:
                return match.start()
    return start


class FrameError(ValueError):
    """A server frame that is not a JSON object with a string ``type``."""


def parse_server_frame(frame: str | bytes) -> JSON:
    """Parse one server frame. Unknown types are kept as they are: a new event must never crash."""
    if isinstance(frame, bytes):
        raise FrameError(f"binary frame of {len(frame)} bytes (the protocol sends text JSON)")
    try:
        event = loads(frame)
    except json.JSONDecodeError as exc:
        raise FrameError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    except Refused as exc:
        raise FrameError(f"not JSON ({exc.reason})") from None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise FrameError("not a JSON object with a string 'type'")
    return event


def encode(event: JSON) -> str:
    """The wire form of a client event: compact JSON, non-ASCII kept as is. A NaN or infinity
    (never valid: validation refuses them) raises ``ValueError`` rather than go out as non-JSON."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def user_message(text: str) -> JSON:
    """A user text message item (protocol.md §2.10)."""
    return {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": text}],
    }


def item_create(item: JSON, event_id: str | None = None) -> JSON:
    event: JSON = {"type": Client.conversation_item_create, "item": item}
    if event_id:
        event["event_id"] = event_id
    return event


def response_create(response: JSON | None = None, event_id: str | None = None) -> JSON:
    event: JSON = {"type": Client.response_create}
    if response:
        event["response"] = response
    if event_id:
        event["event_id"] = event_id
    return event


def response_cancel(response_id: str | None = None, event_id: str | None = None) -> JSON:
    event: JSON = {"type": Client.response_cancel}
    if response_id:
        event["response_id"] = response_id
    if event_id:
        event["event_id"] = event_id
    return event
