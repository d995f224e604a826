"""Our client-event schema (``realtime_cli/shapes.py``) held side by side with openai's GA models.

The oracle is ``TypeAdapter(openai.types.realtime.RealtimeClientEvent)`` in strict mode, with any
field the models keep as an "extra" counted as a rejection. Where we are stricter, the reason is
written next to the case: a limit the docs state but the types don't encode, or nullability taken
from the request-side ``*_param.py`` TypedDicts (the BaseModels make every optional field nullable).
"""

from __future__ import annotations

import copy
import json
import re
import typing
from types import UnionType
from typing import Any, Literal

import openai.types.realtime as realtime
import pydantic
import pytest
from corpus import rows

from realtime_cli.protocol import validate as shapes
from realtime_cli.protocol.events import VOICES
from realtime_cli.protocol.schema import (
    AnyOf,
    Arr,
    Const,
    Map,
    Node,
    Nullable,
    Obj,
    Problem,
    Str,
    Tagged,
)
from realtime_cli.protocol.validate import validate

_EVENT = pydantic.TypeAdapter(realtime.RealtimeClientEvent)
_REFERENCE = pydantic.TypeAdapter(realtime.ResponseItemReference)
JSON = dict[str, Any]


def _extras(value: Any, path: str = "") -> list[str]:
    if isinstance(value, pydantic.BaseModel):
        found = [f"{path}.{key}" for key in value.model_extra or {}]
        for name in type(value).model_fields:
            found += _extras(getattr(value, name), f"{path}.{name}")
        return found
    if isinstance(value, list):
        return [extra for i, item in enumerate(value) for extra in _extras(item, f"{path}[{i}]")]
    return []


def openai_rejects(event: Any) -> str | None:
    """Why openai's models reject ``event``, or None. ``item_reference`` entries of
    ``response.input`` are checked against ``ResponseItemReference`` on their own, as the SDK's
    ``ResponseCreateEventWithReferencesParam`` allows them only there."""
    event, refs = copy.deepcopy(event), []
    response = event.get("response") if isinstance(event, dict) else None
    if isinstance(response, dict) and event.get("type") == "response.create":
        items = response.get("input")
        if isinstance(items, list):
            refs = [i for i in items if isinstance(i, dict) and i.get("type") == "item_reference"]
            response["input"] = [i for i in items if i not in refs]
    try:
        models = [_EVENT.validate_python(event, strict=True)]
        models += [_REFERENCE.validate_python(ref, strict=True) for ref in refs]
    except pydantic.ValidationError as exc:
        return f"{exc.error_count()} errors, e.g. {exc.errors()[0]['msg']}"
    extras = [extra for model in models for extra in _extras(model)]
    return f"extra fields {extras}" if extras else None


def su(**session: Any) -> JSON:
    return {"type": "session.update", "session": {"type": "realtime", **session}}


def rc(**response: Any) -> JSON:
    return {"type": "response.create", "response": response}


def ic(item: JSON, **more: Any) -> JSON:
    return {"type": "conversation.item.create", "item": item, **more}


def msg(role: str, *parts: JSON, **more: Any) -> JSON:
    return {"type": "message", "role": role, "content": list(parts), **more}


def su_in(**input_: Any) -> JSON:
    return su(audio={"input": input_})


def su_out(**output: Any) -> JSON:
    return su(audio={"output": output})


# fmt: off
TEXT = {"type": "input_text", "text": "hi"}
FN = {"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}}
MCP = {
    "type": "mcp", "server_label": "wiki", "server_url": "https://mcp.example/sse",
    "server_description": "docs", "authorization": "token", "headers": {"X-Key": "v"},
    "allowed_tools": ["ask"], "allowed_callers": ["direct", "programmatic"], "defer_loading": False,
    "require_approval": {"always": {"tool_names": ["ask"]}, "never": {"read_only": True}},
}
VAD = {
    "type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 200,
    "idle_timeout_ms": None, "create_response": True, "interrupt_response": False,
}
TRANSCRIPTION = {
    "model": "gpt-4o-transcribe", "language": "en", "languages": ["en", "de"], "prompt": "names",
    "keywords": ["rtc"], "delay": "low",
}
PROMPT = {"id": "pmpt_1", "version": "2", "variables": {
    "city": "Paris",
    "t": {"type": "input_text", "text": "x", "prompt_cache_breakpoint": {"mode": "explicit"}},
    "img": {"type": "input_image", "detail": "original", "image_url": "data:image/png;base64,"},
    "doc": {"type": "input_file", "file_id": "file_1", "filename": "a.pdf", "detail": "low"},
}}
METADATA = {**{f"k{i}": "v" for i in range(15)}, "k" * 64: "v" * 512}  # the limits, exactly
RATIO = {"type": "retention_ratio", "retention_ratio": 0.8}

VALID: list[JSON] = [
    su(model="gpt-realtime", instructions="be brief", output_modalities=["text"],
       audio={"input": {"format": {"type": "audio/pcm", "rate": 24000},
                        "noise_reduction": {"type": "near_field", "strength": 0.5},
                        "transcription": TRANSCRIPTION, "turn_detection": VAD},
              "output": {"format": {"type": "audio/pcmu"}, "voice": "marin", "speed": 1.5}},
       tools=[FN, MCP], tool_choice="required", max_output_tokens="inf", parallel_tool_calls=True,
       reasoning={"effort": "xhigh"}, prompt=PROMPT, truncation=RATIO,
       tracing={"workflow_name": "w", "group_id": "g", "metadata": {"a": 1}},
       include=["item.input_audio_transcription.logprobs"]),
    su_in(turn_detection={"type": "semantic_vad", "eagerness": "auto"}),
    su_in(turn_detection=None, noise_reduction=None, format={"type": "audio/pcma"}),
    su_in(noise_reduction={"type": "far_field"}, format={"type": "audio/pcm"}),
    *[su_out(voice=voice) for voice in (*VOICES, "custom-name", {"id": "voice_123"})],
    *[su(tool_choice=mode) for mode in ("auto", "none")],
    su(tool_choice={"type": "function", "name": "f"}, tools=[{"name": "f"}]),
    su(tool_choice={"type": "mcp", "server_label": "wiki", "name": "ask"}),
    rc(tool_choice={"type": "mcp", "server_label": "wiki"}),
    su(tools=[{**MCP, "allowed_tools": {"tool_names": ["a"], "read_only": True}}]),
    su(tools=[{"type": "mcp", "server_label": "g", "connector_id": "connector_gmail"}]),
    su(tools=[{"type": "mcp", "server_label": "t", "tunnel_id": "t1", "require_approval": "never"}]),
    *[su(truncation=mode) for mode in ("auto", "disabled")],
    su(truncation={**RATIO, "retention_ratio": 0, "token_limits": {"post_instructions": 5000}}),
    *[su(tracing=mode) for mode in ("auto", None, {})],
    su(max_output_tokens=1, output_modalities=["audio"], tools=[], instructions=""),
    su(prompt=None, include=None, tracing=None),
    su(audio={"input": {"transcription": {"model": "whisper-1"}}, "output": {"speed": 0.25}}),
    {"type": "session.update", "event_id": "e1", "session": {"type": "transcription"}},
    {"type": "session.update", "session": {"type": "transcription", "audio": {"input": dict(
        format={"type": "audio/pcm", "rate": 24000}, transcription=TRANSCRIPTION,
        noise_reduction={"type": "near_field"}, turn_detection=VAD)},
        "include": ["item.input_audio_transcription.logprobs"]}},
    {"type": "response.create"},
    {"type": "response.create", "event_id": "e2", "response": {}},
    rc(instructions="summarise", output_modalities=["audio"],
       audio={"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": {"id": "v"}}},
       tools=[FN, MCP], tool_choice={"type": "function", "name": "f"}, conversation="none",
       input=[{"type": "item_reference", "id": "item_1"}, msg("user", TEXT),
              {"type": "function_call_output", "call_id": "c1", "output": "{}"}],
       metadata=METADATA, max_output_tokens=4096, prompt=PROMPT, reasoning={"effort": "minimal"},
       parallel_tool_calls=False),
    rc(conversation="auto", input=[], metadata=None, audio={"output": {"voice": "cedar"}}),
    ic(msg("user", TEXT, {"type": "input_audio", "audio": "AAAA", "transcript": None},
           {"type": "input_image", "image_url": "data:image/png;base64,", "detail": "high"},
           id="item_1", object="realtime.item", status="completed")),
    ic(msg("system", TEXT), previous_item_id="root", event_id="e3"),
    ic(msg("assistant", {"type": "output_text", "text": "hi"},
           {"type": "output_audio", "audio": "AAAA", "transcript": "hi"})),
    ic(msg("user", {"text": "a part without its type"})),
    ic({"type": "function_call", "name": "f", "arguments": "{}", "call_id": "c1", "id": "i"}),
    ic({"type": "function_call_output", "call_id": "c1", "output": "42", "status": "completed"}),
    ic({"type": "mcp_approval_response", "id": "a", "approval_request_id": "r", "approve": False,
        "reason": "no"}),
    ic({"type": "mcp_approval_request", "id": "r", "arguments": "{}", "name": "ask",
        "server_label": "s"}),
    ic({"type": "mcp_list_tools", "server_label": "s", "tools": [{"name": "a", "input_schema": {}}]}),
    ic({"type": "mcp_call", "id": "m", "arguments": "{}", "name": "ask", "server_label": "s",
        "output": None, "error": {"type": "http_error", "code": 500, "message": "down"}}),
    {"type": "input_audio_buffer.append", "audio": "AAAA", "event_id": "e4"},
    {"type": "input_audio_buffer.commit"},
    {"type": "input_audio_buffer.clear", "event_id": "e5"},
    {"type": "output_audio_buffer.clear"},
    {"type": "conversation.item.retrieve", "item_id": "item_1"},
    {"type": "conversation.item.delete", "item_id": "item_1", "event_id": "e6"},
    {"type": "conversation.item.truncate", "item_id": "i", "content_index": 0, "audio_end_ms": 1500},
    {"type": "response.cancel"},
    {"type": "response.cancel", "response_id": "resp_1", "event_id": "e7"},
]
# fmt: on


def test_every_client_event_type_and_field_is_covered() -> None:
    assert {event["type"] for event in VALID} == set(shapes.CLIENT_EVENTS)
    for event_type, field in (("session.update", "session"), ("response.create", "response")):
        used = {key for e in VALID if e["type"] == event_type for key in e.get(field, {})}
        schema = shapes.CLIENT_EVENTS[event_type].fields[field]
        declared = schema.variants["realtime"] if isinstance(schema, Tagged) else schema
        assert isinstance(declared, Obj) and used == set(declared.fields)


@pytest.mark.parametrize("event", VALID, ids=lambda e: e["type"])
def test_valid_events_pass_both(event: JSON) -> None:
    assert openai_rejects(event) is None
    assert validate(event) is None


# Where openai's models accept what we reject, the reason we are stricter stands in for BOTH.
BOTH = "openai rejects it too"
NULL = "openai's BaseModels take null for any optional field; the request TypedDict says str"
TOKENS = 'max_output_tokens: "an integer between 1 and 4096" (SDK docstring, protocol.md §2.9)'
META = "metadata: 16 pairs, keys <= 64, values <= 512 chars (SDK docstring, protocol.md §2.9)"
MODES = 'output_modalities: "only possible values are ["audio"], ["text"]" (SDK docstring)'
RANGE = "speed 0.25-1.5, threshold 0.0-1.0, retention_ratio 0.0-1.0 (SDK docstrings)"
CONVERSATION = 'conversation: "Currently supports auto and none" (SDK docstring; typed str)'
TRUNCATE = {"type": "conversation.item.truncate", "item_id": "i", "content_index": 0}
LONG = "x" * 65
MISSING = "missing_required_parameter"
UNKNOWN = "unknown_parameter"
TYPE, VALUE = "invalid_type", "invalid_value"
TD = "session.audio.input.turn_detection"
# fmt: off
INVALID: list[tuple[Any, str, str, str]] = [
    # unknown fields, at several depths
    (su(bogus_field=1), UNKNOWN, "session.bogus_field", BOTH),
    ({"type": "input_audio_buffer.commit", "bogus": 1}, UNKNOWN, "bogus", BOTH),
    (su(modalities=["text"]), UNKNOWN, "session.modalities", BOTH),
    (su_in(turn_detection={**VAD, "x": 1}), UNKNOWN, f"{TD}.x", BOTH),
    (su(tools=[{**FN, "strict": True}]), UNKNOWN, "session.tools[0].strict", BOTH),
    (su(tools=[{"server_label": "s"}]), UNKNOWN, "session.tools[0].server_label", BOTH),
    (rc(input=[msg("user", {**TEXT, "x": 1})]), UNKNOWN, "response.input[0].content[0].x", BOTH),
    (ic(msg("system", {**TEXT, "audio": "AAAA"})), UNKNOWN, "item.content[0].audio", BOTH),
    # wrong types
    (su(instructions=5), TYPE, "session.instructions", BOTH),
    ({"type": "response.cancel", "event_id": 5}, TYPE, "event_id", BOTH),
    ({**TRUNCATE, "audio_end_ms": "9"}, TYPE, "audio_end_ms", BOTH),
    (su_in(turn_detection={**VAD, "create_response": "yes"}), TYPE, f"{TD}.create_response", BOTH),
    (su(tools={}), TYPE, "session.tools", BOTH),
    ({"type": "response.create", "response": "now"}, TYPE, "response", BOTH),
    ({"type": "session.update", "session": {"type": 5}}, TYPE, "session.type", BOTH),
    (rc(metadata={"k": 1}), TYPE, "response.metadata.k", BOTH),
    (rc(max_output_tokens=1.5), TYPE, "response.max_output_tokens", BOTH),
    (rc(instructions=None), TYPE, "response.instructions", NULL),
    # enum violations
    (su_in(turn_detection={"type": "auto_vad"}), VALUE, f"{TD}.type", BOTH),
    (su_in(turn_detection={"type": "semantic_vad", "eagerness": "max"}), VALUE,
     f"{TD}.eagerness", BOTH),
    (su_out(format={"type": "audio/wav"}), VALUE, "session.audio.output.format.type", BOTH),
    (su(tool_choice="sometimes"), VALUE, "session.tool_choice", BOTH),
    (su(reasoning={"effort": "max"}), VALUE, "session.reasoning.effort", BOTH),
    (su(include=["logprobs"]), VALUE, "session.include[0]", BOTH),
    (su(truncation="sometimes"), VALUE, "session.truncation", BOTH),
    (su(tracing="disabled"), VALUE, "session.tracing", BOTH),
    (su(tools=[{**MCP, "connector_id": "x"}]), VALUE, "session.tools[0].connector_id", BOTH),
    ({"type": "session.update", "session": {"type": "beta"}}, VALUE, "session.type", BOTH),
    (rc(output_modalities=["video"]), VALUE, "response.output_modalities[0]", BOTH),
    (rc(conversation="conv_1"), VALUE, "response.conversation", CONVERSATION),
    # missing required fields
    ({"type": "session.update"}, MISSING, "session", BOTH),
    ({"type": "session.update", "session": {}}, MISSING, "session.type", BOTH),
    ({"type": "conversation.item.create"}, MISSING, "item", BOTH),
    (ic({"type": "function_call_output", "call_id": "c"}), MISSING, "item.output", BOTH),
    (ic({"type": "message", "content": [TEXT]}), MISSING, "item.role", BOTH),
    ({"type": "input_audio_buffer.append"}, MISSING, "audio", BOTH),
    (TRUNCATE, MISSING, "audio_end_ms", BOTH),
    (su(tool_choice={"type": "function"}), MISSING, "session.tool_choice.name", BOTH),
    (su(tools=[{"type": "mcp"}]), MISSING, "session.tools[0].server_label", BOTH),
    (su(truncation={"type": "retention_ratio"}), MISSING, "session.truncation.retention_ratio", BOTH),
    (rc(prompt={"version": "1"}), MISSING, "response.prompt.id", BOTH),
    (su_out(voice={}), MISSING, "session.audio.output.voice.id", BOTH),
    (rc(input=[{"type": "item_reference"}]), MISSING, "response.input[0].id", BOTH),
    # limits
    (rc(max_output_tokens=0), "integer_below_min_value", "response.max_output_tokens", TOKENS),
    (su(max_output_tokens=4097), "integer_above_max_value", "session.max_output_tokens", TOKENS),
    (rc(max_output_tokens="big"), VALUE, "response.max_output_tokens", BOTH),
    (rc(metadata={f"k{i}": "v" for i in range(17)}), "object_above_max_properties",
     "response.metadata", META),
    (rc(metadata={LONG: "v"}), "string_above_max_length", f"response.metadata.{LONG}", META),
    (rc(metadata={"k": "v" * 513}), "string_above_max_length", "response.metadata.k", META),
    (su(output_modalities=["text", "audio"]), "array_above_max_length",
     "session.output_modalities", MODES),
    (rc(output_modalities=[]), "array_below_min_length", "response.output_modalities", MODES),
    (su_in(format={"type": "audio/pcm", "rate": 16000}), "integer_below_min_value",
     "session.audio.input.format.rate", BOTH),
    (su_out(format={"type": "audio/pcm", "rate": 48000}), "integer_above_max_value",
     "session.audio.output.format.rate", BOTH),
    (su_out(speed=2.0), "decimal_above_max_value", "session.audio.output.speed", RANGE),
    (su_in(turn_detection={**VAD, "threshold": 1.5}), "decimal_above_max_value",
     f"{TD}.threshold", RANGE),
    (su(truncation={**RATIO, "retention_ratio": 1.5}), "decimal_above_max_value",
     "session.truncation.retention_ratio", RANGE),
    # the event as a whole
    ({"type": "nope"}, VALUE, "type", BOTH),
    ({"type": "transcription_session.update", "session": {}}, VALUE, "type", BOTH),
    ([{"type": "response.create"}], TYPE, "", BOTH),
    ("response.create", TYPE, "", BOTH),
    ({"response": {}}, "invalid_event", "", BOTH),
    ({"type": 5}, TYPE, "type", BOTH),
    # items: role against content type; item_reference only in response.input
    (ic(msg("user", {"type": "output_text", "text": "x"})), VALUE, "item.content[0].type", BOTH),
    (ic(msg("system", {"type": "input_audio"})), VALUE, "item.content[0].type", BOTH),
    (rc(input=[msg("assistant", TEXT)]), VALUE, "response.input[0].content[0].type", BOTH),
    (ic(msg("developer", TEXT)), VALUE, "item.role", BOTH),
    (ic({"type": "item_reference", "id": "item_1"}), VALUE, "item.type", BOTH),
]
# fmt: on


@pytest.mark.parametrize(
    ("event", "code", "param", "openai"), INVALID, ids=[f"{c}:{p}" for _, c, p, _ in INVALID]
)
def test_invalid_events(event: Any, code: str, param: str, openai: str) -> None:
    problem = validate(event)
    assert problem is not None and (problem.code, problem.param) == (code, param)
    text = str(problem)
    assert "\n" not in text and text.startswith(f"{param}: " if param else problem.reason)
    if openai == BOTH:
        assert openai_rejects(event) is not None
    else:  # only we reject it; the case carries the documented reason
        assert openai_rejects(event) is None


def test_problem_text_names_the_field_and_the_limit() -> None:
    assert str(validate(rc(max_output_tokens=0))) == (
        'response.max_output_tokens: must be 1-4096 or "inf", got 0'
    )
    assert validate({}) == Problem("invalid_event", "", "the 'type' field is missing")
    assert Problem("invalid_event", "", "the 'type' field is missing").service_message == (
        "The 'type' field is missing."
    )
    assert str(validate(ic(msg("user", {"type": "output_text", "text": "x"})))) == (
        "item.content[0].type: a user message takes input_text, input_audio, input_image, "
        'got "output_text"'
    )


def test_live_error_wording() -> None:
    sent = [row for row in rows("observed_errors.jsonl") if "client_sent" in row["trigger"]]
    assert len(sent) == 7 and sum(row["event"]["error"].get("param") is None for row in sent) == 4
    for row in sent:
        event, error = row["trigger"]["client_sent"], row["event"]["error"]
        problem = validate(event)
        if error.get("param") is None:  # session-state errors: the event itself is valid
            assert problem is None, error["code"]
            continue
        assert problem is not None
        assert (problem.code, problem.param) == (error["code"], error["param"])
        if problem.code == "unknown_parameter":
            assert (
                problem.service_message
                == error["message"]
                == ("Unknown parameter: 'session.bogus_field'.")
            )
        else:  # the live text lists the allowed types or the bound; ours names the value
            assert re.search(r"'nope'|\"nope\"|24000", problem.service_message)


def _spec_examples() -> list[tuple[str, Any]]:
    """The spec's GA client-event examples; a ``raw`` one (``//`` comments, trailing commas,
    two events in a row) is cleaned and split."""
    examples = []
    for row in rows("openapi_examples.jsonl"):
        if (row["protocol"], row["direction"]) != ("ga", "client"):
            continue
        if row["event"] is not None:
            examples.append((row["schema"], row["event"]))
            continue
        text = re.sub(r",(\s*[}\]])", r"\1", re.sub(r"//[^\n]*", "", row["raw"]))
        decoder, at = json.JSONDecoder(), 0
        while text[at:].strip():
            event, at = decoder.raw_decode(text, text.index("{", at))
            examples.append((row["schema"], event))
    return examples


# Spec examples openai rejects (we must too). None needs our stricter limits: all that openai
# accepts, we accept.
SPEC_REJECTED = {"RealtimeClientEventTranscriptionSessionUpdate"}  # beta; GA: session.update


def test_spec_examples() -> None:
    examples = _spec_examples()
    assert len(examples) == 13  # 12 GA client schemas; the response.create one holds two events
    for schema, event in examples:
        if schema in SPEC_REJECTED:
            assert openai_rejects(event) and validate(event), schema
        else:
            assert openai_rejects(event) is None and validate(event) is None, schema
    assert {event["type"] for _, event in examples} >= set(shapes.CLIENT_EVENTS)


def _flat(annotation: Any) -> list[Any]:
    """The alternatives of an annotation, through Optional/Union/Annotated/List/Dict."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, UnionType, typing.Annotated, list, dict):
        args = typing.get_args(annotation)
        args = args[:1] if origin is typing.Annotated else args[-1:] if origin is dict else args
        return [alt for arg in args for alt in _flat(arg)]
    return [annotation]


def _models(annotation: Any) -> list[type[Any]]:
    alts = _flat(annotation)
    return [a for a in alts if isinstance(a, type) and issubclass(a, pydantic.BaseModel)]


def _literals(annotation: Any) -> set[Any] | None:
    """The strings of a closed Literal enum; None when any string is allowed, or none."""
    alts = _flat(annotation)
    values = {v for a in alts if typing.get_origin(a) is Literal for v in typing.get_args(a)}
    strings = {v for v in values if isinstance(v, str)}
    return None if str in alts or not strings else strings


def _ours(node: Node) -> list[Node]:
    if isinstance(node, Nullable | Arr):
        return _ours(node.inner if isinstance(node, Nullable) else node.item)
    if isinstance(node, Map):
        return _ours(node.value)
    if isinstance(node, AnyOf):
        return [alt for option in node.options for alt in _ours(option)]
    return [node]


Tags = tuple[frozenset[str], frozenset[str]]  # the tag fields above an object; those required


def _match(model: type[Any], node: Node, tags: Tags) -> tuple[Obj, Tags] | None:
    if isinstance(node, Obj):
        return node, tags
    if isinstance(node, Tagged):
        field = model.model_fields.get(node.tag)
        values = _literals(field.annotation) if field else None
        key = next(iter(values)) if values and len(values) == 1 else node.default
        if key in node.variants:
            implied = tags[1] if key == node.default else tags[1] | {node.tag}
            return _match(model, node.variants[key], (tags[0] | {node.tag}, implied))
    return None


def _names(values: set[Any] | None) -> str:
    return ", ".join(sorted(map(str, values))) if values else "any string"


def _walk(model: type[Any], obj: Obj, tags: Tags, path: str) -> list[str]:
    theirs, ours = model.model_fields, obj.fields
    out = [f"{path}.{name}: only openai has it" for name in sorted(set(theirs) - set(ours))]
    out += [f"{path}.{name}: only we have it" for name in sorted(set(ours) - set(theirs))]
    required, we_require = {n for n, f in theirs.items() if f.is_required()}, {*obj.required}
    if required != we_require | tags[1]:
        out.append(f"{path}: openai requires {sorted(required)}, we {sorted(we_require | tags[1])}")
    for name in sorted(set(theirs) & set(ours) - tags[0]):
        annotation, node, where = theirs[name].annotation, ours[name], f"{path}.{name}"
        enum, strs = _literals(annotation), [n for n in _ours(node) if isinstance(n, Str | Const)]
        values = {v for n in strs for v in (n.enum if isinstance(n, Str) else (n.value,))}
        if not all(isinstance(n, Const) or (n.enum and not n.open_enum) for n in strs):
            values = set()
        if strs and (enum or set()) != {v for v in values if isinstance(v, str)}:
            out.append(f"{where}: openai takes {_names(enum)}, we {_names(values)}")
        for sub in _models(annotation):
            found = [m for n in _ours(node) if (m := _match(sub, n, (frozenset(), frozenset())))]
            if not found:
                out.append(f"{where}: we have no object for {sub.__name__}")
            else:
                out += _walk(sub, *found[0], where)
    return out


# Every place where the field sets, required fields or string enums differ, and why.
KNOWN_DIFFERENCES = {
    # openai's format union declares discriminator="type" but pydantic doesn't enforce it (so
    # openai takes {} as a format); a format is told apart by its type, so we require it.
    "session.update.session.audio.input.format: openai requires [], we ['type']",
    "session.update.session.audio.output.format: openai requires [], we ['type']",
    "response.create.response.audio.output.format: openai requires [], we ['type']",
    "response.create.response.conversation: openai takes any string, we auto, none",  # CONVERSATION
}


def test_our_objects_mirror_openai_models() -> None:
    found = []
    for model in typing.get_args(typing.get_args(realtime.RealtimeClientEvent)[0]):
        event_type = next(iter(_literals(model.model_fields["type"].annotation) or ()))
        tags: Tags = (frozenset({"type"}), frozenset({"type"}))
        found += _walk(model, shapes.CLIENT_EVENTS[event_type], tags, event_type)
    assert set(found) == KNOWN_DIFFERENCES, "\n".join(sorted(set(found) ^ KNOWN_DIFFERENCES))
