"""The console harness: the console driven through prompt-toolkit's pipe input against the
local server, its scrollback going to an injected rich console. Test modules import
``console``/``console_factory`` (pytest finds fixtures by name in a module) and ``Console_``."""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import AsyncIterator, Callable

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from realtime_cli.console.actions import HANDLERS
from realtime_cli.console.shell import Shell
from realtime_cli.console.terminal import Repl
from realtime_cli.endpoint.select import select_endpoint

CTRL_C = "\x03"
CTRL_D = "\x04"


def mask(text: str) -> str:
    text = re.sub(r"\b(resp|item|conv|sess|event)_[A-Za-z0-9]{21}\b", r"\1_…", text)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"^ +\d+\.\d{3} ", "  t ", text, flags=re.M)
    text = re.sub(r"\b\d+(\.\d+)? (ms|s)\b", r"N \2", text)
    text = re.sub(r"\b\d+(\.\d+)? tok/s\b", "N tok/s", text)
    # Rules, borders and column padding follow the width of the ids: keep only their shape.
    text = re.sub(r"─{4,}", "────", text)
    text = re.sub(r"(?<=\S)  +(?=\S)", " ", text)
    return re.sub(r" +$", "", text, flags=re.M)


def flat(text: str) -> str:
    """Wrapped lines joined again (a long error line wraps at the console width)."""
    return " ".join(text.split())


class Console_:
    """A running console: type lines, wait for output, read the masked transcript."""

    def __init__(self, pipe: PipeInput, shell: Shell, buffer: io.StringIO) -> None:
        self.pipe = pipe
        self.shell = shell
        self.buffer = buffer
        self.repl = Repl(shell, history=InMemoryHistory())
        self.task = asyncio.ensure_future(self.repl.run())
        self.mark = 0

    def type(self, keys: str) -> None:
        self.pipe.send_text(keys)

    async def until(self, check: Callable[[], object], seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            if self.task.done():
                self.task.result()
                raise AssertionError("the console ended:\n" + self.buffer.getvalue())
            if time.monotonic() > deadline:
                raise AssertionError("timed out; transcript:\n" + self.buffer.getvalue())
            await asyncio.sleep(0.01)

    async def wait_for(self, text: str, seconds: float = 10) -> None:
        """Until ``text`` appears in what was printed since the last ``new_output``."""
        await self.until(lambda: text in self.buffer.getvalue()[self.mark :], seconds)

    async def line(self, line: str, *, expect: str | None = None) -> str:
        """Type a line (and Enter); wait for ``expect`` or for the command's output to settle;
        return the masked output it produced."""
        self.mark = len(self.buffer.getvalue())
        executed = self.repl.executed
        self.type(line + "\r")
        await self.until(lambda: self.repl.executed > executed)
        if expect is not None:
            await self.wait_for(expect)
        await asyncio.sleep(0.05)  # what else arrives with it (e.g. rate_limits.updated)
        return self.new_output()

    def new_output(self) -> str:
        out = self.buffer.getvalue()[self.mark :]
        self.mark += len(out)
        return mask(out)

    async def finish(self, keys: str = "quit\r") -> int:
        self.type(keys)
        return await asyncio.wait_for(self.task, 10)


@pytest.fixture
async def console_factory() -> AsyncIterator[Callable[..., Console_]]:
    consoles: list[Console_] = []
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):

        def start(
            url: str, view: str = "responses", width: int = 100, key: str | None = None
        ) -> Console_:
            buffer = io.StringIO()
            out = Console(file=buffer, width=width, color_system=None)
            endpoint = select_endpoint(url=url, api_key=key, model=None, local=False, environ={})
            console = Console_(pipe, Shell(endpoint, out, handlers=HANDLERS, view=view), buffer)
            consoles.append(console)
            return console

        yield start
        for console in consoles:
            if not console.task.done():
                console.task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await console.task


@pytest.fixture
async def console(server_url: str, console_factory: Callable[..., Console_]) -> Console_:
    started = console_factory(server_url)
    await started.wait_for("type help")
    started.mark = 0
    return started
