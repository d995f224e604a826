"""The GA client events, field by field, and ``validate``.

Both sides use it: the client validates every event before sending (nothing invalid leaves rtc),
and the local server answers invalid events with the protocol's error codes. It mirrors the
``openai.types.realtime`` request models (tests hold the two side by side); we keep our own copy
because importing the ``openai`` package costs about two seconds.
"""

from __future__ import annotations

from typing import Any

from realtime_cli.events import CONVERSATION_MODES, MODALITIES, TOOL_CHOICE_MODES, Client
from realtime_cli.schema import (
    AnyOf,
    Anything,
    Arr,
    Bool,
    Const,
    Int,
    Map,
    Nullable,
    Num,
    Obj,
    Problem,
    Str,
    Tagged,
    show,
    type_name,
)

_STATUS = Str(enum=("completed", "incomplete", "in_progress"))
_COMMON_ITEM = {"id": Str(), "object": Const("realtime.item"), "status": _STATUS}

AUDIO_FORMAT = Tagged(
    {
        "audio/pcm": Obj({"type": Str(), "rate": Const(24000)}),
        "audio/pcmu": Obj({"type": Str()}),
        "audio/pcma": Obj({"type": Str()}),
    }
)

VOICE = AnyOf((Str(), Obj({"id": Str()}, required=("id",))), 'a voice name or {"id": ...}')

_CONTENT_BY_ROLE = {
    "user": ("input_text", "input_audio", "input_image"),
    "system": ("input_text",),
    "assistant": ("output_text", "output_audio"),
}


def _message_rule(value: dict[str, Any], path: str) -> Problem | None:
    allowed = _CONTENT_BY_ROLE[value["role"]]
    for index, part in enumerate(value["content"]):
        got = part.get("type")
        if got not in allowed:
            takes = ", ".join(allowed)
            return Problem(
                "invalid_value",
                f"{path}.content[{index}].type",
                f"a {value['role']} message takes {takes}, got {show(got)}",
            )
    return None


_CONTENT_PART = Obj(
    {
        "type": Str(enum=tuple(t for ts in _CONTENT_BY_ROLE.values() for t in ts if t)),
        "text": Str(),
        "audio": Str(),
        "transcript": Nullable(Str()),
        "image_url": Str(),
        "detail": Str(enum=("auto", "low", "high")),
    },
    required=("type",),
)

ITEM = Tagged(
    {
        "message": Obj(
            {
                "type": Str(),
                "role": Str(enum=tuple(_CONTENT_BY_ROLE)),
                "content": Arr(_CONTENT_PART),
                **_COMMON_ITEM,
            },
            required=("role", "content"),
            rule=_message_rule,
        ),
        "function_call": Obj(
            {"type": Str(), "name": Str(), "arguments": Str(), "call_id": Str(), **_COMMON_ITEM},
            required=("name", "arguments"),
        ),
        "function_call_output": Obj(
            {"type": Str(), "call_id": Str(), "output": Str(), **_COMMON_ITEM},
            required=("call_id", "output"),
        ),
        "mcp_approval_response": Obj(
            {
                "type": Str(),
                "id": Str(),
                "approval_request_id": Str(),
                "approve": Bool(),
                "reason": Nullable(Str()),
            },
            required=("id", "approval_request_id", "approve"),
        ),
    }
)

INPUT_ITEM = Tagged({**ITEM.variants, "item_reference": Obj({"type": Str(), "id": Str()}, ("id",))})

_FUNCTION_TOOL = Obj(
    {"type": Str(), "name": Str(), "description": Str(), "parameters": Anything()},
    required=("name",),
)
_MCP_TOOL = Obj(
    {
        "type": Str(),
        "server_label": Str(),
        "server_url": Str(),
        "server_description": Str(),
        "connector_id": Str(),
        "tunnel_id": Str(),
        "authorization": Str(),
        "headers": Nullable(Map(Str())),
        "allowed_tools": Anything(),
        "allowed_callers": Anything(),
        "require_approval": Anything(),
        "defer_loading": Bool(),
    },
    required=("server_label",),
)
TOOLS = Arr(Tagged({"function": _FUNCTION_TOOL, "mcp": _MCP_TOOL}, default="function"))

TOOL_CHOICE = AnyOf(
    (
        Str(enum=TOOL_CHOICE_MODES),
        Tagged(
            {
                "function": Obj({"type": Str(), "name": Str()}, required=("name",)),
                "mcp": Obj(
                    {"type": Str(), "server_label": Str(), "name": Nullable(Str())},
                    ("server_label",),
                ),
            }
        ),
    ),
    'auto, none, required, or {"type": "function", "name": ...}',
)

MAX_OUTPUT_TOKENS = AnyOf((Int(min=1, max=4096), Const("inf")), '1-4096 or "inf"')
OUTPUT_MODALITIES = Arr(Str(enum=MODALITIES), min_items=1, max_items=1)
METADATA = Nullable(Map(Str(max_len=512), max_items=16, key_max_len=64))
PROMPT = Nullable(
    Obj({"id": Str(), "version": Nullable(Str()), "variables": Nullable(Anything())}, ("id",))
)
REASONING = Obj({"effort": Str(enum=("minimal", "low", "medium", "high", "xhigh"))})

RESPONSE = Obj(
    {
        "instructions": Str(),
        "output_modalities": OUTPUT_MODALITIES,
        "audio": Obj({"output": Obj({"format": AUDIO_FORMAT, "voice": VOICE})}),
        "tools": TOOLS,
        "tool_choice": TOOL_CHOICE,
        "conversation": Str(enum=CONVERSATION_MODES),
        "input": Arr(INPUT_ITEM),
        "metadata": METADATA,
        "max_output_tokens": MAX_OUTPUT_TOKENS,
        "prompt": PROMPT,
        "reasoning": REASONING,
        "parallel_tool_calls": Bool(),
    }
)

TURN_DETECTION = Nullable(
    Tagged(
        {
            "server_vad": Obj(
                {
                    "type": Str(),
                    "threshold": Num(min=0, max=1),
                    "prefix_padding_ms": Int(min=0),
                    "silence_duration_ms": Int(min=0),
                    "idle_timeout_ms": Nullable(Int(min=0)),
                    "create_response": Bool(),
                    "interrupt_response": Bool(),
                }
            ),
            "semantic_vad": Obj(
                {
                    "type": Str(),
                    "eagerness": Str(enum=("low", "medium", "high", "auto")),
                    "create_response": Bool(),
                    "interrupt_response": Bool(),
                }
            ),
        }
    )
)
TRANSCRIPTION = Nullable(
    Obj(
        {
            "model": Str(),
            "language": Str(),
            "languages": Arr(Str()),
            "prompt": Str(),
            "keywords": Arr(Str()),
            "delay": Str(enum=("minimal", "low", "medium", "high", "xhigh")),
        }
    )
)
NOISE_REDUCTION = Nullable(Obj({"type": Str(enum=("near_field", "far_field")), "strength": Num()}))
AUDIO_INPUT = Obj(
    {
        "format": AUDIO_FORMAT,
        "noise_reduction": NOISE_REDUCTION,
        "transcription": TRANSCRIPTION,
        "turn_detection": TURN_DETECTION,
    }
)
INCLUDE = Nullable(Arr(Str(enum=("item.input_audio_transcription.logprobs",))))

SESSION = Tagged(
    {
        "realtime": Obj(
            {
                "type": Str(),
                "model": Str(),
                "instructions": Str(),
                "output_modalities": OUTPUT_MODALITIES,
                "audio": Obj(
                    {
                        "input": AUDIO_INPUT,
                        "output": Obj(
                            {"format": AUDIO_FORMAT, "voice": VOICE, "speed": Num(0.25, 1.5)}
                        ),
                    }
                ),
                "tools": TOOLS,
                "tool_choice": TOOL_CHOICE,
                "max_output_tokens": MAX_OUTPUT_TOKENS,
                "parallel_tool_calls": Bool(),
                "reasoning": REASONING,
                "prompt": PROMPT,
                "tracing": Nullable(
                    AnyOf(
                        (
                            Const("auto"),
                            Obj(
                                {"workflow_name": Str(), "group_id": Str(), "metadata": Anything()}
                            ),
                        ),
                        '"auto" or {"workflow_name", "group_id", "metadata"}',
                    )
                ),
                "truncation": AnyOf(
                    (
                        Str(enum=("auto", "disabled")),
                        Obj(
                            {
                                "type": Const("retention_ratio"),
                                "retention_ratio": Num(min=0, max=1),
                                "token_limits": Obj({"post_instructions": Int(min=0)}),
                            },
                            required=("type", "retention_ratio"),
                        ),
                    ),
                    'auto, disabled or {"type": "retention_ratio", ...}',
                ),
                "include": INCLUDE,
            }
        ),
        "transcription": Obj(
            {"type": Str(), "audio": Obj({"input": AUDIO_INPUT}), "include": INCLUDE}
        ),
    }
)

_EVENT_ID = {"type": Str(), "event_id": Str(max_len=512)}

CLIENT_EVENTS: dict[str, Obj] = {
    Client.session_update: Obj({**_EVENT_ID, "session": SESSION}, required=("session",)),
    Client.input_audio_buffer_append: Obj({**_EVENT_ID, "audio": Str()}, required=("audio",)),
    Client.input_audio_buffer_commit: Obj(_EVENT_ID),
    Client.input_audio_buffer_clear: Obj(_EVENT_ID),
    Client.output_audio_buffer_clear: Obj(_EVENT_ID),
    Client.conversation_item_create: Obj(
        {**_EVENT_ID, "item": ITEM, "previous_item_id": Nullable(Str())}, required=("item",)
    ),
    Client.conversation_item_retrieve: Obj({**_EVENT_ID, "item_id": Str()}, required=("item_id",)),
    Client.conversation_item_delete: Obj({**_EVENT_ID, "item_id": Str()}, required=("item_id",)),
    Client.conversation_item_truncate: Obj(
        {**_EVENT_ID, "item_id": Str(), "content_index": Int(min=0), "audio_end_ms": Int(min=0)},
        required=("item_id", "content_index", "audio_end_ms"),
    ),
    Client.response_create: Obj({**_EVENT_ID, "response": RESPONSE}),
    Client.response_cancel: Obj({**_EVENT_ID, "response_id": Str()}),
}


def validate(event: Any) -> Problem | None:
    """The first problem with a client event, or None when it may be sent."""
    if not isinstance(event, dict):
        return Problem(
            "invalid_type", "", f"a client event is a JSON object, got {type_name(event)}"
        )
    type_ = event.get("type")
    if type_ is None:
        return Problem("missing_required_parameter", "type", "is required")
    if not isinstance(type_, str):
        return Problem("invalid_type", "type", f"expected a string, got {type_name(type_)}")
    schema = CLIENT_EVENTS.get(type_)
    if schema is None:
        return Problem("invalid_value", "type", f"unknown client event type {show(type_)}")
    return schema.check(event, "")
