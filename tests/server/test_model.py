"""What the local model says: pure functions, so plain asserts."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from realtime_cli.audio import codecs as audio
from realtime_cli.protocol.events import user_message
from realtime_cli.server import model

JSON = dict[str, Any]


def tool(name: str, **parameters: Any) -> JSON:
    return {"type": "function", "name": name, "parameters": parameters}


def audio_message(n_bytes: int) -> JSON:
    data = base64.b64encode(bytes(n_bytes)).decode()
    return {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": data}]}


def said(context: list[JSON], instructions: str = "", **kwargs: Any) -> str:
    plan = model.plan(
        context, instructions, kwargs.get("tools", []), kwargs.get("tool_choice", "auto")
    )
    assert isinstance(plan, model.Say)
    return plan.text


@pytest.mark.parametrize("text", ["one", "a b  c", "line one\nline two", "  padded  ", "", "   "])
def test_words_join_back_to_the_trimmed_text(text: str) -> None:
    words = model.words(text)
    assert "".join(words) == text.strip()
    assert all(w.strip() and not w[0].isspace() for w in words)


def test_argument_pieces_join_back_exactly() -> None:
    arguments = json.dumps({"a": "x, y: z", "b": [1, 2], "c": {}}, separators=(",", ":"))
    pieces = model.argument_pieces(arguments)
    assert "".join(pieces) == arguments and len(pieces) > 4
    assert model.argument_pieces("{}") == ("{}",)


def test_the_reply_is_the_latest_user_message() -> None:
    context = [
        user_message("first"),
        user_message("second"),
        {"type": "message", "role": "assistant", "content": []},
    ]
    assert said(context, "instructions") == "second"


def test_without_a_user_message_the_reply_is_the_instructions() -> None:
    system = {
        "type": "message",
        "role": "system",
        "content": [{"type": "input_text", "text": "sys"}],
    }
    assert said([system], "Say hello") == "Say hello"
    assert said([], "") == ""


def test_audio_and_image_messages_get_a_description() -> None:
    assert said([audio_message(72_000)]) == "I heard 1.5 seconds of audio."
    transcribed = audio_message(4800)
    transcribed["content"][0]["transcript"] = "what I said"
    assert said([transcribed]) == "what I said"
    image = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_image", "image_url": "data:"}],
    }
    assert said([image]) == "I see an image."


def test_a_function_output_after_the_user_is_the_reply() -> None:
    output = {"type": "function_call_output", "call_id": "c", "output": "42 degrees"}
    context = [user_message("call get_weather"), output]
    assert said(context, tools=[tool("get_weather")]) == "42 degrees"


@pytest.mark.parametrize(
    ("text", "choice", "called"),
    [
        ("please use Get_Weather now", "auto", "get_weather"),
        ("get_weathers is not a tool", "auto", None),
        ("nothing named", "auto", None),
        ("nothing named", "required", "lookup"),
        ("use get_weather", "required", "get_weather"),
        ("use get_weather", "none", None),
        ("nothing named", {"type": "function", "name": "get_weather"}, "get_weather"),
        ("use get_weather", {"type": "mcp", "server_label": "s"}, None),
    ],
)
def test_tool_choice(text: str, choice: str | JSON, called: str | None) -> None:
    tools = [tool("lookup"), tool("get_weather"), {"type": "mcp", "server_label": "s"}]
    plan = model.plan([user_message(text)], "", tools, choice)
    assert (plan.name if isinstance(plan, model.Call) else None) == called


def test_sample_fills_required_properties_with_their_types() -> None:
    schema = {
        "type": "object",
        "properties": {
            "s": {"type": "string"},
            "when": {"type": "string", "format": "date"},
            "short": {"type": "string", "minLength": 10, "maxLength": 12},
            "i": {"type": "integer", "minimum": 5},
            "capped": {"type": "integer", "maximum": 0},
            "n": {"type": ["number", "null"]},
            "b": {"type": "boolean"},
            "e": {"type": "string", "enum": ["x", "y"]},
            "k": {"const": 7},
            "d": {"type": "string", "default": "dflt"},
            "any": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
            "list": {"type": "array", "items": {"type": "integer"}, "minItems": 2},
            "free": {"type": "array"},
            "nested": {
                "properties": {"x": {"type": "boolean"}, "y": {"type": "string"}},
                "required": ["x"],
            },
            "skipped": {"type": "string"},
        },
        "required": [
            "s",
            "when",
            "short",
            "i",
            "capped",
            "n",
            "b",
            "e",
            "k",
            "d",
            "any",
            "list",
            "free",
            "nested",
        ],
    }
    assert model.sample(schema) == {
        "s": "example",
        "when": "2025-01-01",
        "short": "examplexxx",
        "i": 5,
        "capped": 0,
        "n": 1.0,
        "b": True,
        "e": "x",
        "k": 7,
        "d": "dflt",
        "any": 1,
        "list": [1, 1],
        "free": [],
        "nested": {"x": True},
    }
    assert model.sample({}) == "example"
    assert model.sample({"type": "object"}) == {}


def test_prompt_variables_fill_placeholders() -> None:
    prompt = {"id": "p", "variables": {"a": "A", "b": {"type": "input_text", "text": "B"}}}
    assert model.render_instructions("{{a}} and {{b}} and {{c}}", prompt) == "A and B and {{c}}"
    assert model.render_instructions("{{a}}", None) == "{{a}}"


def test_input_tokens_count_words_and_audio() -> None:
    context = [user_message("three little words"), audio_message(48 * 250)]
    assert model.input_tokens(context, "be brief", 48) == (5, 3)


def test_each_word_is_a_deterministic_tone() -> None:
    hello = model.word_audio("hello ", audio.PCM)
    assert hello == model.word_audio("Hello", audio.PCM)
    assert len(hello) == 2400 * 2
    assert len(model.word_audio("hello", audio.PCMU)) == 800
    distinct = {model.word_audio(w, audio.PCMA) for w in ("a", "b", "c", "d", "e", "f", "g", "h")}
    assert len(distinct) > 2
