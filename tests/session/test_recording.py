"""--record on `rtc create`, `rtc pipe`, the console and bare `rtc`: what a recording holds, that
it holds no secret, and that a run killed mid-response leaves valid JSON Lines behind."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from cli_run import ROOT, RTC, rtc
from console_harness import Console_
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from proxy import relay
from rich.console import Console

from realtime_cli import __version__
from realtime_cli.console.actions import HANDLERS
from realtime_cli.console.shell import Shell
from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.endpoint.select import select_endpoint
from realtime_cli.session.recording import Recorder

KEY = "sk-test-SECRET0123456789abcdefWXYZ"


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def events(path: Path, direction: str) -> list[dict[str, Any]]:
    return [row["event"] for row in lines(path)[1:] if row.get("dir") == direction]


def check_header(header: dict[str, Any], endpoint: str, audio: bool = True) -> None:
    assert header["rtc"] == "recording" and header["format"] == 1
    assert header["version"] == __version__
    assert header["endpoint"] == endpoint
    assert header["model"] == "gpt-realtime"
    assert header["audio"] is audio
    started = datetime.fromisoformat(header["started"])
    assert started.tzinfo is not None and abs(time.time() - started.timestamp()) < 60


def test_create_records_every_event_both_ways_as_the_server_sent_them(
    server_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "create.jsonl"
    with relay(server_url) as proxy:
        result = rtc("create", "hello there", "--modality", "text", "--url", proxy.url,
                     "--record", str(path))  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = lines(path)
    check_header(rows[0], proxy.url)
    assert [row["dir"] for row in rows[1:3]] == ["server", "client"]
    assert events(path, "server") == [json.loads(frame) for frame in proxy.server_frames]
    assert events(path, "client") == [json.loads(frame) for frame in proxy.client_frames]
    times = [row["t"] for row in rows[1:]]
    assert times == sorted(times) and 0 <= times[0] < times[-1] < 30
    # Server frames are written as they came: the recording holds the very bytes.
    text = path.read_text()
    assert all(frame in text for frame in proxy.server_frames)


def test_pipe_records_with_the_same_envelope_and_the_same_events_it_prints(
    server_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "pipe.jsonl"
    script = "\n".join(
        [
            '{"type": "conversation.item.create", "item": {"type": "message", "role": "user",'
            ' "content": [{"type": "input_text", "text": "from a pipe"}]}}',
            '{"type": "response.create", "response": {"output_modalities": ["text"]}}',
        ]
    )
    result = rtc("pipe", "--url", server_url, "--record", str(path), stdin=script)
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert events(path, "server") == printed
    sent = events(path, "client")
    assert [e["event_id"] for e in sent] == ["rtc_1", "rtc_2"]
    assert sent[0]["item"]["content"][0]["text"] == "from a pipe"
    check_header(lines(path)[0], server_url)


def test_bare_rtc_with_piped_stdin_records_too(server_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bare.jsonl"
    result = rtc("--url", server_url, "--record", str(path), stdin='{"type": "response.create"}')
    assert result.returncode == 0, result.stderr
    assert events(path, "client")[0]["type"] == "response.create"
    assert "response.done" in [e["type"] for e in events(path, "server")]


async def test_the_console_records_what_its_log_shows(server_url: str, tmp_path: Path) -> None:
    path = tmp_path / "console.jsonl"
    with (
        Recorder.open(path) as recorder,
        create_pipe_input() as pipe,
        create_app_session(input=pipe, output=DummyOutput()),
    ):
        buffer = io.StringIO()
        out = Console(file=buffer, width=100, color_system=None)
        endpoint = select_endpoint(
            url=server_url, api_key=None, model=None, local=False, environ={}
        )
        shell = Shell(endpoint, out, handlers=HANDLERS, view="events", record=recorder)
        console = Console_(pipe, shell, buffer)
        await console.wait_for("type help")
        await console.line("session --modality text", expect="session.updated")
        await console.line("hello console", expect="╰")
        assert await console.finish() == 0
    log = [(entry.t, "client" if entry.direction == "→" else "server", entry.event)
           for entry in shell.log]  # fmt: skip
    recorded = [(row["t"], row["dir"], row["event"]) for row in lines(path)[1:]]
    assert recorded == log
    assert [e["type"] for e in events(path, "client")] == [
        "session.update",
        "conversation.item.create",
        "response.create",
    ]
    check_header(lines(path)[0], server_url)


async def test_a_console_reconnect_adds_a_header_and_keeps_one_clock(
    server_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "reconnect.jsonl"
    with (
        Recorder.open(path) as recorder,
        create_pipe_input() as pipe,
        create_app_session(input=pipe, output=DummyOutput()),
    ):
        buffer = io.StringIO()
        out = Console(file=buffer, width=100, color_system=None)
        endpoint = select_endpoint(
            url=server_url, api_key=None, model=None, local=False, environ={}
        )
        console = Console_(pipe, Shell(endpoint, out, handlers=HANDLERS, record=recorder), buffer)
        await console.wait_for("type help")
        await asyncio.sleep(0.05)
        await console.line("reconnect", expect="type help")
        assert await console.finish() == 0
    rows = lines(path)
    headers = [i for i, row in enumerate(rows) if row.get("rtc") == "recording"]
    assert headers[0] == 0 and len(headers) == 2
    second = rows[headers[1]]
    assert second["t"] >= 0.05 and "t" not in rows[0]
    assert rows[headers[1] + 1]["event"]["type"] == "session.created"
    assert rows[headers[1] + 1]["t"] >= second["t"]


def test_nothing_secret_reaches_a_recording(
    local_server: Callable[..., str], tmp_path: Path
) -> None:
    url = local_server(token_delay_ms=1, api_key=KEY)
    by_header, by_query, refused = (tmp_path / n for n in ("h.jsonl", "q.jsonl", "r.jsonl"))
    ok = rtc("create", "hi", "--url", url, "--api-key", KEY, "--record", str(by_header))
    assert ok.returncode == 0, ok.stderr
    ok = rtc("pipe", "--url", f"{url}?api-key={KEY}", "--record", str(by_query),
             stdin='{"type": "response.create"}')  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    bad = rtc("create", "hi", "--url", url, "--api-key", KEY[::-1], "--record", str(refused))
    assert bad.returncode == 3
    assert "invalid_api_key" in refused.read_text()  # the refusal is recorded...
    for path in (by_header, by_query, refused):
        text = path.read_text()
        for secret in (KEY, KEY[:-4], KEY[::-1], KEY[::-1][:-4]):
            assert secret not in text, path.name  # ...but never a key
        assert "Authorization" not in text and "Bearer" not in text
    assert lines(by_query)[0]["endpoint"].endswith("api-key=…WXYZ")  # redact_url's form


def test_record_audio_no_drops_audio_both_ways(server_url: str, tmp_path: Path) -> None:
    audio = base64.b64encode(bytes(4800)).decode()
    script = "\n".join(
        [
            json.dumps({"type": "input_audio_buffer.append", "audio": audio}),
            '{"type": "input_audio_buffer.commit"}',
            '{"type": "conversation.item.create", "item": {"type": "message", "role": "user",'
            ' "content": [{"type": "input_text", "text": "say something"}]}}',
            '{"type": "response.create"}',
        ]
    )
    sizes = {}
    for mode in ("yes", "no"):
        path = tmp_path / f"audio-{mode}.jsonl"
        result = rtc("pipe", "--url", server_url, "--record", str(path), "--record-audio", mode,
                     stdin=script)  # fmt: skip
        assert result.returncode == 0, result.stderr
        sizes[mode] = path.stat().st_size
        server_types = [e["type"] for e in events(path, "server")]
        append = events(path, "client")[0]
        assert append["type"] == "input_audio_buffer.append"
        assert "response.output_audio_transcript.delta" in server_types
        if mode == "yes":
            assert append["audio"] == audio and "response.output_audio.delta" in server_types
            check_header(lines(path)[0], server_url)
        else:
            assert "audio" not in append and "response.output_audio.delta" not in server_types
            header = lines(path)[0]
            check_header(header, server_url, audio=False)
            assert "--record-audio no" in header["note"]
    assert sizes["no"] * 2 < sizes["yes"]


def test_record_option_errors_are_usage_errors(tmp_path: Path) -> None:
    result = rtc("create", "hi", "--record", str(tmp_path / "missing" / "x.jsonl"))
    assert result.returncode == 2
    assert result.stderr.startswith("rtc: error: --record: cannot write ")
    result = rtc("create", "hi", "--record-audio", "no")
    assert result.returncode == 2 and "--record-audio needs --record FILE" in result.stderr
    result = rtc("--record", str(tmp_path / "x.jsonl"), "create", "hi")
    assert result.returncode == 2 and "after the command" in result.stderr


def test_a_recording_killed_mid_response_is_valid_up_to_the_last_event(
    local_server: Callable[..., str], tmp_path: Path
) -> None:
    url = local_server(token_delay_ms=200)
    path = tmp_path / "killed.jsonl"
    words = " ".join(f"word{i}" for i in range(40))
    process = subprocess.Popen(
        [*RTC, "create", words, "--modality", "text", "--url", url, "--record", str(path)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def deltas() -> int:
        return path.read_text().count("response.output_text.delta") if path.exists() else 0

    try:
        deadline = time.monotonic() + 30
        while deltas() < 3:
            assert time.monotonic() < deadline, "no deltas recorded"
            assert process.poll() is None, "rtc ended before it was killed"
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(10)
    text = path.read_text()
    assert text.endswith("\n")  # flushed line by line: nothing half-written
    rows = [json.loads(line) for line in text.splitlines()]
    assert rows[0]["rtc"] == "recording"
    types = [row["event"]["type"] for row in rows[1:]]
    assert "response.done" not in types and types[-1] == "response.output_text.delta"
    replay = rtc("replay", str(path), "--instant")
    assert replay.returncode == 0, replay.stderr
    assert "has no response.done in this recording" in replay.stderr


def test_a_failing_write_stops_the_recording_with_one_warning() -> None:
    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    warnings: list[str] = []
    recorder = Recorder(Full(), warn=warnings.append, name="full.jsonl")
    for _ in range(3):
        recorder.server('{"type": "x"}', {"type": "x"}, 0.1)
    assert warnings == ["rtc: recording stopped: cannot write full.jsonl: No space left on device"]
    assert recorder.failed and recorder.lines == 0


def test_frames_that_are_not_events_are_kept_raw_and_pretty_frames_become_one_line() -> None:
    buffer = io.StringIO()
    recorder = Recorder(buffer)
    recorder.server("not json", None, 0.5)
    recorder.server(b"\x00\x01", None, 0.6)
    recorder.server('{\n  "type": "session.created"\n}', {"type": "session.created"}, 0.7)
    recorder.client({"type": "response.create"}, '{"type":"response.create"}', 0.8)
    assert buffer.getvalue().splitlines() == [
        '{"t":0.5,"dir":"server","raw":"not json"}',
        '{"t":0.6,"dir":"server","raw":"\\u0000\\u0001"}',
        '{"t":0.7,"dir":"server","event":{"type":"session.created"}}',
        '{"t":0.8,"dir":"client","event":{"type":"response.create"}}',
    ]


def test_scrub_applies_to_every_line() -> None:
    endpoint = Endpoint("ws://h/v1/realtime", secrets=(KEY,))
    buffer = io.StringIO()
    Recorder(buffer).server(f'{{"type":"error","m":"{KEY}"}}', {"type": "error"}, 0, endpoint.scrub)
    assert KEY not in buffer.getvalue() and "…WXYZ" in buffer.getvalue()
