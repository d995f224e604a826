"""`rtc serve` as a user runs it: the first stdout line is the URL, it works as printed,
and Ctrl-C / SIGTERM stop it cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RTC = [sys.executable, "-m", "realtime_cli"]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_its_url_first_and_stops_cleanly(stop: signal.Signals) -> None:
    server = subprocess.Popen(
        [*RTC, "serve", "--port", "0", "--token-delay-ms", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("ws://127.0.0.1:") and url.endswith("/v1/realtime")
        client = subprocess.run(
            [*RTC, "create", "--url", url, "--instructions", "served", "--modality", "text"],
            capture_output=True, text=True, timeout=60, cwd=ROOT,
        )  # fmt: skip
        assert client.returncode == 0, client.stderr
        assert client.stdout.startswith("served\n")
    finally:
        server.send_signal(stop)
        out, err = server.communicate(timeout=10)
    assert server.returncode == 0
    assert out == "" and err == ""


def test_serve_on_a_busy_port_is_one_line() -> None:
    first = subprocess.Popen(
        [*RTC, "serve", "--port", "0"], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert first.stdout is not None
        port = first.stdout.readline().strip().rsplit(":", 1)[1].split("/")[0]
        second = subprocess.run(
            [*RTC, "serve", "--port", port], capture_output=True, text=True, timeout=30, cwd=ROOT
        )
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=10)
    assert second.returncode == 1
    assert second.stderr.startswith(f"rtc: error: cannot listen on 127.0.0.1:{port}: ")
    assert len(second.stderr.splitlines()) == 1


def test_serve_on_every_interface_prints_a_url_to_connect_to_and_v_logs_events() -> None:
    server = subprocess.Popen(
        [*RTC, "serve", "--host", "0.0.0.0", "--port", "0", "--token-delay-ms", "0", "-vv"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("ws://127.0.0.1:"), url  # not ws://0.0.0.0: that is no address
        client = subprocess.run(
            [*RTC, "create", "hi", "--url", url, "--modality", "text", "--api-key", "sk-SECRET1"],
            capture_output=True, text=True, timeout=60, cwd=ROOT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert client.returncode == 0, client.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=10)
    lines = [line.partition(" ")[2] for line in err.splitlines()]
    assert lines[0].startswith("listening on every interface (0.0.0.0)")
    assert lines[1].startswith("#1 connected from 127.0.0.1:") and lines[1].endswith("/v1/realtime")
    assert "#1 → session.created" in lines[2]
    assert "#1 ← conversation.item.create rtc_1" in lines
    assert "#1 ← response.create rtc_2" in lines
    assert any(line.startswith("#1 → response.done event_") for line in lines)
    assert lines[-1] == "#1 closed (1000)"
    assert "SECRET1" not in err
