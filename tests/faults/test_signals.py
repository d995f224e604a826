"""SIGTERM and SIGHUP stop rtc create and rtc pipe as Ctrl-C does: the active response cancelled,
the socket closed with 1000, stdout and the recording flushed, a documented exit code (real
processes, real signals, a test server that holds its response open until cancelled)."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from cli_run import ROOT, RTC
from faulty import served

from realtime_cli.errors import ExitCode

CASES = [(signal.SIGTERM, ExitCode.TERMINATED, "terminated (SIGTERM)")]
CASES.append((signal.SIGHUP, ExitCode.HANGUP, "hung up (SIGHUP)"))


def _until_delta(process: subprocess.Popen[str]) -> list[str]:
    """stdout lines up to the first delta (a positive signal that the response is streaming)."""
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "response.output_text.delta" in line:
            return seen
    raise AssertionError("no delta before stdout ended")


@pytest.mark.parametrize(("sig", "code", "word"), CASES)
def test_create_cancels_closes_1000_flushes_and_exits_documented_code(
    tmp_path: Path, sig: signal.Signals, code: int, word: str
) -> None:
    record = tmp_path / "run.jsonl"
    with served("hold") as (url, server):
        process = subprocess.Popen(
            [*RTC, "create", "hi", "--url", url, "--json", "--record", str(record)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        try:
            before = _until_delta(process)
            process.send_signal(sig)
            out, err = process.communicate(timeout=20)
        finally:
            process.kill()
        assert process.returncode == code, err
        assert server.close_codes == [1000]
        assert [e["type"] for e in server.received][-1] == "response.cancel"
    assert err == f"rtc: {word}: cancelling the response\n"
    lines = before + out.splitlines(keepends=True)
    done = [json.loads(line) for line in lines if '"response.done"' in line]
    assert done[-1]["response"]["status"] == "cancelled"
    recorded = record.read_text().splitlines()
    assert any('"response.cancel"' in line for line in recorded)
    assert '"response.done"' in recorded[-2] + recorded[-1]  # flushed to the last event


@pytest.mark.parametrize(("sig", "code", "word"), CASES)
def test_pipe_cancels_closes_1000_flushes_and_exits_documented_code(
    tmp_path: Path, sig: signal.Signals, code: int, word: str
) -> None:
    record = tmp_path / "run.jsonl"
    with served("hold") as (url, server):
        process = subprocess.Popen(
            [*RTC, "pipe", "--url", url, "--record", str(record)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=ROOT,
        )  # fmt: skip
        assert process.stdin is not None
        try:
            process.stdin.write('{"type": "response.create"}\n')
            process.stdin.flush()  # stdin stays open: the run is mid-work
            before = _until_delta(process)
            process.send_signal(sig)
            out, err = process.communicate(timeout=20)
        finally:
            process.kill()
        assert process.returncode == code, err
        assert server.close_codes == [1000]
    assert err == f"rtc: {word}: cancelling 1 response(s)\n"
    events = [json.loads(line) for line in before + out.splitlines()]
    assert events[-1]["type"] in ("response.done", "rate_limits.updated")
    assert [e for e in events if e["type"] == "response.done"][-1]["response"]["status"] == (
        "cancelled"
    )
    assert '"response.cancel"' in record.read_text()


def test_serve_still_stops_cleanly_on_sigterm() -> None:
    process = subprocess.Popen(
        [*RTC, "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        first = process.stdout.readline()  # the line saying where it listens
        assert "ws://" in first, first
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=20)[0]
    finally:
        process.kill()
    assert process.returncode == 0, rest
    assert "Traceback" not in rest
