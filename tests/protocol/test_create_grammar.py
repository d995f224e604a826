"""The create grammar: options and --set become one validated response.create."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from realtime_cli.errors import UsageError
from realtime_cli.protocol import events
from realtime_cli.protocol.create_grammar import parse_create, response_options
from realtime_cli.protocol.response_options import (
    ResponseOptions,
    build_response,
    checked,
    set_path,
)


def build(*args: str) -> dict[str, object]:
    return build_response(response_options(parse_create(list(args))))


def test_every_dedicated_option_lands_in_its_field(tmp_path: Path) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([{"type": "function", "name": "get_weather", "parameters": {}}]))
    response = build(
        "--instructions", "be brief",
        "--modality", "audio",
        "--conversation", "none",
        "-m", "run=42", "--metadata", "who=me",
        "--input", "first", "--input", "second",
        "--max-output-tokens", "inf",
        "--voice", "marin",
        "--tools", str(tools),
        "--tool-choice", "get_weather",
    )  # fmt: skip
    assert response == {
        "instructions": "be brief",
        "output_modalities": ["audio"],
        "conversation": "none",
        "metadata": {"run": "42", "who": "me"},
        "input": [events.user_message("first"), events.user_message("second")],
        "max_output_tokens": "inf",
        "audio": {"output": {"voice": "marin"}},
        "tools": [{"type": "function", "name": "get_weather", "parameters": {}}],
        "tool_choice": {"type": "function", "name": "get_weather"},
    }
    assert checked(events.response_create(response)) is not None


def test_set_reaches_any_field_httpie_style() -> None:
    response = build(
        "--max-output-tokens", "5",
        "-s", "max_output_tokens:=7",
        "-s", "audio.output.format.type=audio/pcmu",
        "-s", "response.metadata.k=a=b",
        "-s", 'input:=[{"type": "item_reference", "id": "item_1"}]',
        "-s", "input.0.id=item_2",
    )  # fmt: skip
    assert response == {
        "max_output_tokens": 7,
        "audio": {"output": {"format": {"type": "audio/pcmu"}}},
        "metadata": {"k": "a=b"},
        "input": [{"type": "item_reference", "id": "item_2"}],
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--max-output-tokens", "lots"],
            "--max-output-tokens takes 1-4096 or \"inf\", got 'lots'",
        ),
        (["-m", "novalue"], "--metadata takes KEY=VALUE, got 'novalue'"),
        (["-s", "x"], "--set takes PATH=VALUE or PATH:=JSON, got 'x'"),
        (
            ["-s", "a:={"],
            "--set a: not JSON (Expecting property name enclosed in double quotes at column 2)",
        ),
        (["-s", "a..b=1"], "--set: empty segment in path 'a..b'"),
        (
            ["--tools", "/nonexistent.json"],
            "--tools: cannot read /nonexistent.json: No such file or directory",
        ),
    ],
)
def test_bad_options_are_one_line_usage_errors(args: list[str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        build(*args)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ResponseOptions(max_output_tokens="0"),
            'response.max_output_tokens: must be 1-4096 or "inf", got 0',
        ),
        (
            ResponseOptions(max_output_tokens="4097"),
            'response.max_output_tokens: must be 1-4096 or "inf", got 4097',
        ),
        (
            ResponseOptions(metadata=[f"k{i}=v" for i in range(17)]),
            "response.metadata: must have at most 16 keys, got 17",
        ),
        (
            ResponseOptions(metadata=["k=" + "v" * 513]),
            "response.metadata.k: must be at most 512 characters, got 513",
        ),
        (ResponseOptions(sets=["bogus=1"]), "response.bogus: unknown parameter"),
    ],
)
def test_invalid_requests_name_the_field(options: ResponseOptions, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        checked(events.response_create(build_response(options)))
    assert caught.value.message == f"invalid response.create: {message}"


def test_bad_tools_file_names_line_and_column(tmp_path: Path) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text('[\n  {"name": }\n]')
    with pytest.raises(UsageError) as caught:
        build("--tools", str(tools))
    assert caught.value.message == f"--tools: {tools}:2:12: Expecting value"


def test_set_path_into_scalar_is_refused() -> None:
    target: dict[str, object] = {"a": "x"}
    with pytest.raises(UsageError, match="cannot set 'b' inside str"):
        set_path(target, "a.b=1", prefix="response")


def test_unknown_option_and_bad_choice_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="No such option: --bogus"):
        parse_create(["--bogus"])
    with pytest.raises(UsageError, match="--modality"):
        parse_create(["--modality", "smell"])
