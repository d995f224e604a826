"""`rtc doctor`: against the local server every check passes; against a server that supports
little, the rows say so; JSON has the same rows as the table."""

from __future__ import annotations

import json
from collections.abc import Callable

from cli_run import rtc
from proxy import serving
from websockets.asyncio.server import ServerConnection

from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.tools.doctor import probe

KEY = "sk-test-DOCTOR0123456789abcdefWXYZ"
ROWS = [
    "handshake",
    "session.created",
    "session.update honoured",
    "text response",
    "out-of-band response",
    "response.cancel (active)",
    "response.cancel (nothing active)",
    "unknown event",
    "GA event types",
]


def table_rows(stdout: str) -> list[tuple[str, str]]:
    """(check, result) of each row of the printed table."""
    rows = []
    for line in stdout.splitlines():
        for name in ROWS:
            if line.startswith(name + " "):
                rest = line[len(name) :].split()
                result = " ".join(rest[:2]) if rest[:2] == ["not", "supported"] else rest[0]
                rows.append((name, result))
    return rows


def test_every_check_passes_against_the_built_in_server() -> None:
    result = rtc("doctor", "--local")
    assert result.returncode == 0, result.stdout + result.stderr
    assert table_rows(result.stdout) == [(name, "pass") for name in ROWS]
    assert result.stdout.splitlines()[0].startswith("rtc doctor · built-in local server at ws://")
    assert result.stdout.rstrip().endswith("every check passed")


def test_json_has_the_same_rows(local_server: Callable[..., str]) -> None:
    url = local_server(api_key=KEY, token_delay_ms=20)
    table = rtc("doctor", "--url", url, "--api-key", KEY)
    report = rtc("doctor", "--url", url, "--api-key", KEY, "--json")
    assert table.returncode == report.returncode == 0, table.stderr + report.stderr
    data = json.loads(report.stdout)
    assert data["ok"] is True
    assert [(c["name"], c["status"]) for c in data["checks"]] == table_rows(table.stdout)
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["text response"]["data"]["usage"]["output_tokens"] > 0
    assert checks["response.cancel (active)"]["data"]["status"] == "cancelled"
    assert checks["unknown event"]["data"] == {
        "code": "invalid_value", "param": "type", "event_id_echoed": True,
    }  # fmt: skip
    assert "response.done" in data["event_types"] and checks["GA event types"]["data"]["beta"] == []


async def test_probe_in_process_reports_timings() -> None:
    report = await probe(Endpoint(None))
    assert report.ok, [(c.name, c.status, c.detail) for c in report.checks]
    text = next(c for c in report.checks if c.name == "text response")
    assert text.detail.startswith("created ") and " · first delta " in text.detail
    assert text.data["done_ms"] >= text.data["first_delta_ms"] >= text.data["created_ms"] >= 0


def test_cannot_connect_is_exit_3() -> None:
    result = rtc("doctor", "--url", "ws://127.0.0.1:9/v1/realtime")
    assert (result.returncode, result.stderr) == (
        3,
        "rtc: error: 127.0.0.1:9: connection refused\n",
    )
    # The report still comes, its handshake row saying why (the JSON form: tests/test_edges.py).
    assert table_rows(result.stdout) == [("handshake", "fail")]
    assert "127.0.0.1:9: connection refused" in result.stdout


# -- a "Realtime-compatible" server that supports little -------------------------------------------

SESSION = {"id": "sess_1", "model": "m", "instructions": "", "modalities": ["audio", "text"]}


async def _meagre(ws: ServerConnection) -> None:
    """Speaks beta: session.created; session.update answered with the unchanged session; a
    response.create gets a beta text response; everything else is ignored."""
    await ws.send(json.dumps({"type": "session.created", "event_id": "e0", "session": SESSION}))
    async for frame in ws:
        event = json.loads(frame)
        if event["type"] == "session.update":
            await ws.send(json.dumps({"type": "session.updated", "session": SESSION}))
        elif event["type"] == "response.create":
            response = {
                "id": "resp_1",
                "status": "in_progress",
                "output": [],
                "conversation_id": "conv_1",
            }
            await ws.send(json.dumps({"type": "response.created", "response": response}))
            base = {
                "response_id": "resp_1",
                "item_id": "item_1",
                "output_index": 0,
                "content_index": 0,
            }
            await ws.send(json.dumps({"type": "response.text.delta", **base, "delta": "OK"}))
            done = {**response, "status": "completed", "metadata": None}
            await ws.send(json.dumps({"type": "response.done", "response": done}))


def test_a_server_that_supports_little_shows_it_row_by_row() -> None:
    with serving(_meagre) as url:
        result = rtc("doctor", "--url", url, "--timeout", "0.5", "--json")
    assert result.returncode == 1, result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    status = {name: c["status"] for name, c in checks.items()}
    assert status == {
        "handshake": "pass",
        "session.created": "pass",
        "session.update honoured": "fail",
        "text response": "pass",  # the beta text delta is tracked like GA
        "out-of-band response": "fail",
        "response.cancel (active)": "not exercised",
        "response.cancel (nothing active)": "fail",
        "unknown event": "fail",
        "GA event types": "fail",
    }
    assert checks["session.update honoured"]["detail"] == (
        "session.updated arrived but instructions not reflected, output_modalities is ['audio', 'text']"
    )
    assert "conversation_id is 'conv_1', not null" in checks["out-of-band response"]["detail"]
    assert checks["response.cancel (active)"]["detail"] == (
        "the response completed before the cancel arrived"
    )
    assert checks["unknown event"]["detail"] == "no error within 0.5s (expected invalid_value)"
    assert checks["GA event types"]["detail"].startswith("beta names: response.text.delta · ")
