"""Bad input is normal input: malformed numbers, JSON nested without end, words that look like
commands, options out of range, files that are not what they claim. Each gets one line saying
what and where (exit 2 for usage), never a traceback or a hang, and nothing accepted is lost."""

from __future__ import annotations

import asyncio
import io
import json
import math
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_run import rtc
from console_harness import Console_

from realtime_cli.console.parse import Chat, Command, classify, help_sections, json_unfinished
from realtime_cli.endpoint.select import select_endpoint
from realtime_cli.errors import UsageError
from realtime_cli.oneshot import CreateJob, run_create
from realtime_cli.oneshot.run import Run
from realtime_cli.pipe.ledger import parse_directive
from realtime_cli.protocol import events
from realtime_cli.protocol.create_grammar import parse_create, response_options
from realtime_cli.protocol.events import FrameError, Refused, encode, loads, parse_server_frame
from realtime_cli.protocol.json_reader import Bad, JsonStream, Value
from realtime_cli.protocol.response_options import build_response, set_path
from realtime_cli.protocol.validate import validate
from realtime_cli.session.recording import Entry, Recorder, read

DEEP = "[" * 100_000 + "]" * 100_000  # far beyond Python's recursion limit
NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]


def stream(text: str) -> list[Value | Bad]:
    reader = JsonStream()
    return reader.feed(text) + reader.close()


# -- 1. NaN and Infinity are not JSON --------------------------------------------------------------


@pytest.mark.parametrize("number", NOT_FINITE)
def test_pipe_input_with_a_non_finite_number_is_bad_input_at_its_column(number: str) -> None:
    items = stream(f'{{"rtc": "sleep", "seconds": {number}}}\n{{"type": "response.create"}}\n')
    assert isinstance(items[0], Bad) and (items[0].line, items[0].column) == (1, 29)
    assert number in items[0].reason and "finite" in items[0].reason
    assert items[1] == Value({"type": "response.create"}, 2, 1)  # the next line still counts


def test_a_non_finite_number_deep_in_a_pretty_value_is_found_on_its_own_line() -> None:
    text = '{\n  "type": "x",\n  "a": [1, "NaN", 2.5e3,\n   -Infinity]\n}\n{"b": 1}\n'
    bad, after = stream(text)
    assert isinstance(bad, Bad) and (bad.line, bad.column) == (4, 4)
    assert bad.reason.startswith("-Infinity is not JSON")
    assert after == Value({"b": 1}, 6, 1)


@pytest.mark.parametrize("seconds", [math.nan, math.inf, -1])
def test_sleep_and_wait_take_only_a_finite_number_of_seconds(seconds: float) -> None:
    with pytest.raises(ValueError, match="must be a number of seconds >= 0"):
        parse_directive({"rtc": "sleep", "seconds": seconds})
    with pytest.raises(ValueError, match="must be a number of seconds >= 0"):
        parse_directive({"rtc": "wait", "for": "response.done", "timeout": seconds})


def test_validation_refuses_non_finite_numbers_and_the_wire_never_carries_them() -> None:
    speed = {"type": "session.update", "session": {"type": "realtime"}}
    speed["session"]["audio"] = {"output": {"speed": math.nan}}
    assert str(validate(speed)) == "session.audio.output.speed: must be a finite number, got nan"
    tool = {"type": "function", "name": "f", "parameters": {"a": [1, {"b": math.inf}]}}
    problem = validate(events.response_create({"tools": [tool]}))
    assert str(problem) == "response.tools[0].parameters.a[1].b: must be a finite number, got inf"
    with pytest.raises(ValueError):
        encode({"type": "response.create", "x": math.nan})


def test_the_console_and_recordings_refuse_non_finite_numbers_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        classify('{"type": "response.create", "x": NaN}')
    assert caught.value.message == "NaN is not JSON (JSON numbers are finite) at column 34"
    assert not json_unfinished('{"type": "x", "a": Infinity}')  # complete: Enter sends it
    notices: list[str] = []
    lines = '{"type": "session.created", "x": NaN}\n{"type": "response.done"}\n'
    rows = list(read(io.StringIO(lines), notices.append, "r.jsonl"))
    assert notices == ["rtc: r.jsonl: line 1: skipped: NaN is not JSON (JSON numbers are finite)"]
    assert [r.event["type"] for r in rows if isinstance(r, Entry)] == ["response.done"]
    with pytest.raises(FrameError, match=r"not JSON \(NaN is not JSON"):
        parse_server_frame('{"type": "x", "a": NaN}')
    with pytest.raises(UsageError, match="--set temperature: Infinity is not JSON"):
        set_path({}, "temperature:=Infinity", prefix="response")


def test_pipe_with_a_nan_sleep_goes_on_instead_of_hanging(server_url: str) -> None:
    stdin = (
        '{"rtc": "sleep", "seconds": NaN}\n'
        '{"rtc": "wait", "for": "session.updated", "timeout": NaN}\n'
        '{"type": "response.create", "response": {"output_modalities": ["text"]}}\n'
    )
    result = rtc("pipe", "--url", server_url, stdin=stdin, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "rtc: line 1, column 29: NaN is not JSON (JSON numbers are finite)",
        "rtc: line 2, column 54: NaN is not JSON (JSON numbers are finite)",
    ]
    done = [json.loads(line) for line in result.stdout.splitlines() if "response.done" in line]
    assert [event["response"]["status"] for event in done] == ["completed"]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["create", "--cancel-after", "nan", "hi"], "--cancel-after"),
        (["create", "--timeout", "-1", "hi"], "--timeout"),
        (["create", "--timeout", "inf", "hi"], "--timeout"),
        (["pipe", "--idle-timeout", "nan"], "--idle-timeout"),
        (["pipe", "--timeout", "inf"], "--timeout"),
        (["replay", "x.jsonl", "--speed", "nan"], "--speed"),
        (["doctor", "--timeout", "inf"], "--timeout"),
        (["serve", "--token-delay-ms", "nan"], "--token-delay-ms"),
        (["serve", "--port", "99999"], "--port"),
        (["serve", "--port", "-1"], "--port"),
    ],
)
def test_numeric_options_out_of_range_are_usage_errors(args: list[str], option: str) -> None:
    result = rtc(*args)
    assert result.returncode == 2, result.stderr
    assert f"Invalid value for '{option}'" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


# -- 2. JSON nested without end --------------------------------------------------------------------


def test_deeply_nested_json_is_one_error_wherever_it_is_read(tmp_path: Path) -> None:
    bad, after = stream(DEEP + '\n{"type": "response.create"}\n')
    assert isinstance(bad, Bad) and bad.reason == "JSON nested too deeply (more than 128 levels)"
    assert after == Value({"type": "response.create"}, 2, 1)
    # Nested deep enough to break what walks the value afterwards, not the parser itself.
    almost = '{"type": "x", "a": ' + "[" * 500 + "]" * 500 + "}"
    assert isinstance(stream(almost)[0], Bad)
    for text in (DEEP, almost):
        with pytest.raises(UsageError, match=r"^JSON nested too deeply"):
            classify(text if text.startswith("{") else "{" + f'"a": {text}' + "}")
        with pytest.raises(FrameError, match="nested too deeply"):
            parse_server_frame(text)
        with pytest.raises(UsageError, match="--set a: JSON nested too deeply"):
            set_path({}, f"a:={text}", prefix="response")
    notices: list[str] = []
    assert list(read(io.StringIO(DEEP + "\n"), notices.append)) == []
    assert notices == ["rtc: line 1: skipped: JSON nested too deeply (more than 128 levels)"]
    nested_ok = '{"a": ' + "[" * 100 + "]" * 100 + "}"
    assert loads(nested_ok)["a"]  # real-world nesting is nowhere near the limit


def test_pipe_with_deep_json_reports_the_line_and_sends_the_rest(server_url: str) -> None:
    stdin = DEEP + '\n{"type": "response.create", "response": {"output_modalities": ["text"]}}\n'
    result = rtc("pipe", "--url", server_url, stdin=stdin, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (
        "rtc: line 1, column 2: JSON nested too deeply (more than 128 levels)\n"
    )
    assert '"status":"completed"' in result.stdout


def test_refused_json_is_a_value_error_like_a_syntax_error() -> None:
    assert issubclass(Refused, ValueError)
    with pytest.raises(Refused, match="number too long"):
        loads("1" * 5000)


# -- 3. a chat line that starts with a command word ----------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "quit smoking tips",
        "exit strategy for the project",
        "reconnect with old friends",
        "items in my cart",
        "responses to criticism",
        "responses --totals for the team",  # a word that is not an option: a message
        "responses - a review",
    ],
)
def test_a_command_that_takes_nothing_followed_by_words_is_a_message(line: str) -> None:
    assert classify(line) == Chat(line)


def test_commands_alone_or_with_a_slash_are_still_commands() -> None:
    assert classify("quit") == Command("quit", [])
    assert classify("  exit ") == Command("quit", [])
    assert classify("/reconnect") == Command("reconnect", [])
    with pytest.raises(UsageError, match=r"^quit takes no arguments$"):
        classify("/exit now")
    # Commands that take arguments keep them (a mistake is an error, never a sent message).
    assert classify("create 'a poem' --modality text") == Command(
        "create", ["a poem", "--modality", "text"]
    )
    assert classify("help cancel") == Command("help", ["cancel"])
    # Only options after a command that takes nothing else: the command (a typo is its error).
    assert classify("responses --totals") == Command("responses", ["--totals"])
    assert classify("responses --total") == Command("responses", ["--total"])
    with pytest.raises(UsageError, match=r"^items takes no arguments$"):
        classify("items --all")
    overview = dict(help_sections(None))
    rules = " ".join(f"{term} {text}" for term, text in overview["lines"])
    assert "quit, exit" in rules and '"quit smoking tips", "responses to criticism"' in rules
    assert "are sent, not obeyed" in rules


# -- 4. --help inside the console --------------------------------------------------------------


def test_help_flags_after_a_console_command_show_the_consoles_help() -> None:
    assert classify("create --help") == Command("help", ["create"])
    assert classify("create -i x -h") == Command("help", ["create"])
    assert classify("session --help") == Command("help", ["session"])
    assert classify("quit --help") == Command("help", ["quit"])
    assert classify("create -- --help") == Command("create", ["--", "--help"])  # a prompt


def test_parse_create_never_prints_the_command_lines_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(UsageError, match="No such option: --help"):
        parse_create(["--help"])
    assert capsys.readouterr() == ("", "")


# -- 5. --record leaves an existing file alone until the session starts ----------------------------


def test_record_does_not_empty_a_file_when_the_run_fails_before_connecting(
    tmp_path: Path, server_url: str
) -> None:
    path = tmp_path / "keep.jsonl"
    path.write_text("precious\n")
    invalid = rtc("create", "--local", "--record", str(path), "--max-output-tokens", "0")
    assert invalid.returncode == 2
    refused = rtc("create", "--url", "ws://127.0.0.1:9/v1/realtime", "--record", str(path), "hi")
    assert refused.returncode == 3
    assert path.read_text() == "precious\n"
    done = rtc("create", "--url", server_url, "--record", str(path), "--json", "hi")
    assert done.returncode == 0, done.stderr
    assert json.loads(path.read_text().splitlines()[0])["rtc"] == "recording"


def test_an_opened_recording_creates_nothing_until_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "later.jsonl"
    with Recorder.open(path) as recorder:
        assert not path.exists()
        recorder.server('{"type": "x"}', {"type": "x"}, 0.5)
        assert path.read_text() == '{"t":0.5,"dir":"server","event":{"type": "x"}}\n'
    with pytest.raises(UsageError, match=r"--record: cannot write .*: Is a directory"):
        Recorder.open(tmp_path)


# -- 7. --tools that is not text ---------------------------------------------------------------


def test_a_tools_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    tools = tmp_path / "tools.json"
    tools.write_bytes(b'[{"name": "caf\xe9"}]')
    with pytest.raises(UsageError) as caught:
        build_response(response_options(parse_create(["--tools", str(tools)])))
    assert caught.value.message == (
        f"--tools: {tools} is not UTF-8 text (byte 14: invalid continuation byte)"
    )


# -- 8. --set paths name the object they go into ---------------------------------------------------


def test_set_strips_only_the_name_of_its_own_object() -> None:
    session: dict[str, object] = {}
    set_path(session, "session.instructions=hi", prefix="session")
    assert session == {"instructions": "hi"}
    set_path(session, "response.x=1", prefix="session")  # not the session's: kept, and invalid
    assert validate({"type": "session.update", "session": {"type": "realtime", **session}})
    response = build_response(response_options(parse_create(["-s", "response.metadata.k=v"])))
    assert response == {"metadata": {"k": "v"}}


def test_profile_add_writes_session_fields_and_refuses_invalid_ones() -> None:
    added = rtc("profile", "add", "work", "--set", "session.instructions=hi", "--kind", "local")
    assert added.returncode == 0, added.stderr
    path = Path(added.stdout.split(" to ")[1].split()[0])
    assert tomllib.loads(path.read_text())["profiles"]["work"]["session"] == {"instructions": "hi"}
    for assignment, field in [("response.x=1", "session.response"), ("bogus=1", "session.bogus")]:
        refused = rtc("profile", "add", "other", "--set", assignment, "--kind", "local")
        assert refused.returncode == 2
        assert refused.stderr == (
            f"rtc: error: profile 'other': invalid session settings: {field}: unknown parameter\n"
        )
    assert "other" not in tomllib.loads(path.read_text())["profiles"]


# -- 9. --cancel-after belongs to its run --------------------------------------------------------


async def test_cancel_after_never_fires_once_the_run_is_over(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cancels: list[float] = []
    real_cancel = Run.cancel

    async def cancel(self: Run) -> None:
        cancels.append(asyncio.get_running_loop().time())
        await real_cancel(self)

    monkeypatch.setattr(Run, "cancel", cancel)
    endpoint = select_endpoint(url=server_url, api_key=None, model=None, local=False, environ={})
    job = CreateJob(
        endpoint,
        {"output_modalities": ["text"], "instructions": "quick"},
        cancel_after=0.3,
        json_output=True,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert await run_create(job) == 0
    # Nothing of the finished run is left to act later: no task of it still exists.
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
    assert cancels == []


# -- 6, 10, 11: startup and layering are in test_create.py ---------------------------------------


# -- 3 and 4 in the running console ---------------------------------------------------------------


async def test_the_console_sends_command_like_chat_and_answers_help_itself(
    server_url: str, console_factory: Callable[..., Console_]
) -> None:
    console = console_factory(server_url)
    await console.wait_for("type help")
    await console.line("session --modality text", expect="session updated")
    out = await console.line("exit strategy for the project", expect="╰")
    assert "│ exit strategy for the project │" in out  # answered, not obeyed
    assert not console.task.done() and console.shell.state == "connected"
    out = await console.line("create --help")
    assert out.startswith("usage: create [PROMPT] [options]\n")
    assert "--cancel-after" in out and "internal error" not in out
    assert await console.finish() == 0
