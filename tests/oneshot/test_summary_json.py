"""rtc create --summary-json: stdout is one JSON object (status, timings, tokens, usage, cost)."""

from __future__ import annotations

import json

from cli_run import rtc
from proxy import serving
from websockets.asyncio.server import ServerConnection


def test_one_object_for_a_completed_response(server_url: str) -> None:
    result = rtc("create", "one two three", "--modality", "text", "--url", server_url,
                 "--summary-json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    summary = json.loads(line)
    assert summary["exit_code"] == 0 and summary["status"] == "completed"
    assert summary["text"] == "one two three"
    assert summary["model"] == "gpt-realtime"
    assert summary["tokens"]["output"] == {"text": 3, "audio": 0}
    assert summary["usage"]["output_tokens"] == 3
    assert summary["cost_usd"] == round((20 * 4 + 3 * 16) / 1e6, 8)
    assert summary["price"] == "gpt-realtime, prices of 2026-12-02"
    timings = summary["timings_ms"]
    assert 0 <= timings["created"] <= timings["first_delta"] <= timings["done"]


async def _refusing(ws: ServerConnection) -> None:
    """session.created, then an error for every response.create."""
    await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_1"}}))
    async for frame in ws:
        event = json.loads(frame)
        if event.get("type") == "response.create":
            error = {"type": "invalid_request_error", "code": "busy", "message": "try later",
                     "event_id": event.get("event_id")}  # fmt: skip
            await ws.send(json.dumps({"type": "error", "error": error}))


def test_a_rejected_request_is_still_one_object() -> None:
    with serving(_refusing) as url:
        result = rtc("create", "hi", "--url", url, "--summary-json")
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["exit_code"] == 1 and summary["status"] == "error"
    assert summary["error"]["error"]["code"] == "busy"
    assert "rtc: busy: try later" in result.stderr


def test_summary_json_and_json_do_not_mix(server_url: str) -> None:
    result = rtc("create", "hi", "--url", server_url, "--summary-json", "--json")
    assert result.returncode == 2
    assert "--summary-json and --json" in result.stderr
