"""The session state machine of the local Realtime server. No I/O, no asyncio.

``Session.handle(frame)`` takes one client frame and returns the events to send at once.
A ``response.create`` also starts a ``Response`` that the app collects with ``take_started()``
and advances one token at a time (``response.py``). Every client error is non-fatal: one
``error`` event, nothing applied, and the session goes on (protocol.md §1.6).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import time
from collections.abc import Callable
from typing import Any

from realtime_cli.audio import codecs as audio
from realtime_cli.protocol import validate as shapes
from realtime_cli.protocol.events import JSON, Client, Server
from realtime_cli.protocol.schema import Problem, type_name
from realtime_cli.server.config import apply_update, default_session
from realtime_cli.server.conversation import Conversation, prepare_item
from realtime_cli.server.model import render_instructions
from realtime_cli.server.response import Response, Spec
from realtime_cli.server.turns import Listener, transcript_of, transcription_events
from realtime_cli.server.wire import Rejected, error_event, event, without_audio

# The types the server accepts, in the order the live service lists them in its error message.
# ``output_audio_buffer.clear`` is WebRTC/SIP only, so a WebSocket session refuses it.
SUPPORTED = (
    Client.session_update,
    Client.input_audio_buffer_append,
    Client.input_audio_buffer_commit,
    Client.input_audio_buffer_clear,
    Client.conversation_item_create,
    Client.conversation_item_truncate,
    Client.conversation_item_delete,
    Client.conversation_item_retrieve,
    Client.response_create,
    Client.response_cancel,
)
MIN_COMMIT_MS = 100
MAX_APPEND_BYTES = 15 * 1024 * 1024


def unsupported_type_message(type_: str) -> str:
    listed = ", ".join(f"'{t}'" for t in SUPPORTED[:-1])
    return f"Invalid value: '{type_}'. Supported values are: {listed}, and '{SUPPORTED[-1]}'."


class Session:
    """One client's session: its configuration, the conversation, the input audio buffer and the
    responses in flight."""

    def __init__(self, model: str, clock: Callable[[], float] = time.time) -> None:
        self.config = default_session(model, clock())
        self.conversation = Conversation()
        self.buffer = bytearray()
        self.listener = Listener()  # server VAD: where the buffer is in audio time
        self.responses: list[Response] = []  # unfinished, oldest first
        self._started: list[Response] = []
        self._audio_sent = False
        self._handlers: dict[str, Callable[[JSON], list[JSON]]] = {
            Client.session_update: self._session_update,
            Client.input_audio_buffer_append: self._append,
            Client.input_audio_buffer_commit: self._commit,
            Client.input_audio_buffer_clear: self._clear,
            Client.conversation_item_create: self._item_create,
            Client.conversation_item_retrieve: self._item_retrieve,
            Client.conversation_item_delete: self._item_delete,
            Client.conversation_item_truncate: self._item_truncate,
            Client.response_create: self._response_create,
            Client.response_cancel: self._response_cancel,
        }

    def open(self) -> list[JSON]:
        """The first frame: ``session.created`` with the full default configuration."""
        return [event(Server.session_created, session=copy.deepcopy(self.config))]

    @property
    def active(self) -> Response | None:
        """The response writing to the default conversation, if one is in progress."""
        return next((r for r in self.responses if r.in_conversation and not r.finished), None)

    def take_started(self) -> list[Response]:
        """Responses created since the last call; the caller advances each with ``step()``."""
        started, self._started = self._started, []
        return started

    def handle(self, frame: str | bytes) -> list[JSON]:
        """The events that answer one client frame right away."""
        self.responses = [r for r in self.responses if not r.finished]
        if isinstance(frame, bytes):
            message = "Expected a text WebSocket message; binary frames are not supported."
            return [error_event("invalid_event", message)]
        try:
            parsed: Any = json.loads(frame)
        except (ValueError, RecursionError) as exc:
            detail = f" {exc.msg}." if isinstance(exc, json.JSONDecodeError) else ""
            message = f"Invalid event: failed to parse JSON value.{detail}"
            return [error_event("invalid_json", message)]
        client_event_id = None
        if isinstance(parsed, dict) and isinstance(parsed.get("event_id"), str):
            client_event_id = parsed["event_id"]
        try:
            return self._dispatch(parsed)
        except Rejected as rejected:
            return [error_event(rejected.code, rejected.message, rejected.param, client_event_id)]

    def _dispatch(self, parsed: Any) -> list[JSON]:
        if not isinstance(parsed, dict):
            raise Rejected(
                "invalid_event",
                f"Invalid event: expected a JSON object, got {type_name(parsed)}.",
            )
        type_ = parsed.get("type")
        if type_ is None:
            raise Rejected("invalid_event", "The 'type' field is missing.")
        if not isinstance(type_, str):
            raise Rejected.from_problem(
                Problem("invalid_type", "type", f"expected a string, got {type_name(type_)}")
            )
        if type_ not in SUPPORTED:
            raise Rejected("invalid_value", unsupported_type_message(type_), "type")
        problem = shapes.validate(parsed)
        if problem is not None:
            raise Rejected.from_problem(problem)
        return self._handlers[type_](parsed)

    # -- session and input audio -------------------------------------------------------------

    def _session_update(self, client_event: JSON) -> list[JSON]:
        self.config = apply_update(
            self.config, client_event["session"], audio_sent=self._audio_sent
        )
        return [event(Server.session_updated, session=copy.deepcopy(self.config))]

    def _input_format(self) -> str:
        format_type: str = self.config["audio"]["input"]["format"]["type"]
        return format_type

    def _append(self, client_event: JSON) -> list[JSON]:
        try:
            data = base64.b64decode(client_event["audio"], validate=True)
        except (binascii.Error, ValueError):
            raise Rejected(
                "invalid_value",
                "Invalid value for 'audio': expected base64-encoded audio bytes.",
                "audio",
            ) from None
        if len(data) > MAX_APPEND_BYTES:
            raise Rejected(
                "invalid_value",
                f"Invalid value for 'audio': at most {MAX_APPEND_BYTES} bytes per event.",
                "audio",
            )
        self.buffer += data
        return self.listener.appended(self, data, self._input_format())

    def _commit(self, client_event: JSON) -> list[JSON]:
        ms = audio.duration_ms(len(self.buffer), self._input_format())
        if ms < MIN_COMMIT_MS:
            raise Rejected(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has {ms:.2f}ms of audio.",
            )
        data = bytes(self.buffer)
        self.buffer.clear()
        self.listener.restart()
        return self.commit_audio(data)

    def commit_audio(self, data: bytes, item_id: str | None = None) -> list[JSON]:
        """``data`` becomes a user message: committed, the item, and its transcription when
        ``audio.input.transcription`` is set (a deterministic transcript: the audio's length)."""
        message: JSON = {
            "type": "message",
            "role": "user",
            "content": [
                {
                    "type": "input_audio",
                    "audio": base64.b64encode(data).decode("ascii"),
                    "transcript": None,
                }
            ],
        }
        if item_id is not None:
            message["id"] = item_id
        item = prepare_item(message, self.conversation)
        previous = self.conversation.insert(item)
        sent = [
            event(
                Server.input_audio_buffer_committed,
                previous_item_id=previous,
                item_id=item["id"],
            ),
            *self._item_added(item, previous),
        ]
        if self.config["audio"]["input"].get("transcription"):
            fmt = self._input_format()
            transcript = transcript_of(len(data), fmt)
            item["content"][0]["transcript"] = transcript
            seconds = audio.duration_ms(len(data), fmt) / 1000
            sent += transcription_events(item["id"], transcript, seconds)
        return sent

    def respond(self) -> list[JSON]:
        """A response the server starts itself (server VAD's ``create_response``)."""
        return self._response_create({"type": Client.response_create})

    def _clear(self, client_event: JSON) -> list[JSON]:
        self.buffer.clear()
        self.listener.restart()
        return [event(Server.input_audio_buffer_cleared)]

    # -- conversation items --------------------------------------------------------------------

    def _item_added(self, item: JSON, previous: str | None) -> list[JSON]:
        shown = without_audio(item)
        return [
            event(Server.conversation_item_added, previous_item_id=previous, item=shown),
            event(Server.conversation_item_done, previous_item_id=previous, item=shown),
        ]

    def _item_create(self, client_event: JSON) -> list[JSON]:
        item = prepare_item(client_event["item"], self.conversation)
        previous = self.conversation.insert(item, client_event.get("previous_item_id"))
        return self._item_added(item, previous)

    def _item_retrieve(self, client_event: JSON) -> list[JSON]:
        item = self.conversation.retrieve(client_event["item_id"])
        return [event(Server.conversation_item_retrieved, item=item)]

    def _item_delete(self, client_event: JSON) -> list[JSON]:
        self.conversation.delete(client_event["item_id"])
        return [event(Server.conversation_item_deleted, item_id=client_event["item_id"])]

    def _item_truncate(self, client_event: JSON) -> list[JSON]:
        fields = {k: client_event[k] for k in ("item_id", "content_index", "audio_end_ms")}
        self.conversation.truncate(**fields)
        return [event(Server.conversation_item_truncated, **fields)]

    # -- responses -----------------------------------------------------------------------------

    def _context(self, params: JSON) -> list[JSON]:
        if "input" not in params:
            return copy.deepcopy(self.conversation.items)
        context = []
        for index, item in enumerate(params["input"]):
            if item.get("type") == "item_reference":
                param = f"response.input[{index}].id"
                context.append(copy.deepcopy(self.conversation.get(item["id"], param)))
            else:
                context.append(prepare_item(item, Conversation()))
        return context

    def _response_create(self, client_event: JSON) -> list[JSON]:
        params: JSON = client_event.get("response") or {}

        def pick(key: str) -> Any:
            return params[key] if key in params else self.config[key]

        in_conversation = params.get("conversation", "auto") == "auto"
        active = self.active
        if in_conversation and active is not None:
            raise Rejected(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: {active.id}. "
                "Wait until the response is finished before creating a new one.",
            )
        tools = pick("tools")
        tool_choice = pick("tool_choice")
        if isinstance(tool_choice, dict) and tool_choice.get("type", "function") == "function":
            names = {t.get("name") for t in tools if t.get("type", "function") == "function"}
            if tool_choice["name"] not in names:
                where = "response" if "tool_choice" in params else "session"
                raise Rejected(
                    "invalid_value",
                    f"Tool choice '{tool_choice['name']}' not found in 'tools' parameter.",
                    f"{where}.tool_choice.name",
                )
        session_output = self.config["audio"]["output"]
        audio_output = params.get("audio", {}).get("output", {})
        audio_format = copy.deepcopy(audio_output.get("format", session_output["format"]))
        if audio_format["type"] == audio.PCM:
            audio_format.setdefault("rate", audio.PCM_RATE)
        instructions = pick("instructions")
        spec = Spec(
            conversation=self.conversation if in_conversation else None,
            context=self._context(params),
            instructions=render_instructions(instructions, pick("prompt")),
            output_modalities=list(pick("output_modalities")),
            audio_output={
                "format": audio_format,
                "voice": copy.deepcopy(audio_output.get("voice", session_output["voice"])),
            },
            max_output_tokens=pick("max_output_tokens"),
            metadata=copy.deepcopy(params.get("metadata")),
            tools=copy.deepcopy(tools),
            tool_choice=copy.deepcopy(tool_choice),
            input_bytes_per_ms=audio.bytes_per_ms(self._input_format()),
            input_format=self._input_format(),
        )
        response = Response(spec, on_audio=self._mark_audio)
        self.responses.append(response)
        self._started.append(response)
        return [response.created()]

    def _mark_audio(self) -> None:
        self._audio_sent = True

    def _response_cancel(self, client_event: JSON) -> list[JSON]:
        response_id = client_event.get("response_id")
        if response_id is None:
            target = self.active
        else:
            target = next((r for r in self.responses if r.id == response_id), None)
        if target is None or target.finished:
            raise Rejected(
                "response_cancel_not_active", "Cancellation failed: no active response found."
            )
        return target.cancel()
