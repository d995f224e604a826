"""The local server's socket side: paths, keys, fatal closes, Azure clients, shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from conformance import assert_conforms, connect, connect_azure
from websockets.asyncio.client import connect as async_connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus
from websockets.sync.client import connect as sync_connect

from realtime_cli.protocol.events import Server, item_create, response_create, user_message
from realtime_cli.server.app import running, serve_forever
from realtime_cli.server.protocol import Session

KEY = "sk-local-secret-0123456789wxyz"


def root(url: str) -> str:
    return url.removesuffix("/v1/realtime")


def fatal(url: str, **headers: str) -> tuple[dict[str, Any], int | None, str | None]:
    """Connect with a plain client; return the error event and the close code and reason."""
    with sync_connect(url, additional_headers=headers, open_timeout=5) as ws:
        event = json.loads(ws.recv(timeout=5))
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
        assert ws.protocol.close_rcvd is not None
        return event, ws.protocol.close_rcvd.code, ws.protocol.close_rcvd.reason


def test_wrong_key_gets_invalid_api_key_then_close_3000(local_server: Callable[..., str]) -> None:
    url = local_server(api_key=KEY)
    event, code, reason = fatal(url + "?model=m", Authorization="Bearer sk-wrong-0000000000abcd")
    assert_conforms(event)
    assert (code, reason) == (3000, "invalid_request_error.invalid_api_key")
    assert event["error"]["code"] == "invalid_api_key"
    assert event["error"]["message"].startswith("Incorrect API key provided: sk-...abcd.")
    assert "sk-wrong-0000000000abcd" not in json.dumps(event)
    assert KEY not in json.dumps(event)


def test_no_key_gets_the_missing_authentication_error(local_server: Callable[..., str]) -> None:
    url = local_server(api_key=KEY)
    event, code, reason = fatal(url + "?model=m")
    assert_conforms(event)
    assert (code, reason) == (3000, "invalid_request_error")
    assert event["error"]["code"] is None
    assert event["error"]["message"] == "Missing bearer or basic authentication in header"


def test_the_sdk_sees_the_close_as_an_error(local_server: Callable[..., str]) -> None:
    url = local_server(api_key=KEY)
    with connect(url, api_key="sk-nope-000000000000") as c:
        assert c.error()["code"] == "invalid_api_key"
        with pytest.raises(ConnectionClosedError) as closed:
            c.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 3000


def test_the_right_key_opens_a_session(local_server: Callable[..., str]) -> None:
    url = local_server(api_key=KEY)
    with connect(url, api_key=KEY) as c:
        c.expect(Server.session_created)


def test_beta_header_is_refused_with_4000(server_url: str) -> None:
    event, code, reason = fatal(server_url + "?model=m", **{"OpenAI-Beta": "realtime=v1"})
    assert_conforms(event)
    assert event["error"]["code"] == "beta_api_shape_disabled"
    assert (code, reason) == (4000, "invalid_request_error.beta_api_shape_disabled")


def test_missing_model_means_the_default_model(server_url: str) -> None:
    # The URL exactly as `rtc serve` prints it must work (the live service would refuse it).
    with sync_connect(server_url, open_timeout=5) as ws:
        event = json.loads(ws.recv(timeout=5))
    assert_conforms(event)
    assert event["type"] == "session.created"
    assert event["session"]["model"] == "gpt-realtime"


@pytest.mark.parametrize("path", ["/v1/chat", "/realtime", "/openai/realtime?model=m"])
def test_unknown_paths_fail_the_handshake_with_404(server_url: str, path: str) -> None:
    with pytest.raises(InvalidStatus) as failed:
        sync_connect(root(server_url) + path, open_timeout=5)
    assert failed.value.response.status_code == 404


def test_azure_sdk_preview_path_uses_the_deployment_as_model(
    local_server: Callable[..., str],
) -> None:
    url = local_server(api_key="az-key-0123456789")
    with connect_azure(url, deployment="my-deploy", api_key="az-key-0123456789") as c:
        assert c.expect(Server.session_created)["session"]["model"] == "my-deploy"
        c.send(item_create(user_message("azure works")))
        c.until(Server.conversation_item_done)
        c.send(response_create({"output_modalities": ["text"]}))
        assert c.until(Server.response_output_text_done)[-1]["text"] == "azure works"


def test_azure_ga_path_with_key_header_or_query(local_server: Callable[..., str]) -> None:
    url = local_server(api_key="az-key-0123456789")
    ga = root(url) + "/openai/v1/realtime?model=gpt-deploy"
    with sync_connect(ga, additional_headers={"api-key": "az-key-0123456789"}) as ws:
        event = json.loads(ws.recv(timeout=5))
    assert event["session"]["model"] == "gpt-deploy"
    with sync_connect(ga + "&api-key=az-key-0123456789") as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == Server.session_created


def test_browser_subprotocols_carry_the_key(local_server: Callable[..., str]) -> None:
    url = local_server(api_key=KEY)
    protocols: Any = ["realtime", f"openai-insecure-api-key.{KEY}"]
    with sync_connect(url + "?model=m", subprotocols=protocols) as ws:
        assert ws.subprotocol == "realtime"
        assert json.loads(ws.recv(timeout=5))["type"] == Server.session_created


def noisy(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    """Records that would reach a terminal: warnings from anywhere, anything from websockets'
    own loggers (the server's routine INFO lines go to a logger that never prints)."""
    return [r for r in records if r.levelno >= logging.WARNING or r.name.startswith("websockets.s")]


class LoopProblems:
    """Collects what the event loop would report (e.g. "Task exception was never retrieved")."""

    def __init__(self) -> None:
        self.found: list[dict[str, Any]] = []

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.found.append(context)


async def test_shutdown_closes_clients_with_1001_mid_response(
    caplog: pytest.LogCaptureFixture,
) -> None:
    problems = LoopProblems()
    asyncio.get_running_loop().set_exception_handler(problems)
    caplog.set_level(logging.DEBUG)
    async with running(token_delay_ms=10) as server:
        assert server.url == f"ws://127.0.0.1:{server.port}/v1/realtime" and server.port > 0
        ws = await async_connect(server.url + "?model=m")
        await ws.send(json.dumps(item_create(user_message("a b c d e f g h i j"))))
        await ws.send(json.dumps(response_create()))
        while json.loads(await ws.recv())["type"] != Server.response_output_audio_delta:
            pass
    with pytest.raises(ConnectionClosed):
        while True:
            await ws.recv()
    assert ws.close_code == 1001
    await ws.close()
    assert problems.found == []
    assert noisy(caplog.records) == []


async def test_client_vanishing_mid_response_leaves_no_noise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    problems = LoopProblems()
    asyncio.get_running_loop().set_exception_handler(problems)
    caplog.set_level(logging.DEBUG)
    async with running(token_delay_ms=1) as server:
        for _ in range(3):
            ws = await async_connect(server.url + "?model=m")
            await ws.send(json.dumps(item_create(user_message("word " * 200))))
            await ws.send(json.dumps(response_create()))
            while json.loads(await ws.recv())["type"] != Server.response_output_audio_delta:
                pass
            ws.transport.abort()  # no closing handshake: the server finds out while sending
            await ws.wait_closed()
        await asyncio.sleep(0.05)
        ws = await async_connect(server.url + "?model=m")
        assert json.loads(await ws.recv())["type"] == Server.session_created
        await ws.close()
    assert problems.found == []
    assert noisy(caplog.records) == []


async def test_serve_forever_announces_the_url_and_stops_when_cancelled() -> None:
    announced: asyncio.Queue[str] = asyncio.Queue()
    task = asyncio.create_task(serve_forever("127.0.0.1", 0, 1, None, announced.put_nowait))
    url = await asyncio.wait_for(announced.get(), 5)
    async with async_connect(url + "?model=m") as ws:
        assert json.loads(await ws.recv())["type"] == Server.session_created
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_bug_while_handling_a_frame_costs_one_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = Session.handle

    def handle(self: Session, frame: str | bytes) -> list[dict[str, Any]]:
        if frame == "boom":
            raise RuntimeError("a bug")
        return original(self, frame)

    monkeypatch.setattr(Session, "handle", handle)
    async with running(token_delay_ms=0) as server, async_connect(server.url + "?model=m") as ws:
        await ws.recv()
        await ws.send("boom")
        error = json.loads(await ws.recv())
        assert_conforms(error)
        assert error["error"]["type"] == "server_error"
        await ws.send(json.dumps(response_create({"output_modalities": ["text"]})))
        assert json.loads(await ws.recv())["type"] == Server.response_created
