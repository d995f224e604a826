"""wss:// pointed at a plain ws:// port: one line that says why, in rtc create and rtc doctor."""

from __future__ import annotations

from cli_run import rtc

REASON = "during the TLS handshake (is it a plain ws:// server? try ws://)"


def test_create_says_the_server_is_plain_ws(server_url: str) -> None:
    url = server_url.replace("ws://", "wss://")
    result = rtc("create", "hi", "--url", url)
    assert result.returncode == 3
    [line] = result.stderr.splitlines()
    assert line.startswith("rtc: error: 127.0.0.1:") and line.endswith(REASON), line


def test_doctor_shows_the_same_reason(server_url: str) -> None:
    url = server_url.replace("ws://", "wss://")
    result = rtc("doctor", "--url", url)
    assert result.returncode == 3
    assert " ".join(result.stdout.split()).count(REASON) == 1
    assert result.stderr.strip().endswith(REASON)
