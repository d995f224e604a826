"""What the local model says. Deterministic, pure functions: same input, same reply.

The local model is an echo, so what you send predicts what you get back:

* **Text.** The reply is the text of the latest user message in the response's context (its
  ``input_text`` parts and ``input_audio`` transcripts, joined by spaces, trimmed). A user message
  with audio and no transcript gets "I heard 1.5 seconds of audio." (the length of its audio);
  one with only an image gets "I see an image.". With no user message in the context the reply
  is the instructions: the response's ``instructions`` if given, else the session's (with
  ``{{name}}`` placeholders filled from ``prompt.variables``). If a ``function_call_output``
  comes after the latest user message, the reply is that output's text.
* **Streaming.** One word per delta: words keep their trailing whitespace, so the deltas join
  to the exact reply. Each word is one output token, sent ``token_delay_ms`` apart, so a longer
  input gives a longer (and slower) reply; ``max_output_tokens`` stops it after that many words.
* **Audio.** Each word is also a 100 ms sine tone (PCM16 24 kHz, or G.711 u-law/A-law 8 kHz for
  ``audio/pcmu``/``audio/pcma``) whose pitch depends on the word, streamed with the transcript.
  A reply to a user message with audio speaks the user's own audio back instead (converted to
  the output format, cut into as many deltas as the reply has words), so a voice round trip
  can be heard and compared sample for sample.
* **Tools.** The model calls a function tool when ``tool_choice`` names it, when ``tool_choice``
  is ``required`` (the tool named in the user's text, else the first one), or, with ``auto``,
  when the latest user message names a tool (by its name, as a whole word). The arguments
  satisfy the tool's JSON-schema ``parameters``: every required property gets a value of its
  type (strings "example", numbers 1 or their minimum, booleans true, enums their first value,
  arrays one item, nested objects filled the same way); optional properties are left out.
  With ``auto``, a user message naming several tools gets one call of each, in one response
  (parallel calls, in the order of ``tools``). After a ``function_call_output`` it answers with
  the outputs sent since the latest user message (joined by spaces) instead of calling again
  (unless ``tool_choice`` forces a call). MCP tools are never called: when the latest user
  message names an MCP tool's ``server_label`` (or one of its ``allowed_tools``) and the tool
  has ``require_approval: "always"``, the response is one ``mcp_approval_request`` item; after
  the client's ``mcp_approval_response`` the reply says whether it was approved, and that the
  local server runs no MCP servers.
* **Usage.** Input tokens are the words of the instructions and of every item in the context,
  plus one audio token per 100 ms of input audio; output tokens are the words (or argument
  pieces) sent, counted as audio tokens when the response speaks.

Server VAD (``turns.py``, ``vad.py``) turns appended audio into user messages and starts
responses; with ``audio.input.transcription`` set a user's audio is transcribed as its length
("1.5 seconds of speech"), which the reply then repeats.
"""

from __future__ import annotations

import base64
import json
import math
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from realtime_cli.audio import codecs as audio
from realtime_cli.audio.resample import resample_stdlib
from realtime_cli.protocol.events import JSON

WORD_MS = 100
# A pentatonic scale (in semitones above A3), so any run of word tones sounds tolerable.
_STEPS = (0, 2, 4, 7, 9, 12, 14, 16, 19, 21, 24)
_STRING_FORMATS = {
    "date": "2025-01-01",
    "date-time": "2025-01-01T00:00:00Z",
    "time": "00:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


@dataclass(frozen=True)
class Say:
    """A message: the words, each with its trailing whitespace."""

    words: tuple[str, ...]

    @property
    def text(self) -> str:
        return "".join(self.words)


@dataclass(frozen=True)
class Call:
    """A function call: the tool's name and its JSON arguments, cut into streamable pieces."""

    name: str
    pieces: tuple[str, ...]

    @property
    def arguments(self) -> str:
        return "".join(self.pieces)


@dataclass(frozen=True)
class Approval:
    """An ``mcp_approval_request``: the MCP tool the user named, with empty arguments."""

    server_label: str
    name: str
    arguments: str = "{}"


def words(text: str) -> tuple[str, ...]:
    """The reply's tokens: each word with the whitespace after it (``"a b"`` → ``"a ", "b"``)."""
    return tuple(re.findall(r"\S+\s*", text.strip()))


def argument_pieces(arguments: str) -> tuple[str, ...]:
    """JSON text cut after each ``,`` and ``:``; the pieces join back to the exact text."""
    return tuple(re.findall(r"[^,:]*[,:]|[^,:]+", arguments))


def _texts(item: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for part in item.get("content") or ():
        for key in ("text", "transcript"):
            value = part.get(key)
            if isinstance(value, str) and value.strip():
                found.append(value.strip())
    for key in ("arguments", "output"):
        value = item.get(key)
        if isinstance(value, str):
            found.append(value)
    return found


def _audio_bytes(part: Mapping[str, Any]) -> int:
    """How many bytes a base64 ``audio`` field holds, without decoding it."""
    data = part.get("audio") or ""
    return len(data) * 3 // 4 - (len(data) - len(data.rstrip("=")))


def _user_reply(item: Mapping[str, Any], bytes_per_ms: int) -> str:
    texts = _texts(item)
    if texts:
        return " ".join(texts)
    kinds = {part.get("type") for part in item.get("content") or ()}
    if "input_audio" in kinds:
        n_bytes = sum(_audio_bytes(part) for part in item.get("content") or ())
        return f"I heard {n_bytes / bytes_per_ms / 1000:.1f} seconds of audio."
    if "input_image" in kinds:
        return "I see an image."
    return ""


def latest_turn(context: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The item the model answers: the last user message or function call output."""
    turn = None
    for item in context:
        is_user = item.get("type") == "message" and item.get("role") == "user"
        if is_user or item.get("type") == "function_call_output":
            turn = item
    return turn


def render_instructions(instructions: str, prompt: Mapping[str, Any] | None) -> str:
    """Fill ``{{name}}`` placeholders from a prompt's variables (there is no prompt store)."""
    variables = (prompt or {}).get("variables") or {}
    for name, value in variables.items():
        text = value.get("text", "") if isinstance(value, dict) else str(value)
        instructions = instructions.replace("{{" + name + "}}", text)
    return instructions


def _names_tool(text: str, name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None


def choose_tool(
    tools: list[JSON], tool_choice: str | JSON, turn: Mapping[str, Any] | None
) -> JSON | None:
    """The function tool to call, or None to answer with a message."""
    functions = [
        t
        for t in tools
        if t.get("type", "function") == "function" and isinstance(t.get("name"), str)
    ]
    if not functions or tool_choice == "none":
        return None
    if isinstance(tool_choice, dict):
        if tool_choice.get("type") != "function":
            return None  # MCP tools are not callable here
        return next((t for t in functions if t["name"] == tool_choice.get("name")), None)
    is_user = turn is not None and turn.get("type") == "message"
    text = " ".join(_texts(turn)) if turn is not None and is_user else ""
    named = next((t for t in functions if _names_tool(text, t["name"])), None)
    if tool_choice == "required":
        return named or functions[0]
    return named if is_user else None


def _call(tool: JSON) -> Call:
    arguments = json.dumps(sample(tool.get("parameters") or {}), separators=(",", ":"))
    return Call(tool["name"], argument_pieces(arguments))


def _named_tools(tools: list[JSON], turn: Mapping[str, Any] | None) -> list[JSON]:
    """The function tools a user message names (several: parallel calls)."""
    if turn is None or turn.get("type") != "message":
        return []
    text = " ".join(_texts(turn))
    return [
        t
        for t in tools
        if t.get("type", "function") == "function"
        and isinstance(t.get("name"), str)
        and _names_tool(text, t["name"])
    ]


def _outputs_since_user(context: list[JSON]) -> str:
    """The function_call_outputs after the latest user message, joined by spaces."""
    outputs: list[str] = []
    for item in context:
        if item.get("type") == "message" and item.get("role") == "user":
            outputs = []
        elif item.get("type") == "function_call_output":
            outputs.append(str(item.get("output", "")))
    return " ".join(outputs)


def _approval(tools: list[JSON], turn: Mapping[str, Any] | None) -> Approval | None:
    """The MCP tool with ``require_approval: "always"`` that a user message names, if any."""
    if turn is None or turn.get("type") != "message":
        return None
    text = " ".join(_texts(turn))
    for tool in tools:
        if tool.get("type") != "mcp" or tool.get("require_approval") != "always":
            continue
        label = str(tool.get("server_label", ""))
        allowed = [n for n in tool.get("allowed_tools") or () if isinstance(n, str)]
        named = next((n for n in allowed if _names_tool(text, n)), None)
        if named or (label and _names_tool(text, label)):
            return Approval(label, named or (allowed[0] if allowed else label))
    return None


def _approval_answer(context: list[JSON]) -> str | None:
    """The reply to an ``mcp_approval_response`` that is the latest item, if it is."""
    if not context or context[-1].get("type") != "mcp_approval_response":
        return None
    response = context[-1]
    request_id = response.get("approval_request_id")
    request = next((i for i in context if i.get("id") == request_id), {})
    name = f"{request.get('server_label', 'MCP')}.{request.get('name', 'tool')}"
    verdict = "approved" if response.get("approve") else "denied"
    return f"The call of {name} was {verdict}; the local server runs no MCP servers."


def plan(
    context: list[JSON],
    instructions: str,
    tools: list[JSON],
    tool_choice: str | JSON,
    bytes_per_ms: int = audio.bytes_per_ms(audio.PCM),
) -> Say | Call | Approval | tuple[Call, ...]:
    """What a response will say, decided once when it is created."""
    answer = _approval_answer(context)
    if answer is not None:
        return Say(words(answer))
    turn = latest_turn(context)
    if tool_choice == "auto" and (approval := _approval(tools, turn)) is not None:
        return approval
    if tool_choice == "auto":
        named = _named_tools(tools, turn)
        if len(named) > 1:
            return tuple(_call(tool) for tool in named)
    tool = choose_tool(tools, tool_choice, turn)
    if tool is not None:
        return _call(tool)
    if turn is None:
        return Say(words(instructions))
    if turn.get("type") == "function_call_output":
        return Say(words(_outputs_since_user(context)))
    return Say(words(_user_reply(turn, bytes_per_ms)))


def echo(
    context: Iterable[Mapping[str, Any]], input_format: str, output_format: str, pieces: int
) -> tuple[bytes, ...] | None:
    """The user's own audio, to be spoken back in ``pieces`` deltas in the output format, when
    the turn answered is a user message with audio (None otherwise). A round trip can then be
    heard, and compared sample for sample when both formats are the same."""
    turn = latest_turn(context)
    if turn is None or turn.get("type") != "message" or pieces < 1:
        return None
    encoded = [
        part.get("audio") or ""
        for part in turn.get("content") or ()
        if part.get("type") == "input_audio"
    ]
    if not encoded:
        return None
    pcm = audio.decode(b"".join(base64.b64decode(a) for a in encoded), input_format)
    pcm = resample_stdlib(pcm, audio.sample_rate(input_format), audio.sample_rate(output_format))
    data = audio.encode(pcm, output_format)
    width = 2 if output_format == audio.PCM else 1
    samples = len(data) // width
    bounds = [samples * i // pieces * width for i in range(pieces + 1)]
    return tuple(data[bounds[i] : bounds[i + 1]] for i in range(pieces))


def _first_type(schema: Mapping[str, Any]) -> str | None:
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), declared[0] if declared else None)
    if declared is None and "properties" in schema:
        return "object"
    return declared if isinstance(declared, str) else None


def _number(schema: Mapping[str, Any], integer: bool) -> float | int:
    value: float = 1
    if isinstance(schema.get("minimum"), int | float):
        value = max(value, schema["minimum"])
    if isinstance(schema.get("exclusiveMinimum"), int | float):
        value = max(value, schema["exclusiveMinimum"] + 1)
    if isinstance(schema.get("maximum"), int | float):
        value = min(value, schema["maximum"])
    if integer:
        return math.ceil(value)
    return float(value)


def _string(schema: Mapping[str, Any]) -> str:
    text = _STRING_FORMATS.get(str(schema.get("format")), "example")
    if isinstance(schema.get("minLength"), int):
        text = text.ljust(schema["minLength"], "x")
    if isinstance(schema.get("maxLength"), int):
        text = text[: schema["maxLength"]]
    return text


def sample(schema: Any) -> Any:
    """A value that satisfies a JSON schema's type, enum and required properties."""
    if not isinstance(schema, dict):
        return "example"
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return sample(schema[key][0])
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged |= part if isinstance(part, dict) else {}
        return sample(merged)
    kind = _first_type(schema)
    if kind == "object":
        properties = schema.get("properties") or {}
        required = schema.get("required") or []
        names = [n for n in properties if n in required] + [
            n for n in required if n not in properties
        ]
        return {name: sample(properties.get(name)) for name in names}
    if kind == "array":
        count = max(1, schema.get("minItems", 1)) if isinstance(schema.get("items"), dict) else 0
        return [sample(schema["items"]) for _ in range(count)]
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema)


def input_tokens(
    context: Iterable[Mapping[str, Any]], instructions: str, bytes_per_ms: int
) -> tuple[int, int]:
    """(text tokens, audio tokens) the model reads: words, and one per 100 ms of input audio."""
    text = len(instructions.split())
    audio_ms = 0.0
    for item in context:
        text += sum(len(t.split()) for t in _texts(item))
        for part in item.get("content") or ():
            if part.get("type") == "input_audio":
                audio_ms += _audio_bytes(part) / bytes_per_ms
    return text, math.ceil(audio_ms / WORD_MS)


def word_audio(word: str, format_type: str) -> bytes:
    """The sound of one word in a Realtime format: a 100 ms tone, its pitch set by the word."""
    step = _STEPS[zlib.crc32(word.strip().lower().encode()) % len(_STEPS)]
    frequency = 220.0 * 2 ** (step / 12)
    pcm = audio.tone(frequency, WORD_MS, audio.sample_rate(format_type))
    return audio.encode(pcm, format_type)
