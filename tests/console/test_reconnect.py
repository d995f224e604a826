"""The console reconnects by itself after a recoverable close (the local server killed and
started again on the same port), never after a fatal one, stops on Ctrl-C, sends the user's
session settings again and offers replay-items."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

from conftest import ThreadServer
from console_harness import CTRL_C, Console_, flat
from faulty import served

from realtime_cli.console import reconnect
from realtime_cli.errors import ConnectionLost
from realtime_cli.protocol.tracker import Tracker


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sent(console: Console_, type_: str) -> list[dict[str, object]]:
    return [e.event for e in console.shell.log if e.direction == "→" and e.event["type"] == type_]


async def test_reconnects_after_the_server_restarts_on_the_same_port(
    console_factory: Callable[..., Console_],
) -> None:
    port = _free_port()
    server = ThreadServer(port=port, token_delay_ms=1)
    console = console_factory(server.start())
    restarted: ThreadServer | None = None
    try:
        await console.wait_for("type help")
        console.shell.reconnect_base = 0.05
        await console.line("session --modality text --instructions 'Be terse'", expect="updated")
        await console.line("hello there", expect="╰")
        first = console.shell.session
        await asyncio.to_thread(server.stop)  # close 1001: the server goes away
        await console.wait_for("reconnect failed")  # nothing listens: a try fails...
        assert "reconnecting" in console.repl.screen_text()  # ... and the toolbar says so
        restarted = ThreadServer(port=port, token_delay_ms=1)
        await asyncio.to_thread(restarted.start)
        await console.wait_for("sent your session settings again", seconds=30)
        out = flat(console.new_output())
        assert "closed with code 1001" in out and "(try 1 of 6; Ctrl-C stops)" in out
        assert "the conversation starts afresh" in out
        assert "type replay-items to re-create the 2 earlier messages" in out
        assert console.shell.session is not first and console.shell.state == "connected"
        again = _sent(console, "session.update")[-1]
        assert again["session"] == {
            "type": "realtime",
            "output_modalities": ["text"],
            "instructions": "Be terse",
        }
        await console.line("replay-items", expect="re-created 2 messages")
        created = _sent(console, "conversation.item.create")[-2:]
        assert [(c["item"]["role"], c["item"]["content"]) for c in created] == [  # type: ignore[index]
            ("user", [{"type": "input_text", "text": "hello there"}]),
            ("assistant", [{"type": "output_text", "text": "hello there"}]),
        ]
        out = await console.line("items", expect="assistant")
        assert out.count("hello there") == 2
    finally:
        if restarted is not None:
            await asyncio.to_thread(restarted.stop)


async def test_ctrl_c_stops_trying(console_factory: Callable[..., Console_]) -> None:
    server = ThreadServer(token_delay_ms=1)
    console = console_factory(server.start())
    await console.wait_for("type help")
    console.shell.reconnect_base = 30  # the first wait outlasts the test
    await asyncio.to_thread(server.stop)
    await console.wait_for("Ctrl-C stops)")
    console.type(CTRL_C)
    await console.wait_for("stopped reconnecting · type reconnect to try again")
    await console.until(lambda: console.shell.state == "disconnected")
    assert "responses" in await console.line("help")  # still running


async def test_a_fatal_close_is_never_retried(console_factory: Callable[..., Console_]) -> None:
    with served("revoked") as (url, server):
        console = console_factory(url)
        await console.wait_for("type help")
        console.shell.reconnect_base = 0.01
        console.type("create -i hi\r")
        await console.wait_for("type reconnect for a new session")
        out = console.new_output()
        assert "invalid_api_key" in out and "closed with code 4000" in out
        assert "reconnecting" not in out and len(server.close_codes) == 1
        assert console.shell.state == "disconnected"
        assert await console.finish() == 0


def test_the_policy() -> None:
    tracker = Tracker()
    for code in (1001, 1005, 1006, 1011, 1012, 1013, None):
        assert reconnect.recoverable(ConnectionLost("x", code), tracker), code
    for code in (1000, 1008, 3000, 4000):
        assert not reconnect.recoverable(ConnectionLost("x", code), tracker), code
    for fatal in ("invalid_api_key", "insufficient_quota", "account_deactivated"):
        tracker.feed({"type": "error", "error": {"code": fatal, "message": "no"}}, 0.0)
        assert not reconnect.recoverable(ConnectionLost("x", 1011), tracker)
    delays = [reconnect.delay(n, 0.5) for n in range(1, 8)]
    assert 0.4 <= delays[0] <= 0.6 and 0.8 <= delays[1] <= 1.2
    assert max(delays) <= reconnect.MAX_DELAY * 1.2
