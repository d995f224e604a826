"""`rtc pipe` end to end: a real subprocess, real stdin pipes, the local server on real sockets."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from proxy import relay

from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.errors import ExitCode
from realtime_cli.pipe.job import PipeJob
from realtime_cli.pipe.run import run_pipe
from realtime_cli.server.app import running

ROOT = Path(__file__).resolve().parents[2]
RTC_PIPE = [sys.executable, "-m", "realtime_cli", "pipe"]
KEY = "sk-test-SECRET0123456789abcdefWXYZ"

USER = {
    "type": "conversation.item.create",
    "item": {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Hello from a pipe"}],
    },
}
TEXT_RESPONSE = {"type": "response.create", "response": {"output_modalities": ["text"]}}

# protocol.md §4.1, a text turn: the deltas collapsed into one.
TEXT_TURN = [
    "conversation.item.added",
    "conversation.item.done",
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "conversation.item.done",
    "response.output_item.done",
    "response.done",
    "rate_limits.updated",
]


class Run:
    def __init__(self, result: subprocess.CompletedProcess[str]) -> None:
        self.code = result.returncode
        self.stdout = result.stdout
        self.stderr = result.stderr
        # Every stdout line must be one JSON event: this fails loudly otherwise.
        self.events = [json.loads(line) for line in result.stdout.splitlines()]

    @property
    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    def of(self, type_: str) -> list[dict[str, object]]:
        return [e for e in self.events if e["type"] == type_]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "RTC_URL")}


def lines(*events: object) -> str:
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events)


def pipe(url: str, stdin: str, *args: str, timeout: float = 30) -> Run:
    result = subprocess.run(
        [*RTC_PIPE, "--url", url, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=_env(),
    )
    assert "Traceback" not in result.stderr, result.stderr
    return Run(result)


def collapse(types: list[str]) -> list[str]:
    return [t for i, t in enumerate(types) if not (t.endswith(".delta") and types[i - 1] == t)]


def test_jsonl_turn_stdout_is_exactly_what_the_server_sent(server_url: str) -> None:
    with relay(server_url) as proxy:
        run = pipe(proxy.url, lines(USER, TEXT_RESPONSE))
    assert run.code == ExitCode.OK, run.stderr
    assert run.stderr == ""
    assert run.stdout.splitlines() == proxy.server_frames  # byte for byte, nothing else
    assert collapse(run.types) == ["session.created", *TEXT_TURN]
    assert run.of("response.done")[0]["response"]["status"] == "completed"  # type: ignore[index]
    sent = [json.loads(frame) for frame in proxy.client_frames]
    assert [e["event_id"] for e in sent] == ["rtc_1", "rtc_2"]
    assert [e["type"] for e in sent] == ["conversation.item.create", "response.create"]


def test_pretty_printed_objects_and_arrays_are_sent_in_order(server_url: str) -> None:
    session = {"type": "session.update", "session": {"type": "realtime", "instructions": "Hi"}}
    stdin = json.dumps(session, indent=2) + "\n" + json.dumps([USER, TEXT_RESPONSE], indent=2)
    with relay(server_url) as proxy:
        run = pipe(proxy.url, stdin)
    assert run.code == ExitCode.OK, run.stderr
    sent = [json.loads(frame)["type"] for frame in proxy.client_frames]
    assert sent == ["session.update", "conversation.item.create", "response.create"]
    assert run.types[:2] == ["session.created", "session.updated"]
    assert run.types[-2:] == ["response.done", "rate_limits.updated"]


def test_a_bad_line_is_reported_and_the_rest_is_still_sent(server_url: str) -> None:
    bad = {"type": "response.create", "response": {"max_output_tokens": 0}}
    with relay(server_url) as proxy:
        run = pipe(proxy.url, lines(USER, "this is not json", bad, TEXT_RESPONSE))
    assert run.code == ExitCode.USAGE
    assert run.stderr.splitlines() == [
        "rtc: line 2, column 1: not JSON: expecting value",
        "rtc: line 3, column 1: invalid response.create: response.max_output_tokens: "
        'must be 1-4096 or "inf", got 0',
    ]
    assert len(proxy.client_frames) == 2  # the user message and the valid response.create
    assert run.of("response.done")[0]["response"]["status"] == "completed"  # type: ignore[index]


def test_strict_stops_at_the_first_bad_input(server_url: str) -> None:
    with relay(server_url) as proxy:
        run = pipe(proxy.url, lines(USER, '{"type": "response.creat"}', TEXT_RESPONSE), "--strict")
    assert run.code == ExitCode.USAGE
    assert run.stderr.startswith("rtc: line 2, column 1: invalid response.creat: type: unknown")
    assert [json.loads(f)["type"] for f in proxy.client_frames] == ["conversation.item.create"]
    assert "response.created" not in run.types
    assert run.types[-1] == "conversation.item.done"  # what was sent was still answered


def test_waits_make_create_then_cancel_deterministic(local_server: Callable[..., str]) -> None:
    url = local_server(token_delay_ms=50)
    stdin = lines(
        TEXT_RESPONSE,
        {"rtc": "wait", "for": "response.created"},
        {"type": "response.cancel", "response_id": "$last_response"},
        {"rtc": "wait", "for": "response.done", "status": "cancelled", "timeout": 5},
    )
    run = pipe(url, stdin)
    assert run.code == ExitCode.OK, run.stderr
    assert run.stderr == ""
    [done] = run.of("response.done")
    response = done["response"]
    assert response["status"] == "cancelled"  # type: ignore[index]
    assert response["id"] == run.of("response.created")[0]["response"]["id"]  # type: ignore[index]


def test_a_wait_counts_events_that_came_before_it_was_read(server_url: str) -> None:
    """No race: the answers arrive during the sleep, before the waits are read; the second wait
    for response.output_text.delta needs a second delta, the done needs its response.done."""
    stdin = lines(
        USER,
        TEXT_RESPONSE,
        {"rtc": "sleep", "seconds": 0.3},
        {"rtc": "wait", "for": "response.created", "timeout": 0.5},
        {"rtc": "wait", "for": "response.output_text.delta", "timeout": 0.5},
        {"rtc": "wait", "for": "response.output_text.delta", "timeout": 0.5},
        {"rtc": "wait", "for": "response.done", "status": "completed", "timeout": 0.5},
        {"rtc": "wait", "for": "response.done", "timeout": 0.3},
    )
    run = pipe(server_url, stdin)
    assert run.code == ExitCode.FAILED
    assert run.stderr.splitlines() == ["rtc: line 8: no response.done within 0.3s"]


def test_a_server_error_names_the_input_line_that_caused_it(
    local_server: Callable[..., str],
) -> None:
    run = pipe(local_server(token_delay_ms=50), lines(USER, TEXT_RESPONSE, TEXT_RESPONSE))
    assert run.code == ExitCode.FAILED
    [error] = run.of("error")
    assert error["error"]["event_id"] == "rtc_3"  # type: ignore[index]
    assert run.stderr.startswith(
        "rtc: line 3 (response.create rtc_3): error conversation_already_has_active_response: "
    )
    assert run.of("response.done")[0]["response"]["status"] == "completed"  # type: ignore[index]


def test_a_response_that_does_not_complete_exits_1(server_url: str) -> None:
    limited = {"type": "response.create", "response": {"max_output_tokens": 1}}
    run = pipe(server_url, lines(USER, limited))
    assert run.code == ExitCode.FAILED
    assert run.of("response.done")[0]["response"]["status"] == "incomplete"  # type: ignore[index]
    assert "line 2: resp_" in run.stderr and "ended incomplete (max_output_tokens)" in run.stderr


def test_no_event_ids_sends_events_as_given(server_url: str) -> None:
    with relay(server_url) as proxy:
        run = pipe(proxy.url, lines({"type": "input_audio_buffer.commit"}), "--no-event-ids")
    assert run.code == ExitCode.FAILED  # an empty buffer cannot be committed
    assert json.loads(proxy.client_frames[0]) == {"type": "input_audio_buffer.commit"}
    assert run.of("error")[0]["error"]["event_id"] is None  # type: ignore[index]
    assert run.stderr.startswith("rtc: error input_audio_buffer_commit_empty")


def test_connect_failures_exit_3_in_one_line(local_server: Callable[..., str]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refused = pipe(f"ws://127.0.0.1:{port}/v1/realtime", lines(TEXT_RESPONSE))
    assert refused.code == ExitCode.CONNECT
    assert refused.stderr == f"rtc: error: 127.0.0.1:{port}: connection refused\n"

    url = local_server(api_key=KEY)
    wrong = pipe(url, lines(TEXT_RESPONSE), "--api-key", "sk-wrong-key-0000000000000000")
    assert wrong.code == ExitCode.CONNECT
    assert len(wrong.stderr.splitlines()) == 1 and "invalid_api_key" in wrong.stderr
    assert "sk-wrong-key-0000000000000000" not in wrong.stderr
    assert pipe(url, lines(TEXT_RESPONSE), "--api-key", KEY).code == ExitCode.OK


def test_connection_lost_before_the_work_is_done_exits_4(local_server: Callable[..., str]) -> None:
    with relay(local_server(token_delay_ms=20), drop_after=4) as proxy:
        run = pipe(proxy.url, lines(USER, TEXT_RESPONSE))
    assert run.code == ExitCode.LOST
    assert len(run.events) == 4
    assert "rtc: connection to 127.0.0.1" in run.stderr and "still owed: resp_" in run.stderr


def test_until_ends_at_the_first_event_of_that_type(server_url: str) -> None:
    run = pipe(server_url, lines(USER, TEXT_RESPONSE), "--until", "response.created")
    assert run.code == ExitCode.OK
    assert run.types[-1] == "response.created" and "response.done" not in run.types


def test_idle_timeout_gives_up_on_a_silent_server(local_server: Callable[..., str]) -> None:
    url = local_server(token_delay_ms=5000)
    run = pipe(url, lines(TEXT_RESPONSE), "--idle-timeout", "0.5")
    assert run.code == ExitCode.FAILED
    # The message is the positive signal that the idle timeout (not the 5 s answer) ended it;
    # a duration would only measure how loaded the machine is.
    assert "nothing from the server for 0.5s; still owed: resp_" in run.stderr
    assert "(line 1) → response.done" in run.stderr


def test_a_wait_that_times_out_is_reported(local_server: Callable[..., str]) -> None:
    stdin = lines(TEXT_RESPONSE, {"rtc": "wait", "for": "response.done", "timeout": 0.2})
    run = pipe(local_server(token_delay_ms=5000), stdin, "--timeout", "1")
    assert run.code == ExitCode.FAILED
    assert "rtc: line 2: no response.done within 0.2s" in run.stderr
    assert "timed out after 1s; still owed: resp_" in run.stderr


def test_last_response_before_any_response_is_bad_input(server_url: str) -> None:
    run = pipe(server_url, lines({"type": "response.cancel", "response_id": "$last_response"}))
    assert run.code == ExitCode.USAGE
    assert "line 1, column 1: $last_response: no response.created" in run.stderr


def test_events_are_sent_while_stdin_is_still_open(server_url: str) -> None:
    """A script can read the answer to one event before it writes the next."""
    process = subprocess.Popen(
        [*RTC_PIPE, "--url", server_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_env(),
    )
    assert process.stdin and process.stdout
    try:
        process.stdin.write(lines(USER, TEXT_RESPONSE))
        process.stdin.flush()
        seen = []
        while "response.done" not in seen:  # stdout is flushed as events arrive
            seen.append(json.loads(process.stdout.readline())["type"])
        process.stdin.write(lines(TEXT_RESPONSE))
        process.stdin.close()
        rest = [json.loads(line)["type"] for line in process.stdout]
        assert rest.count("response.done") == 1
        assert process.wait(10) == ExitCode.OK
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        assert process.stderr
        process.stderr.close()


async def test_run_pipe_in_process_with_swapped_streams() -> None:
    async with running(token_delay_ms=1) as server:
        stdout, stderr = io.StringIO(), io.StringIO()
        job = PipeJob(
            Endpoint(server.url),
            stdin=io.BytesIO(lines(USER, TEXT_RESPONSE, "[1]").encode()),
            stdout=stdout,
            stderr=stderr,
        )
        assert await run_pipe(job) == ExitCode.USAGE
    assert stderr.getvalue() == (
        "rtc: line 3, column 2: expected a client event (an object), got an integer\n"
    )
    types = [json.loads(line)["type"] for line in stdout.getvalue().splitlines()]
    assert collapse(types) == ["session.created", *TEXT_TURN]


async def test_pretty_output_is_rows_and_a_panel() -> None:
    async with running(token_delay_ms=1) as server:
        stdout = io.StringIO()
        job = PipeJob(
            Endpoint(server.url),
            pretty=True,
            stdin=io.BytesIO(lines(USER, TEXT_RESPONSE).encode()),
            stdout=stdout,
            stderr=io.StringIO(),
        )
        assert await run_pipe(job) == ExitCode.OK
    out = stdout.getvalue()
    assert "→ response.create rtc_2" in out
    assert "← response.output_text.delta ×" in out  # deltas folded into one row
    assert "Hello from a pipe" in out and "completed" in out
    assert "{" not in out.splitlines()[0]  # rows, not JSON


def test_ctrl_c_cancels_the_running_response_and_exits_130(
    local_server: Callable[..., str],
) -> None:
    process = subprocess.Popen(
        [*RTC_PIPE, "--url", local_server(token_delay_ms=200)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_env(),
    )
    assert process.stdin and process.stdout and process.stderr
    try:
        process.stdin.write(lines(TEXT_RESPONSE))
        process.stdin.flush()
        while json.loads(process.stdout.readline())["type"] != "response.created":
            pass
        process.send_signal(signal.SIGINT)
        rest = [json.loads(line) for line in process.stdout]
        assert process.wait(10) == ExitCode.INTERRUPTED
        [done] = [e for e in rest if e["type"] == "response.done"]
        assert done["response"]["status"] == "cancelled"
        assert process.stderr.read() == "rtc: interrupted: cancelling 1 response(s)\n"
    finally:
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()


def test_connection_lost_while_stdin_is_still_open_exits_4(server_url: str) -> None:
    # The producer is still writing when the server goes away: that is lost work, not success.
    update = json.dumps({"type": "session.update", "session": {"type": "realtime"}}) + "\n"
    with (
        relay(server_url, drop_after=2) as proxy,
        subprocess.Popen(
            [*RTC_PIPE, "--url", proxy.url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=_env(),
        ) as process,  # fmt: skip
    ):
        assert process.stdin and process.stdout and process.stderr
        process.stdin.write(update)
        process.stdin.flush()
        try:
            process.wait(timeout=30)  # stdin stays open: rtc must notice the loss by itself
        finally:
            process.kill()
        out, err = process.stdout.read(), process.stderr.read()
    assert process.returncode == 4, err
    assert "rtc: connection to 127.0.0.1:" in err and "Traceback" not in err
    types = [json.loads(line)["type"] for line in out.splitlines()]
    assert types == ["session.created", "session.updated"]


def test_idle_timeout_zero_means_no_limit(server_url: str) -> None:
    wait = {"rtc": "wait", "for": "input_audio_buffer.speech_started"}  # never comes here
    run = pipe(server_url, lines(wait), "--idle-timeout", "0", "--timeout", "1")
    assert run.code == 1
    assert "timed out after 1s" in run.stderr
    assert "within 0s" not in run.stderr
