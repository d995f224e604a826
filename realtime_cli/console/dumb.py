"""The console on a terminal that cannot move its cursor (``TERM=dumb``: Emacs shell buffers,
some CI consoles, serial lines).

prompt-toolkit's full-screen tricks (erasing the prompt to print above it, the live region, the
toolbar) do not work there: output landed on the prompt's line and no new prompt followed. Here
the terminal's own line editing reads lines (it echoes them), output is printed on a line of its
own, and the prompt is written again after it. Streaming text shows in the final panel only.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import sys
import threading
from typing import IO

from realtime_cli.console import actions
from realtime_cli.console.shell import Action, Shell
from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.errors import ExitCode, RtcError
from realtime_cli.render import make_console
from realtime_cli.session.recording import Recorder

PROMPT = "rtc> "


class _Lines:
    """What the console prints, each time on a line of its own and followed by the prompt
    again when the prompt was showing."""

    def __init__(self, stream: IO[str], loop: asyncio.AbstractEventLoop) -> None:
        self.stream = stream
        self.loop = loop
        self.prompting = False  # the prompt is on screen, nothing printed after it yet
        self.waiting = False  # a line is being read: output that arrives gets a new prompt
        self.scheduled = False

    def prompt(self) -> None:
        self.scheduled = False
        if not self.prompting:
            self.stream.write(PROMPT)
            self.stream.flush()
            self.prompting = True

    def write(self, text: str) -> int:
        if self.prompting and text:
            self.stream.write("\n")
            self.prompting = False
        self.stream.write(text)
        if self.waiting and text.endswith("\n") and not self.scheduled:
            self.scheduled = True  # once the whole print is out, not after each of its lines
            self.loop.call_soon(self.prompt)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return True


def _read_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """A daemon thread: a blocked read must not keep the process from leaving."""
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line)
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def run_dumb(
    endpoint: Endpoint, *, view: str, token_delay_ms: float, record: Recorder | None
) -> int:
    loop = asyncio.get_running_loop()
    lines = _Lines(sys.stdout, loop)
    width = shutil.get_terminal_size().columns
    out = make_console(lines, force_terminal=False, width=width)  # type: ignore[arg-type]
    shell = Shell(
        endpoint,
        out,
        handlers=actions.HANDLERS,
        view=view,
        token_delay_ms=token_delay_ms,
        record=record,
    )
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    threading.Thread(target=_read_lines, args=(loop, queue), daemon=True).start()
    interrupted = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, interrupted.set)
    session = await shell.connect()
    receiver = asyncio.ensure_future(shell.receive_loop(session))
    try:
        while True:
            lines.prompt()
            reading = asyncio.ensure_future(queue.get())
            ctrl_c = asyncio.ensure_future(interrupted.wait())
            lines.waiting = True
            await asyncio.wait({reading, ctrl_c}, return_when=asyncio.FIRST_COMPLETED)
            lines.waiting = False
            ctrl_c.cancel()
            if interrupted.is_set():
                reading.cancel()
                interrupted.clear()
                if not shell.cancellable():
                    lines.write("\n")
                    return ExitCode.INTERRUPTED
                await actions.interrupt(shell)
                continue
            line = reading.result()
            lines.prompting = False  # the user's Enter ended the prompt's line
            if line is None:  # end of input (Ctrl-D)
                lines.write("\n")
                return ExitCode.OK
            action = await shell.execute(line.rstrip("\n"))
            if action is Action.QUIT:
                return ExitCode.OK
            if action is Action.RECONNECT:
                receiver.cancel()
                await asyncio.wait([receiver])
                await shell.disconnect()
                try:
                    session = await shell.connect()
                except RtcError as exc:
                    shell.say(f"reconnect failed: {exc.message}", "bold red")
                    continue
                receiver = asyncio.ensure_future(shell.receive_loop(session))
    finally:
        receiver.cancel()
        await asyncio.wait([receiver])
        await shell.disconnect()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
