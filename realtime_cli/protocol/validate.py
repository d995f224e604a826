"""The GA client events, field by field, and ``validate``.

Both sides use it: the client validates every event before sending (nothing invalid leaves rtc),
and the local server answers invalid events with the protocol's error codes. It mirrors the
``openai.types.realtime`` request models (tests hold the two side by side); we keep our own copy
because importing the ``openai`` package costs about two seconds.
"""

from __future__ import annotations

from typing import Any

from realtime_cli.protocol.events import CONVERSATION_MODES, MODALITIES, TOOL_CHOICE_MODES, Client
from realtime_cli.protocol.schema import (
    AnyOf,
    Anything,
    Arr,
    Bool,
    Const,
    Int,
    Map,
    Node,
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
_ITEM_META = {"id": Str(), "object": Const("realtime.item"), "status": _STATUS}

# The live service answers a rate below 24000 with integer_below_min_value (observed_errors.jsonl).
AUDIO_FORMAT = Tagged(
    {
        "audio/pcm": Obj({"type": Str(), "rate": Int(min=24000, max=24000)}),
        "audio/pcmu": Obj({"type": Str()}),
        "audio/pcma": Obj({"type": Str()}),
    }
)

VOICE = AnyOf((Str(), Obj({"id": Str()}, required=("id",))), 'a voice name or {"id": ...}')

# A content part's ``type`` is optional in the openai models; when given it must suit the role.
_PART_TYPES = {
    "user": ("input_text", "input_audio", "input_image"),
    "system": ("input_text",),
    "assistant": ("output_text", "output_audio"),
}
_TEXT: dict[str, Node] = {"text": Str()}
_AUDIO: dict[str, Node] = {"audio": Str(), "transcript": Nullable(Str())}
_PART_FIELDS: dict[str, dict[str, Node]] = {
    "user": {**_TEXT, **_AUDIO, "image_url": Str(), "detail": Str(enum=("auto", "low", "high"))},
    "system": _TEXT,
    "assistant": {**_TEXT, **_AUDIO},
}


def _message(role: str) -> Obj:
    takes = _PART_TYPES[role]
    part_type = Str(enum=takes, says=f"a {role} message takes {', '.join(takes)}")
    part = Obj({"type": part_type, **_PART_FIELDS[role]})
    return Obj({"type": Str(), "role": Str(), "content": Arr(part), **_ITEM_META}, ("content",))


_MCP_ERROR = Tagged(
    {
        "protocol_error": Obj(
            {"type": Str(), "code": Int(), "message": Str()}, ("code", "message")
        ),
        "tool_execution_error": Obj({"type": Str(), "message": Str()}, ("message",)),
        "http_error": Obj({"type": Str(), "code": Int(), "message": Str()}, ("code", "message")),
    }
)
_MCP_CALL = ("id", "arguments", "name", "server_label")

ITEM = Tagged(
    {
        "message": Tagged({role: _message(role) for role in _PART_TYPES}, tag="role"),
        "function_call": Obj(
            {"type": Str(), "name": Str(), "arguments": Str(), "call_id": Str(), **_ITEM_META},
            required=("name", "arguments"),
        ),
        "function_call_output": Obj(
            {"type": Str(), "call_id": Str(), "output": Str(), **_ITEM_META},
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
        "mcp_approval_request": Obj({"type": Str(), **dict.fromkeys(_MCP_CALL, Str())}, _MCP_CALL),
        "mcp_call": Obj(
            {
                "type": Str(),
                **dict.fromkeys(_MCP_CALL, Str()),
                "approval_request_id": Nullable(Str()),
                "error": Nullable(_MCP_ERROR),
                "output": Nullable(Str()),
            },
            required=_MCP_CALL,
        ),
        "mcp_list_tools": Obj(
            {
                "type": Str(),
                "id": Str(),
                "server_label": Str(),
                "tools": Arr(
                    Obj(
                        {
                            "name": Str(),
                            "input_schema": Anything(),
                            "annotations": Nullable(Anything()),
                            "description": Nullable(Str()),
                        },
                        required=("name", "input_schema"),
                    )
                ),
            },
            required=("server_label", "tools"),
        ),
    }
)

# ``item_reference`` is only valid in ``response.input`` (the SDK's *WithReferences* params).
INPUT_ITEM = Tagged({**ITEM.variants, "item_reference": Obj({"type": Str(), "id": Str()}, ("id",))})

_FUNCTION_TOOL = Obj({"type": Str(), "name": Str(), "description": Str(), "parameters": Anything()})
_TOOL_FILTER = Obj({"read_only": Bool(), "tool_names": Arr(Str())})
_CONNECTORS = "dropbox gmail googlecalendar googledrive microsoftteams outlookcalendar outlookemail"
CONNECTORS = tuple(f"connector_{name}" for name in (*_CONNECTORS.split(), "sharepoint"))
_MCP_TOOL = Obj(
    {
        "type": Str(),
        "server_label": Str(),
        "server_url": Str(),
        "server_description": Str(),
        "connector_id": Str(enum=CONNECTORS),
        "tunnel_id": Str(),
        "authorization": Str(),
        "headers": Nullable(Map(Str())),
        "allowed_tools": Nullable(
            AnyOf((Arr(Str()), _TOOL_FILTER), 'a list of tool names or {"tool_names", "read_only"}')
        ),
        "allowed_callers": Nullable(Arr(Str(enum=("direct", "programmatic")))),
        "require_approval": Nullable(
            AnyOf(
                (
                    Str(enum=("always", "never")),
                    Obj({"always": _TOOL_FILTER, "never": _TOOL_FILTER}),
                ),
                'always, never or {"always": ..., "never": ...}',
            )
        ),
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
    'auto, none, required, {"type": "function", "name": ...} or {"type": "mcp", ...}',
)

MAX_OUTPUT_TOKENS = AnyOf((Int(min=1, max=4096), Const("inf")), '1-4096 or "inf"')
OUTPUT_MODALITIES = Arr(Str(enum=MODALITIES), min_items=1, max_items=1)
METADATA = Nullable(Map(Str(max_len=512), max_items=16, key_max_len=64))
_CACHE = {
    "prompt_cache_breakpoint": Obj(
        {"mode": Const("explicit"), "ttl": Str(enum=("30m", "12h"))}, ("mode",)
    )
}
_PROMPT_VARIABLE = AnyOf(
    (
        Str(),
        Tagged(
            {
                "input_text": Obj({"type": Str(), "text": Str(), **_CACHE}, ("text",)),
                "input_image": Obj(
                    {
                        "type": Str(),
                        "detail": Str(enum=("low", "high", "auto", "original")),
                        "file_id": Nullable(Str()),
                        "image_url": Nullable(Str()),
                        **_CACHE,
                    },
                    ("detail",),
                ),
                "input_file": Obj(
                    {
                        "type": Str(),
                        "detail": Str(enum=("auto", "low", "high")),
                        "file_data": Str(),
                        "file_id": Nullable(Str()),
                        "file_url": Str(),
                        "filename": Str(),
                        **_CACHE,
                    }
                ),
            }
        ),
    ),
    "a string or an input_text, input_image or input_file object",
)
PROMPT = Nullable(
    Obj(
        {"id": Str(), "version": Nullable(Str()), "variables": Nullable(Map(_PROMPT_VARIABLE))},
        ("id",),
    )
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
    if type_ is None:  # the service's own words (its spec's error example): code invalid_event
        return Problem("invalid_event", "", "the 'type' field is missing")
    if not isinstance(type_, str):
        return Problem("invalid_type", "type", f"expected a string, got {type_name(type_)}")
    schema = CLIENT_EVENTS.get(type_)
    if schema is None:
        return Problem("invalid_value", "type", f"unknown client event type {show(type_)}")
    return schema.check(event, "")
