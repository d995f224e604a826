"""Opening a session when the first event is an ``error``: a notice the session survives (every
event after it still reaches the output, the recording and the tracker, without a wait), or a
fatal one followed by a close (a connect error saying why)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cli_run import rtc
from proxy import serving
from websockets.asyncio.server import ServerConnection

from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.errors import ConnectError
from realtime_cli.session.client import Received, open_session

KEY = "sk-proj-FIRSTERROR-0123456789abcdefWXYZ"
SESSION_CREATED = {
    "type": "session.created",
    "event_id": "event_2",
    "session": {"type": "realtime", "object": "realtime.session", "id": "sess_1"},
}
NOTICE = {
    "type": "error",
    "event_id": "event_1",
    "error": {"type": "invalid_request_error", "code": "beta_header_ignored", "message": "odd"},
}


async def _notice_then_session(connection: ServerConnection) -> None:
    """A non-fatal error, then session.created; answers response.create at once."""
    await connection.send(json.dumps(NOTICE))
    await connection.send(json.dumps(SESSION_CREATED))
    async for frame in connection:
        if json.loads(frame)["type"] == "response.create":
            response = {"object": "realtime.response", "id": "resp_1", "status": "in_progress"}
            for type_, status in (
                ("response.created", "in_progress"),
                ("response.done", "completed"),
            ):
                event = {"type": type_, "response": {**response, "status": status, "output": []}}
                await connection.send(json.dumps(event))


async def _fatal(connection: ServerConnection) -> None:
    """invalid_api_key naming the key, then close 3000, as the real endpoint does."""
    assert connection.request is not None
    key = connection.request.headers.get("Authorization", "").partition(" ")[2]
    error = {"type": "invalid_request_error", "code": "invalid_api_key", "message": f"bad {key}"}
    await connection.send(json.dumps({"type": "error", "event_id": "event_1", "error": error}))
    await connection.close(3000, "invalid_api_key")


def test_events_after_a_non_fatal_first_error_reach_stdout_and_the_recording(
    tmp_path: Path,
) -> None:
    recording = tmp_path / "session.jsonl"
    with serving(_notice_then_session) as url:
        result = rtc("create", "hello", "--json", "--url", url, "--record", str(recording))
    assert result.returncode == 0, result.stderr
    types = [json.loads(line)["type"] for line in result.stdout.splitlines()]
    assert types == ["error", "session.created", "response.created", "response.done"]
    recorded = [json.loads(line) for line in recording.read_text().splitlines()[1:]]
    server = [row["event"]["type"] for row in recorded if row["dir"] == "server"]
    assert server[:2] == ["error", "session.created"]


async def test_a_non_fatal_first_error_does_not_delay_the_session() -> None:
    first: list[Received] = []
    with serving(_notice_then_session) as url:
        started = time.monotonic()
        async with open_session(Endpoint(url), on_first=first.append) as session:
            elapsed = time.monotonic() - started
            assert session.tracker.session is not None  # session.created was tracked
    assert [received.event["type"] for received in first] == ["error", "session.created"]
    assert elapsed < 1.0  # it used to read on for 2 s, throwing frames away


def test_a_fatal_first_error_is_a_connect_error_naming_the_close() -> None:
    with serving(_fatal) as url:
        result = rtc("create", "hello", "--url", url, "--api-key", KEY)
    assert result.returncode == 3, result.stderr
    assert "invalid_api_key: bad …WXYZ (close 3000)" in result.stderr
    assert KEY not in result.stdout + result.stderr


async def test_a_fatal_first_error_fails_as_soon_as_the_close_comes() -> None:
    with serving(_fatal) as url:
        started = time.monotonic()
        with pytest.raises(ConnectError, match=r"invalid_api_key: bad …WXYZ \(close 3000\)"):
            endpoint = Endpoint(url, headers={"Authorization": f"Bearer {KEY}"}, secrets=(KEY,))
            async with open_session(endpoint):
                raise AssertionError("the session must not open")
    assert time.monotonic() - started < 1.0
