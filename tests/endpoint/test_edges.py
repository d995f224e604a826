"""Edges found by hands-on review: malformed URLs, headers, subprotocols and keys are one-line
usage errors before anything connects; ``rtc create`` ends its streamed line before any message,
stops quietly when stdout's reader goes away, and honours ``--timeout`` while connecting;
recordings survive a failing disk and are private; error lines never carry escape sequences;
doctor reports a failed connection, matches errors by event_id, and says what it did not run."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_run import ROOT, RTC, rtc
from proxy import relay, serving
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection

from realtime_cli.closed_pipe import silence
from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.endpoint.profiles import parse
from realtime_cli.endpoint.select import ConnectionOptions, Selection, select
from realtime_cli.errors import ConnectionLost, ExitCode, UsageError
from realtime_cli.oneshot import CreateJob, run_create
from realtime_cli.protocol.service import KEY_PROTOCOL
from realtime_cli.session.recording import Recorder
from realtime_cli.session.transport import Transport
from realtime_cli.tools.doctor import FAIL, NOT_RUN, PASS, probe

KEY = "sk-proj-EDGES0123456789abcdefghijklmnop"


def pick(environ: dict[str, str] | None = None, config: str = "", **opts: Any) -> Selection:
    cfg = parse(config, Path("/cfg/config.toml")) if config else None
    return select(ConnectionOptions(**opts), environ or {}, cfg)


def usage_error(**kwargs: Any) -> str:
    with pytest.raises(UsageError) as info:
        pick(**kwargs).endpoint()
    message = info.value.message
    assert "\n" not in message and KEY not in message, message
    return message


# -- 1. URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ws://127.0.0.1:99999/", "--url: invalid port '99999': expected a number 0-65535"),
        ("ws://h:abc/", "--url: invalid port 'abc'"),
        ("ws://127.0.0.1:8765 /x", "--url: the URL contains a space"),
        ("ws://[::1/", "--url: invalid host: unbalanced '[' or ']'"),
        ("ws:///v1/realtime", "--url: no host"),
        ("http://foo", "--url: expected a ws:// or wss:// URL (try ws://foo)"),
        ("ftp://foo", "--url: expected a ws:// or wss:// URL, got 'ftp://foo'"),
    ],
)
def test_a_bad_url_is_a_usage_error_naming_it(url: str, problem: str) -> None:
    assert usage_error(url=url).startswith(problem)


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"environ": {"RTC_URL": "ws://h:abc/"}}, "env RTC_URL: invalid port 'abc'"),
        (
            {"environ": {"OPENAI_BASE_URL": "https://[bad", "OPENAI_API_KEY": KEY}},
            "env OPENAI_BASE_URL: invalid host",
        ),
        (
            {"azure_endpoint": "https://[x", "deployment": "d", "api_key": KEY},
            "--azure-endpoint: invalid host",
        ),
        (
            {"config": '[profiles.p]\nurl = "ws://h:99999/"\n', "profile": "p"},
            "--profile p: invalid port '99999'",
        ),
    ],
)
def test_every_source_of_a_url_is_checked(kwargs: dict[str, Any], problem: str) -> None:
    assert usage_error(**kwargs).startswith(problem)


def test_a_secret_in_a_bad_url_is_not_shown() -> None:
    message = usage_error(url=f"https://h/realtime?api_key={KEY}")
    assert "(try wss://h/realtime?api_key=" in message


@pytest.mark.parametrize("name", ["url", "azure_endpoint", "api_key", "model", "profile"])
def test_an_explicitly_empty_option_is_a_usage_error(name: str) -> None:
    assert usage_error(**{name: ""}) == f"--{name.replace('_', '-')} is empty"


def test_bad_urls_on_the_command_line_are_one_line_exit_2() -> None:
    for args in (
        ("create", "--url", "ws://127.0.0.1:99999/"),
        ("config", "--url", "ws://[::1/"),
        ("create", "--url", ""),
    ):
        result = rtc(*args)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("rtc: error: --url")
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr == "rtc: error: --url is empty\n"
    assert result.stdout == ""


async def test_transport_turns_a_value_error_into_a_usage_error() -> None:
    with pytest.raises(UsageError, match="Port out of range"):
        await Transport.connect("ws://127.0.0.1:99999/v1/realtime")


# -- 2. headers and subprotocols ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"headers": ("X-A: b\r\nc",)}, "--header 'X-A': the value contains a carriage return"),
        ({"headers": ("X-A: b\nc",)}, "--header 'X-A': the value contains a line break"),
        ({"headers": (": v",)}, "--header #1: the name is empty, expected 'Name: value'"),
        ({"headers": (KEY,)}, "--header #1…: expected 'Name: value'"),
        ({"subprotocols": ("realtime", "")}, "--subprotocol #2 is empty"),
        ({"subprotocols": ("a b",)}, "--subprotocol #1: not a valid subprotocol"),
        ({"subprotocols": (KEY_PROTOCOL + KEY + "\r",)}, "--subprotocol #1: not a valid"),
    ],
)
def test_bad_headers_and_subprotocols_are_usage_errors(
    kwargs: dict[str, Any], message: str
) -> None:
    assert usage_error(url="ws://h/x", **kwargs).startswith(message)


def test_a_profile_header_is_checked_too() -> None:
    config = '[profiles.p]\nurl = "ws://h/x"\nheaders = { "X-Key" = "a\\r\\nb" }\n'
    message = usage_error(config=config, profile="p")
    assert message == "--profile p: header 'X-Key': the value contains a carriage return"


def test_a_bad_subprotocol_is_exit_2_before_connecting() -> None:
    result = rtc("create", "--url", "ws://127.0.0.1:9/", "--subprotocol", "")
    assert (result.returncode, result.stderr) == (2, "rtc: error: --subprotocol #1 is empty\n")


# -- 3. keys with control characters -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "source"),
    [
        ({"api_key": KEY + "\r"}, "--api-key"),
        ({"environ": {"OPENAI_API_KEY": KEY + "\r"}}, "env OPENAI_API_KEY"),
        (
            {
                "config": '[profiles.p]\nurl = "ws://h/x"\nkey_env = "K"\n',
                "profile": "p",
                "environ": {"K": KEY + "\n"},
            },
            "env K (key_env of profile 'p')",
        ),
        (
            {
                "config": f'[profiles.p]\nurl = "ws://h/x"\napi_key = "{KEY}\\u0007"\n',
                "profile": "p",
            },
            "api_key of profile 'p'",
        ),
        (
            {
                "config": (
                    f'[profiles.p]\nurl = "ws://h/x"\nkey_command = ["printf", "{KEY}\\\\001"]\n'
                ),
                "profile": "p",
            },
            "the output of key_command of profile 'p'",
        ),
    ],
)
def test_a_key_with_a_control_character_is_refused_naming_its_source(
    kwargs: dict[str, Any], source: str
) -> None:
    message = usage_error(**kwargs)
    assert message.startswith(f"{source}: the API key contains ")
    assert KEY not in message


def test_a_crlf_key_on_the_command_line_is_one_line_and_never_shown() -> None:
    result = rtc("create", env={"OPENAI_API_KEY": KEY + "\r"})
    assert result.returncode == 2
    assert result.stderr == (
        "rtc: error: env OPENAI_API_KEY: the API key contains a carriage return "
        "(a CRLF .env file?): remove it\n"
    )


# -- 4, 5, 8. rtc create: --timeout while connecting, line endings, escape sequences -----------

SESSION_CREATED = json.dumps({"type": "session.created", "session": {"id": "sess_1"}})


async def _silent(ws: ServerConnection) -> None:
    async for _ in ws:
        pass


def _streams_then(close: bool) -> Callable[[ServerConnection], Any]:
    """session.created; a response.create gets a response and a partial answer, then the
    connection closes with an escape sequence in its reason (or the server goes quiet)."""

    async def handler(ws: ServerConnection) -> None:
        await ws.send(SESSION_CREATED)
        async for message in ws:
            if json.loads(message).get("type") != "response.create":
                continue
            response = {"id": "resp_1", "status": "in_progress", "output": []}
            await ws.send(json.dumps({"type": "response.created", "response": response}))
            delta = {"response_id": "resp_1", "item_id": "i", "output_index": 0}
            await ws.send(
                json.dumps({"type": "response.output_text.delta", **delta, "delta": "partial"})
            )
            if close:
                await ws.close(4001, "bye \x1b[2J")
                return

    return handler


def test_create_timeout_bounds_the_wait_for_session_created() -> None:
    with serving(_silent) as url:
        started = time.monotonic()
        result = rtc("create", "--url", url, "--timeout", "1")
    assert time.monotonic() - started < 10
    assert result.returncode == 3
    assert result.stderr.endswith(": no session.created within 1s\n"), result.stderr


def test_a_lost_connection_ends_the_streamed_line_and_shows_the_reason_inert() -> None:
    with serving(_streams_then(close=True)) as url:
        result = rtc("create", "--url", url, "--modality", "text")
    assert result.returncode == ExitCode.LOST
    assert result.stdout == "partial\n"
    host = url.split("/")[2]
    assert result.stderr == (
        f"rtc: error: connection to {host} closed with code 4001 (bye �[2J); "
        "resp_1 unfinished (7 characters received)\n"
    )


async def test_messages_start_on_a_line_of_their_own() -> None:
    """stdout and stderr on one terminal: each message comes after the answer's line."""
    with serving(_streams_then(close=False)) as url:
        screen = io.StringIO()
        job = CreateJob(Endpoint(url), {}, timeout=0.5, stdout=screen, stderr=screen)
        assert await run_create(job) == ExitCode.FAILED
    assert screen.getvalue() == "partial\nrtc: timed out after 0.5s waiting for response.done\n"
    with serving(_streams_then(close=True)) as url:
        screen = io.StringIO()
        job = CreateJob(Endpoint(url), {}, stdout=screen, stderr=screen)
        with pytest.raises(ConnectionLost):
            await run_create(job)
    assert screen.getvalue() == "partial\n"  # cli.main's error line comes next


def test_ctrl_c_notice_starts_on_a_line_of_its_own() -> None:
    """stdout and stderr into one pipe, as on a terminal: `1 2 3 ^C` then the notice."""
    process = subprocess.Popen(
        [*RTC, "create", "-i", " ".join(map(str, range(1, 101))), "--modality", "text"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    with process.stdout:
        assert process.stdout.readline().startswith("rtc: using the built-in local server")
        assert process.stdout.read(6) == "1 2 3 "
        process.send_signal(signal.SIGINT)
        rest = process.stdout.read()
    assert process.wait(60) == ExitCode.INTERRUPTED, rest
    streamed, notice = ("1 2 3 " + rest).split("\n")[:2]
    assert streamed.startswith("1 2 3 ") and "rtc" not in streamed, rest
    assert notice == "rtc: interrupted: cancelling the response"


# -- 6. a closed stdout ------------------------------------------------------------------------


def test_create_stops_quietly_when_stdouts_reader_goes_away() -> None:
    """`rtc create ... | head -c 20`: the reader exits while the answer still streams."""
    process = subprocess.Popen(
        [*RTC, "create", "-i", " ".join(map(str, range(1, 101))), "--modality", "text"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(20) == "1 2 3 4 5 6 7 8 9 10"
    process.stdout.close()
    with process.stderr:
        stderr = process.stderr.read()
    assert process.wait(60) == 0, stderr
    assert stderr.startswith("rtc: using the built-in local server")
    assert stderr.count("\n") == 1, stderr


class _ReaderLeavesAfterALine(io.StringIO):
    """A pipe whose reader (`head -1`) goes away once it has a whole line."""

    gone = False

    def write(self, text: str) -> int:
        if self.gone:
            raise BrokenPipeError(32, "Broken pipe")
        self.gone = "\n" in text
        return super().write(text)

    def flush(self) -> None:
        if self.gone:
            raise BrokenPipeError(32, "Broken pipe")


async def test_a_reader_leaving_before_the_panel_is_not_rich_exiting() -> None:
    """rich turns a broken pipe into SystemExit(1) (escaping the task): not here."""
    stdout, stderr = _ReaderLeavesAfterALine(), io.StringIO()
    response = {"instructions": "one two", "output_modalities": ["text"]}
    job = CreateJob(Endpoint(None), response, stdout=stdout, stderr=stderr)
    assert await run_create(job) == ExitCode.OK
    assert stdout.getvalue() == "one two\n"


def test_silence_lets_writes_to_a_closed_pipe_succeed() -> None:
    read, write = os.pipe()
    os.close(read)
    with open(write, "w") as stream:
        stream.write("x")
        with pytest.raises(BrokenPipeError):
            stream.flush()
        silence(stream)
        stream.write("y")
        stream.flush()


# -- 7. recordings -----------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (ENOSPC)")
def test_a_recording_that_cannot_be_written_warns_once_and_never_crashes() -> None:
    warnings: list[str] = []
    recorder = Recorder(open("/dev/full", "w"), warn=warnings.append)  # noqa: SIM115
    recorder.client({"type": "response.create"}, '{"type": "response.create"}', 0.0)
    recorder.close()
    assert warnings == [
        "rtc: recording stopped: cannot write the recording: No space left on device"
    ]
    result = rtc("create", "-i", "hi", "--record", "/dev/full")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("rtc: recording stopped: cannot write /dev/full") == 1


def test_a_recording_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    with Recorder.open(path) as recorder:
        recorder.client({"type": "response.create"}, '{"type": "response.create"}', 0.0)
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["dir"] == "client"


# -- 9. doctor ---------------------------------------------------------------------------------


def test_doctor_json_reports_a_failed_connection() -> None:
    result = rtc("doctor", "--url", "ws://127.0.0.1:9/v1/realtime", "--json")
    assert result.returncode == 3
    assert result.stderr == "rtc: error: 127.0.0.1:9: connection refused\n"
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["checks"] == [
        {
            "name": "handshake",
            "status": "fail",
            "detail": "127.0.0.1:9: connection refused",
            "data": {},
        }
    ]


def _with_noise(upstream: str) -> Callable[[ServerConnection], Any]:
    """A relay that answers every client event with an extra error naming no event_id, before
    the server's real answer: a notice about something else, not the answer to the check."""
    noise = {"type": "error", "error": {"type": "server_error", "code": "noise", "message": "?"}}

    async def handler(ws: ServerConnection) -> None:
        async with connect(upstream, max_size=None) as server:

            async def down() -> None:
                async for frame in server:
                    await ws.send(frame)

            task = asyncio.ensure_future(down())
            try:
                async for frame in ws:
                    await ws.send(json.dumps(noise))
                    await server.send(frame)
            finally:
                task.cancel()

    return handler


async def test_doctor_matches_errors_by_the_event_id_it_sent(
    local_server: Callable[..., str],
) -> None:
    with serving(_with_noise(local_server(token_delay_ms=20))) as url:
        report = await probe(Endpoint(url), step_timeout=5)
    assert report.ok, [(c.name, c.status, c.detail) for c in report.checks]


async def test_doctor_marks_what_it_could_not_run_after_the_connection_drops(
    server_url: str,
) -> None:
    with relay(server_url, drop_after=4) as proxy:
        report = await probe(Endpoint(proxy.url), step_timeout=5)
    statuses = [c.status for c in report.checks]
    lost = statuses.index(FAIL)
    assert statuses[:lost] == [PASS] * lost and lost >= 3
    assert "closed" in report.checks[lost].detail
    assert statuses[lost + 1 : -1] == [NOT_RUN] * (len(statuses) - lost - 2)
    assert report.notes == [
        f"{len(statuses) - lost - 2} checks were not run: the connection was lost during "
        f"{report.checks[lost].name!r}"
    ]
    assert report.as_json()["notes"] == report.notes and not report.ok
