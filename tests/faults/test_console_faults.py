"""The console under a misbehaving server (tests/faulty.py): it keeps running, says what
happened in one line, keeps its scrollback, and `responses`, `events` and `items` still work."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable

import pytest
from console_harness import Console_
from faulty import served
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from realtime_cli.console.actions import HANDLERS
from realtime_cli.console.shell import Shell
from realtime_cli.endpoint.select import select_endpoint

# mode: the one line the console shows ("" for faults it sets aside silently but survives).
SAID = {
    "drop": "closed without a close frame",
    "close_1011": "closed with code 1011 (internal server error)",
    "expired": "error: session_expired: Your session hit the maximum duration of 60 minutes.",
    "non_json": "skipped a server frame: not JSON (Expecting value at column 1)",
    "binary": "skipped a server frame: binary frame of 9 bytes",
    "stall": "no answer to a keepalive ping in time",
    "unknown": "",
    "missing": "",
    "phantom": "",
    "late": "",
}


@pytest.fixture
async def start() -> AsyncIterator[Callable[[str], Console_]]:
    """A console on ``url`` with a fast keepalive (0.3 s + 0.5 s), so a stall shows quickly."""
    consoles: list[Console_] = []
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):

        def open_(url: str) -> Console_:
            buffer = io.StringIO()
            out = Console(file=buffer, width=100, color_system=None)
            endpoint = select_endpoint(url=url, api_key=None, model=None, local=False, environ={})
            endpoint = endpoint.with_keepalive(0.3, 0.5)
            console = Console_(pipe, Shell(endpoint, out, handlers=HANDLERS), buffer)
            consoles.append(console)
            return console

        yield open_
        for console in consoles:
            if not console.task.done():
                console.task.cancel()


@pytest.mark.parametrize("mode", list(SAID))
async def test_console_survives(mode: str, start: Callable[[str], Console_]) -> None:
    with served(mode) as (url, _):
        console = start(url)
        await console.wait_for("type help")
        console.mark = 0
        console.type("create -i hi --modality text\r")
        if mode in ("drop", "close_1011", "expired", "stall"):
            await console.wait_for("type reconnect for a new session")
        else:
            await console.wait_for("╰")
        out = console.new_output()
        if SAID[mode]:
            assert " ".join(out.split()).count(SAID[mode]) == 1, out
        if mode in ("drop", "close_1011"):
            assert "│ Hello │" in out and "· lost ─" in out  # the answer so far is kept
        if mode in ("late", "phantom", "unknown", "missing", "non_json", "binary"):
            assert "│ Hello │" in out and "again" not in out and "Ghost" not in out
        responses = await console.line("responses")
        assert ("no responses yet" in responses) == (mode in ("expired", "stall"))
        events = await console.line("events")
        assert "← session.created" in events and "→ response.create" in events
        assert "no items yet" in await console.line("items")
        assert "Traceback" not in console.buffer.getvalue()
        assert await console.finish() == 0
