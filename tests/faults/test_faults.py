"""Fault injection: rtc create and rtc pipe against a server that misbehaves on purpose
(tests/faulty.py). In every case: the documented exit code, one line saying what happened, every
stdout line already received kept, the recording flushed, no traceback."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from cli_run import rtc
from faulty import Faulty, served

from realtime_cli.errors import ExitCode

OK, FAILED, CONNECT, LOST = ExitCode.OK, ExitCode.FAILED, ExitCode.CONNECT, ExitCode.LOST
TIMEOUT = "2"
# mode: (rtc create's code and line, rtc pipe's code and line); "" means stderr stays empty.
CASES: dict[str, tuple[int, str, int, str]] = {
    "drop": (LOST, "closed without a close frame", LOST, "closed without a close frame"),
    "close_1011": (
        LOST, "closed with code 1011 (internal server error)",
        LOST, "closed with code 1011 (internal server error)",
    ),
    "expired": (
        LOST, "closed with code 1001 (session expired)",
        LOST, "closed with code 1001 (session expired)",
    ),
    "stall": (
        FAILED, f"timed out after {TIMEOUT}s waiting for response.done",
        FAILED, f"timed out after {TIMEOUT}s; still owed: response.create",
    ),
    "huge": (OK, "", OK, ""),
    "non_json": (
        OK, "skipped a server frame: not JSON", OK, "skipped a server frame: not JSON"
    ),
    "binary": (
        OK, "skipped a server frame: binary frame of 9 bytes",
        OK, "skipped a server frame: binary frame of 9 bytes",
    ),
    "unknown": (OK, "ignored unknown server event type 'response.sparkle'", OK, ""),
    "missing": (OK, "ignored response.output_text.delta without a response_id", OK, ""),
    "phantom": (OK, "for resp_never_announced, a response never announced", OK, ""),
    "late": (OK, "after its response.done", OK, ""),
    "invalid_key": (
        CONNECT, "invalid_api_key: Incorrect API key provided. (close 4000)",
        CONNECT, "invalid_api_key: Incorrect API key provided. (close 4000)",
    ),
}  # fmt: skip


def _timeout(mode: str) -> str:
    """--timeout: short where it is the point (the stall), ample elsewhere (a loaded machine
    takes seconds over 20 MB)."""
    return TIMEOUT if mode == "stall" else "30"


def _json_sent(server: Faulty) -> list[dict[str, object]]:
    """The server's frames that are JSON events, as rtc should keep them."""
    events = []
    for frame in server.sent:
        if isinstance(frame, str):
            with contextlib.suppress(ValueError):
                events.append(json.loads(frame))
    return events


def _notices_and_panel(stderr: str) -> tuple[str, str]:
    """rtc create's stderr split in two: its own lines, and the final panel (piped, the panel
    goes to stderr and stdout is the answer alone)."""
    lines = stderr.splitlines(keepends=True)
    top = next((i for i, text in enumerate(lines) if text.startswith("╭")), len(lines))
    end = next((i for i in range(top, len(lines)) if lines[i].startswith("╰")), len(lines) - 1)
    return "".join(lines[:top] + lines[end + 1 :]), "".join(lines[top : end + 1])


def _assert_said(stderr: str, line: str) -> None:
    assert "Traceback" not in stderr, stderr
    if not line:
        assert stderr == "", stderr
        return
    said = [text for text in stderr.splitlines() if line in text]
    assert len(said) == 1, stderr
    assert said[0].startswith(("rtc: ", "error: ")), said[0]


def _recorded_server_events(path: Path) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [row["event"] for row in rows if row.get("dir") == "server" and "event" in row]


@pytest.mark.parametrize("mode", list(CASES))
def test_pipe_under_fault(mode: str, tmp_path: Path) -> None:
    _, _, code, line = CASES[mode]
    record = tmp_path / "pipe.jsonl"
    with served(mode) as (url, server):
        result = rtc(
            "pipe", "--url", url, "--timeout", _timeout(mode), "--record", str(record),
            stdin='{"type": "response.create"}\n', timeout=60,
        )  # fmt: skip
        sent = _json_sent(server)
    assert result.returncode == code, result.stderr
    _assert_said(result.stderr, line)
    # Every event received is on stdout, in order, as sent (the stall's is session.created);
    # a session that never opened (invalid_key, exit 3) prints none: stderr says why.
    printed = [json.loads(text) for text in result.stdout.splitlines()]
    assert printed == (sent if code != CONNECT else [])
    assert [e["type"] for e in _recorded_server_events(record)] == [e["type"] for e in sent]


@pytest.mark.parametrize("mode", list(CASES))
def test_create_under_fault(mode: str, tmp_path: Path) -> None:
    code, line, _, _ = CASES[mode]
    record = tmp_path / "create.jsonl"
    with served(mode) as (url, server):
        result = rtc(
            "create", "hi", "--url", url, "--timeout", _timeout(mode), "--record", str(record),
            timeout=60,
        )  # fmt: skip
        sent = _json_sent(server)
    assert result.returncode == code, result.stderr
    notices, panel = _notices_and_panel(result.stderr)
    _assert_said(notices, line)
    if mode in ("drop", "close_1011"):
        assert result.stdout == "Hello\n"  # the answer so far is kept, its line ended
        assert result.stderr.endswith(" unfinished (5 characters received)\n")  # no reconnect
    elif code == OK:
        assert result.stdout.startswith("Hello")
        assert "╭" not in result.stdout  # piped: stdout is the answer alone
        # The panel, on stderr: the answer (a 20 MB one's end) and no late delta in it.
        shown = "characters above · the whole answer" if mode == "huge" else "│ Hello"
        assert shown in panel and "status        completed" in panel and "again" not in panel
    recorded = [e["type"] for e in _recorded_server_events(record)]
    # Everything received up to where create stopped reading is in the recording.
    assert recorded and recorded == [e["type"] for e in sent][: len(recorded)]


def test_create_json_keeps_every_line_received_before_a_drop() -> None:
    with served("drop") as (url, server):
        result = rtc("create", "hi", "--url", url, "--json")
        sent = _json_sent(server)
    assert result.returncode == LOST
    assert [json.loads(text) for text in result.stdout.splitlines()] == sent
    assert result.stderr.count("\n") == 1 and "closed without a close frame" in result.stderr
