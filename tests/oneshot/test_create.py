"""`rtc create` end to end: a real subprocess against the local server over real sockets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from cli_run import ROOT, RTC, rtc
from proxy import relay

KEY = "sk-test-SECRET0123456789abcdefWXYZ"


def types(lines: list[str]) -> list[str]:
    return [json.loads(line)["type"] for line in lines]


def test_readme_first_command_works_with_no_key_and_no_network() -> None:
    result = rtc("create", "--instructions", "Say hello")
    assert result.returncode == 0, result.stderr
    assert "built-in local server" in result.stderr
    out = result.stdout
    assert out == "Say hello\n"  # not a terminal: stdout is the answer alone
    assert "· completed" in result.stderr and "status        completed" in result.stderr
    assert "│ Say hello" in result.stderr  # the panel, on stderr: the status for a person
    assert "\x1b[" not in out + result.stderr  # not a terminal: no colours, no cursor tricks


def test_json_output_is_exactly_what_the_server_sent(server_url: str) -> None:
    with relay(server_url) as proxy:
        result = rtc(
            "create", "tell me a story", "--modality", "text", "--json", "--url", proxy.url
        )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == proxy.server_frames
    assert types(lines) == [
        "session.created",
        "conversation.item.added",
        "conversation.item.done",
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 4,
        "response.output_text.done",
        "response.content_part.done",
        "conversation.item.done",
        "response.output_item.done",
        "response.done",
        "rate_limits.updated",
    ]
    sent = [json.loads(frame) for frame in proxy.client_frames]
    assert [e["type"] for e in sent] == ["conversation.item.create", "response.create"]
    assert all(e["event_id"].startswith("rtc_") for e in sent)
    assert sent[0]["item"]["content"] == [{"type": "input_text", "text": "tell me a story"}]


def test_options_reach_the_wire_and_metadata_comes_back(server_url: str) -> None:
    with relay(server_url) as proxy:
        result = rtc(
            "create", "--url", proxy.url, "--instructions", "be brief", "--modality", "text",
            "--conversation", "none", "-m", "run=42", "--event-id", "mine", "-s", "max_output_tokens:=50",
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [create] = [json.loads(f) for f in proxy.client_frames]
    assert create == {
        "type": "response.create",
        "event_id": "mine",
        "response": {
            "instructions": "be brief",
            "output_modalities": ["text"],
            "conversation": "none",
            "metadata": {"run": "42"},
            "max_output_tokens": 50,
        },
    }
    assert "metadata      run=42" in result.stderr
    assert "conversation  none (out-of-band)" in result.stderr


def test_events_view_shows_compact_rows_with_folded_deltas(server_url: str) -> None:
    result = rtc(
        "create",
        "--url",
        server_url,
        "--instructions",
        "one two three",
        "--events",
        "--modality",
        "audio",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "← session.created" in out and "← response.done" in out
    assert "← response.output_audio.delta ×" in out and " B audio" in out
    assert "← response.output_audio_transcript.delta ×3 13 chars" in out
    assert out.count("response.output_audio.delta") == 1  # folded into one row
    assert "[audio " in out and "status        completed" in out


def test_invalid_request_sends_nothing_and_exits_2(server_url: str) -> None:
    with relay(server_url) as proxy:
        result = rtc("create", "--url", proxy.url, "--max-output-tokens", "0")
    assert result.returncode == 2
    assert result.stderr == (
        'rtc: error: invalid response.create: response.max_output_tokens: must be 1-4096 or "inf", got 0\n'
    )
    assert result.stdout == "" and proxy.request_paths == []


def test_usage_error_exits_2() -> None:
    result = rtc("create", "--modality", "smell")
    assert result.returncode == 2
    assert "Invalid value for '--modality'" in result.stderr and "Traceback" not in result.stderr


def test_incomplete_response_exits_1(server_url: str) -> None:
    result = rtc(
        "create", "--url", server_url, "--instructions", "a b c d e f g", "--max-output-tokens", "3"
    )
    assert result.returncode == 1
    assert result.stdout == "a b c \n"
    assert "status        incomplete (max_output_tokens)" in result.stderr


def test_server_error_answering_our_event_exits_1(server_url: str) -> None:
    result = rtc(
        "create",
        "--url",
        server_url,
        "-s",
        'input:=[{"type": "item_reference", "id": "item_nope"}]',
    )
    assert result.returncode == 1
    assert "error: " in result.stderr and "answers rtc_1 (response.create)" in result.stderr


def test_cancel_after_is_a_success(local_server: Callable[..., str]) -> None:
    url = local_server(token_delay_ms=50)
    words = " ".join(f"w{i}" for i in range(200))
    result = rtc("create", "--url", url, "--instructions", words, "--cancel-after", "0.3", "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    done = [e for e in events if e["type"] == "response.done"][-1]["response"]
    assert done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}


def test_timeout_cancels_and_exits_1(local_server: Callable[..., str]) -> None:
    url = local_server(token_delay_ms=50)
    words = " ".join(f"w{i}" for i in range(200))
    result = rtc("create", "--url", url, "--instructions", words, "--timeout", "0.3")
    assert result.returncode == 1
    assert "rtc: timed out after 0.3s waiting for response.done" in result.stderr


def test_ctrl_c_cancels_then_exits_130(local_server: Callable[..., str]) -> None:
    url = local_server(token_delay_ms=50)
    words = " ".join(f"w{i}" for i in range(200))
    process = subprocess.Popen(
        [*RTC, "create", "--url", url, "--instructions", words, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:  # wait until the answer is streaming
        if '"response.output_text.delta"' in line or '"response.output_audio.delta"' in line:
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    done = [json.loads(line) for line in out.splitlines() if '"response.done"' in line]
    assert done and done[-1]["response"]["status"] == "cancelled"


def test_refused_connection_exits_3() -> None:
    result = rtc("create", "--url", "ws://127.0.0.1:9/v1/realtime", "--instructions", "x")
    assert result.returncode == 3
    assert result.stderr == "rtc: error: 127.0.0.1:9: connection refused\n"


def test_wrong_key_exits_3_without_leaking_it(local_server: Callable[..., str]) -> None:
    url = local_server(api_key="sk-right-key-000000000000")
    result = rtc("create", "--url", url, "--api-key", KEY, "--instructions", "x")
    assert result.returncode == 3
    assert "invalid_api_key" in result.stderr and "(close 3000)" in result.stderr
    assert KEY not in result.stderr + result.stdout
    assert len(result.stderr.splitlines()) == 1


def test_right_key_is_sent_as_bearer(local_server: Callable[..., str]) -> None:
    url = local_server(api_key=KEY)
    with relay(url) as proxy:
        result = rtc("create", "--url", proxy.url, "--api-key", KEY, "--instructions", "x")
    assert result.returncode == 0, result.stderr
    assert proxy.request_headers[0]["Authorization"] == f"Bearer {KEY}"
    assert "OpenAI-Beta" not in proxy.request_headers[0]
    assert KEY not in result.stderr + result.stdout


def test_connection_lost_mid_response_exits_4(local_server: Callable[..., str]) -> None:
    url = local_server(token_delay_ms=20)
    with relay(url, drop_after=8) as proxy:
        result = rtc("create", "--url", proxy.url, "--instructions", " ".join(["word"] * 50))
    assert result.returncode == 4
    assert result.stderr.strip().startswith("rtc: error: connection to 127.0.0.1:")
    assert "Traceback" not in result.stderr


def test_local_flag_ignores_the_key_and_never_prints_it() -> None:
    env = {**os.environ, "OPENAI_API_KEY": KEY}
    result = subprocess.run(
        [*RTC, "create", "--local", "--instructions", "hi"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert KEY not in result.stdout + result.stderr


def test_help_texts_have_examples() -> None:
    for args in ([], ["create"], ["serve"]):
        result = rtc(*args, "--help")
        assert result.returncode == 0
        assert "Example" in result.stdout
    assert rtc("--version").stdout.startswith("rtc ")
    assert "Exit codes: 0" in rtc("create", "--help").stdout


def test_startup_does_not_import_what_create_does_not_use() -> None:
    code = (
        "import sys, realtime_cli.cli, realtime_cli.oneshot;"
        "print(sorted(m for m in ('prompt_toolkit', 'realtime_cli.server.app', 'openai') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"


def imported(*args: str, stdin: str = "") -> set[str]:
    """The modules a real ``rtc ARGS`` run imports (``python -X importtime``)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "realtime_cli", *args],
        input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line.rpartition("|")[2] for line in result.stderr.splitlines()]
    return {row.strip() for row in rows if row.startswith(" ")}


def test_json_output_never_loads_rich(server_url: str) -> None:
    """--json and pipe's JSON output print what the server sent: the renderers stay unloaded."""
    create = imported("create", "--url", server_url, "--json", "hi")
    piped = imported("pipe", "--url", server_url, stdin='{"type": "response.create"}\n')
    for modules in (create, piped):
        assert "websockets" in modules  # the run really happened
        assert not {"rich", "realtime_cli.render", "prompt_toolkit"} & modules


def test_help_and_the_console_grammar_load_little() -> None:
    heavy = {"websockets", "rich", "prompt_toolkit", "asyncio", "realtime_cli.protocol.validate"}
    assert not heavy & imported("--help")
    # The console's grammar is pure: no typer, no command line (actions loads it for `create`).
    code = (
        "import sys, realtime_cli.console.parse, realtime_cli.console.actions;"
        "print(sorted(m for m in ('typer', 'realtime_cli.cli') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "[]", result.stderr


def test_bare_rtc_with_piped_stdin_is_pipe_mode(server_url: str) -> None:
    event = {
        "type": "response.create",
        "response": {"instructions": "bare", "output_modalities": ["text"]},
    }
    result = subprocess.run(
        [*RTC, "--url", server_url], input=json.dumps(event) + "\n",
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["type"] == "session.created"
    assert [e["response"]["status"] for e in events if e["type"] == "response.done"] == [
        "completed"
    ]


def test_connection_options_before_a_command_are_a_usage_error() -> None:
    result = rtc("--url", "ws://127.0.0.1:9/v1/realtime", "create")
    assert result.returncode == 2
    assert (
        result.stderr
        == "rtc: error: put connection options after the command: rtc create --url ...\n"
    )


def test_bare_rtc_takes_the_console_view_but_not_before_a_command() -> None:
    assert "--view" in rtc("--help").stdout
    result = rtc("--view", "quiet", "create")
    assert result.returncode == 2
    assert result.stderr.startswith("rtc: error: put connection options after the command")


def test_an_out_of_band_prompt_is_sent_in_response_input(server_url: str) -> None:
    with relay(server_url) as proxy:
        result = rtc(
            "create", "tell me a story", "--conversation", "none", "--json", "--url", proxy.url
        )
    assert result.returncode == 0, result.stderr
    sent = [json.loads(frame) for frame in proxy.client_frames]
    assert [e["type"] for e in sent] == ["response.create"]
    assert sent[0]["response"]["input"][0]["content"][0]["text"] == "tell me a story"
    assert (
        "conversation.item.added"
        not in [t for t in types(result.stdout.splitlines()) if t != "response.output_item.added"][
            :2
        ]
    )


def test_redirected_stdout_is_the_answer_alone_and_o_text_prints_nothing_else(
    server_url: str, tmp_path: Path
) -> None:
    answer = tmp_path / "ans.txt"
    with answer.open("w") as out:
        done = subprocess.run(
            [*RTC, "create", "capital of France", "--modality", "text", "--url", server_url],
            stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, cwd=ROOT,
            timeout=60,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert answer.read_text() == "capital of France\n"
    assert "status        completed" in done.stderr  # the status, for the person watching
    result = rtc("create", "capital of France", "-o", "text", "--url", server_url)
    assert (result.returncode, result.stdout, result.stderr) == (0, "capital of France\n", "")
    result = rtc("create", "hi", "-o", "panel", "--url", server_url)
    assert result.stdout.startswith("hi\n╭─ resp_") and "│ hi " in result.stdout
    result = rtc("create", "hi", "-o", "json", "--url", server_url)
    assert types(result.stdout.splitlines())[-2:] == ["response.done", "rate_limits.updated"]


def test_in_a_terminal_a_long_answer_is_not_repeated_in_the_panel(server_url: str) -> None:
    import pexpect

    words = " ".join(f"w{i}" for i in range(60))
    child = pexpect.spawn(
        RTC[0], [*RTC[1:], "create", words, "--modality", "text", "--url", server_url],
        cwd=str(ROOT), env={**os.environ, "COLUMNS": "80", "TERM": "xterm"}, encoding="utf-8",
        dimensions=(40, 80), timeout=60,
    )  # fmt: skip
    child.expect(pexpect.EOF)
    screen = child.before
    assert screen.count("w59") == 1, screen  # streamed once; the panel gives its size
    assert "(the answer above: " in screen and "status" in screen
