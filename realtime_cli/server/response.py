"""One response: the events it streams, advanced one token per ``step()``, and how it ends.

No I/O and no clock: the app calls ``step()`` every ``token_delay_ms`` until ``finished``, and
``cancel()`` when the client asks. Both return the events to send, in order, so cancellation and
``max_output_tokens`` are plain function calls in tests. Event order follows protocol.md §4.1
(text), §4.2 (audio) and §4.3 (function call).
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from dataclasses import dataclass

from realtime_cli.audio import codecs as audio
from realtime_cli.protocol.events import JSON, Server, new_id
from realtime_cli.server import model
from realtime_cli.server.conversation import Conversation, Track
from realtime_cli.server.wire import event, without_audio

RATE_LIMIT_TOKENS = 40_000
CANCELLED: JSON = {"type": "cancelled", "reason": "client_cancelled"}
INCOMPLETE: JSON = {"type": "incomplete", "reason": "max_output_tokens"}


@dataclass
class Spec:
    """Everything a response needs, already resolved from the session and ``response.create``."""

    conversation: Conversation | None  # None: out of band (``conversation: "none"``)
    context: list[JSON]
    instructions: str
    output_modalities: list[str]
    audio_output: JSON  # {"format": ..., "voice": ...}
    max_output_tokens: int | str
    metadata: JSON | None
    tools: list[JSON]
    tool_choice: str | JSON
    input_bytes_per_ms: int
    input_format: str = "audio/pcm"


class Response:
    def __init__(self, spec: Spec, on_audio: Callable[[], None] = lambda: None) -> None:
        self.id = new_id("resp")
        self.spec = spec
        self.status = "in_progress"
        self.status_details: JSON | None = None
        self.output: list[JSON] = []
        self.usage: JSON | None = None
        self.output_tokens = 0
        self._on_audio = on_audio
        planned = model.plan(
            spec.context,
            spec.instructions,
            spec.tools,
            spec.tool_choice,
            spec.input_bytes_per_ms,
        )
        # Parallel calls are one output item each, streamed one after the other.
        self._plans: list[model.Say | model.Call | model.Approval] = (
            list(planned) if isinstance(planned, tuple) else [planned]
        )
        self._plan = self._plans.pop(0)
        self._input = model.input_tokens(spec.context, spec.instructions, spec.input_bytes_per_ms)
        self._tokens: tuple[str, ...] = ()  # an approval request is one item, no deltas
        if isinstance(self._plan, model.Say):
            self._tokens = self._plan.words
        elif isinstance(self._plan, model.Call):
            self._tokens = self._plan.pieces
        self._speaks = isinstance(self._plan, model.Say) and "audio" in spec.output_modalities
        self._limit = spec.max_output_tokens if isinstance(spec.max_output_tokens, int) else None
        self._item: JSON | None = None  # the output item still open
        self._opened = False
        self._next = 0
        self._track = Track(bytearray(), spec.audio_output["format"]["type"])
        self._echo = None
        if self._speaks:
            self._echo = model.echo(
                spec.context, spec.input_format, self._track.format_type, len(self._tokens)
            )
        if self._echo:
            ms = sum(map(len, self._echo)) / audio.bytes_per_ms(self._track.format_type)
            self._track.word_ms = ms / len(self._echo)

    @property
    def in_conversation(self) -> bool:
        return self.spec.conversation is not None

    @property
    def finished(self) -> bool:
        return self.status != "in_progress"

    def resource(self) -> JSON:
        """The ``RealtimeResponse`` object, audio bytes left out as the service does."""
        return {
            "object": "realtime.response",
            "id": self.id,
            "status": self.status,
            "status_details": copy.deepcopy(self.status_details),
            "output": [without_audio(item) for item in self.output],
            "conversation_id": self.spec.conversation.id if self.spec.conversation else None,
            "output_modalities": list(self.spec.output_modalities),
            "max_output_tokens": self.spec.max_output_tokens,
            "audio": {"output": copy.deepcopy(self.spec.audio_output)},
            "usage": copy.deepcopy(self.usage),
            "metadata": copy.deepcopy(self.spec.metadata),
        }

    def created(self) -> JSON:
        return event(Server.response_created, response=self.resource())

    def step(self) -> list[JSON]:
        """The next token's events (the first step also opens the output item)."""
        if self.finished:
            return []
        events: list[JSON] = []
        if not self._opened:
            self._opened = True
            events += self._open()
        if self._next < len(self._tokens):
            events += self._emit(self._tokens[self._next])
            self._next += 1
            self.output_tokens += 1
        if self._next >= len(self._tokens) and self._plans:
            events += self._close_item("completed")
            self._plan = self._plans.pop(0)
            assert isinstance(self._plan, model.Call)
            self._tokens, self._next = self._plan.pieces, 0
            events += self._open()
        elif self._next >= len(self._tokens):
            events += self._finish("completed", None)
        elif self._limit is not None and self.output_tokens >= self._limit:
            events += self._finish("incomplete", INCOMPLETE)
        return events

    def cancel(self, reason: str = "client_cancelled") -> list[JSON]:
        """Stop now: close what is open, then ``response.done`` with status ``cancelled`` and
        ``reason`` (``turn_detected`` when server VAD heard the user speak)."""
        if self.finished:
            return []
        return self._finish("cancelled", {**CANCELLED, "reason": reason})

    # -- the output item -------------------------------------------------------------------

    def _ids(self, item: JSON) -> JSON:
        return {"response_id": self.id, "item_id": item["id"], "output_index": len(self.output) - 1}

    def _part_ids(self, item: JSON) -> JSON:
        return {**self._ids(item), "content_index": 0}

    def _open(self) -> list[JSON]:
        item: JSON = {"id": new_id("item"), "object": "realtime.item", "status": "in_progress"}
        if isinstance(self._plan, model.Call):
            item |= {"type": "function_call", "name": self._plan.name}
            item |= {"call_id": new_id("call"), "arguments": ""}
        elif isinstance(self._plan, model.Approval):
            # RealtimeMcpApprovalRequest: id, type, server_label, name, arguments (no status).
            item = {"id": new_id("mcpr"), "type": "mcp_approval_request"}
            item |= {"server_label": self._plan.server_label, "name": self._plan.name}
            item |= {"arguments": self._plan.arguments}
        else:
            item |= {"type": "message", "role": "assistant", "content": []}
        self._item = item
        self.output.append(item)
        events = [
            event(
                Server.response_output_item_added,
                response_id=self.id,
                output_index=len(self.output) - 1,
                item=without_audio(item),
            )
        ]
        conversation = self.spec.conversation
        if conversation is not None:
            previous = conversation.insert(item)
            if self._speaks:
                conversation.tracks[item["id"]] = self._track
            events.append(
                event(
                    Server.conversation_item_added,
                    previous_item_id=previous,
                    item=without_audio(item),
                )
            )
        if isinstance(self._plan, model.Say):
            if self._speaks:
                item["content"].append({"type": "output_audio", "transcript": ""})
                part: JSON = {"type": "audio", "transcript": ""}
            else:
                item["content"].append({"type": "output_text", "text": ""})
                part = {"type": "text", "text": ""}
            events.append(
                event(Server.response_content_part_added, **self._part_ids(item), part=part)
            )
        return events

    def _emit(self, token: str) -> list[JSON]:
        item = self._item
        assert item is not None
        if item["type"] == "function_call":
            item["arguments"] += token
            return [
                event(
                    Server.response_function_call_arguments_delta,
                    **self._ids(item),
                    call_id=item["call_id"],
                    delta=token,
                )
            ]
        part = item["content"][0]
        if not self._speaks:
            part["text"] += token
            return [event(Server.response_output_text_delta, **self._part_ids(item), delta=token)]
        part["transcript"] += token
        if self._echo:
            sound = self._echo[self._next]
        else:
            sound = model.word_audio(token, self._track.format_type)
        self._track.data += sound
        self._on_audio()
        return [
            event(
                Server.response_output_audio_transcript_delta, **self._part_ids(item), delta=token
            ),
            event(
                Server.response_output_audio_delta,
                **self._part_ids(item),
                delta=base64.b64encode(sound).decode("ascii"),
            ),
        ]

    def _close_item(self, status: str) -> list[JSON]:
        item = self._item
        if item is None:
            return []
        self._item = None
        events: list[JSON] = []
        if item["type"] == "function_call":
            events.append(
                event(
                    Server.response_function_call_arguments_done,
                    **self._ids(item),
                    call_id=item["call_id"],
                    name=item["name"],
                    arguments=item["arguments"],
                )
            )
        elif item["type"] == "mcp_approval_request":
            pass  # no content, no arguments streamed: the item is whole when added
        elif self._speaks:
            transcript = item["content"][0]["transcript"]
            ids = self._part_ids(item)
            events += [
                event(Server.response_output_audio_done, **ids),
                event(Server.response_output_audio_transcript_done, **ids, transcript=transcript),
                event(
                    Server.response_content_part_done,
                    **ids,
                    part={"type": "audio", "transcript": transcript},
                ),
            ]
        else:
            text = item["content"][0]["text"]
            ids = self._part_ids(item)
            events += [
                event(Server.response_output_text_done, **ids, text=text),
                event(
                    Server.response_content_part_done, **ids, part={"type": "text", "text": text}
                ),
            ]
        if "status" in item:
            item["status"] = status
        conversation = self.spec.conversation
        if conversation is not None and conversation.contains(item["id"]):
            events.append(
                event(
                    Server.conversation_item_done,
                    previous_item_id=conversation.previous_id(item["id"]),
                    item=without_audio(item),
                )
            )
        events.append(
            event(
                Server.response_output_item_done,
                response_id=self.id,
                output_index=len(self.output) - 1,
                item=without_audio(item),
            )
        )
        return events

    def _finish(self, status: str, details: JSON | None) -> list[JSON]:
        events = self._close_item("completed" if status == "completed" else "incomplete")
        self.status = status
        self.status_details = details
        self.usage = self._usage()
        events.append(event(Server.response_done, response=self.resource()))
        events.append(
            event(
                Server.rate_limits_updated,
                rate_limits=[
                    {
                        "name": "tokens",
                        "limit": RATE_LIMIT_TOKENS,
                        "remaining": max(0, RATE_LIMIT_TOKENS - self.usage["total_tokens"]),
                        "reset_seconds": round(
                            self.usage["total_tokens"] * 60 / RATE_LIMIT_TOKENS, 3
                        ),
                    }
                ],
            )
        )
        return events

    def _usage(self) -> JSON:
        text_in, audio_in = self._input
        audio_out = self.output_tokens if self._speaks else 0
        zero = {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0}
        return {
            "total_tokens": text_in + audio_in + self.output_tokens,
            "input_tokens": text_in + audio_in,
            "output_tokens": self.output_tokens,
            "input_token_details": {
                "text_tokens": text_in,
                "audio_tokens": audio_in,
                "image_tokens": 0,
                "cached_tokens": 0,
                "cached_tokens_details": zero,
            },
            "output_token_details": {
                "text_tokens": self.output_tokens - audio_out,
                "audio_tokens": audio_out,
            },
        }
