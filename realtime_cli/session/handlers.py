"""Tool handlers: local commands that answer function calls (``--tool-handler NAME=COMMAND``).

A handler runs without a shell (the command is split like a shell would, ``shlex``, and run
directly, so arguments from the model are never interpreted by one): the call's arguments JSON
on stdin, ``RTC_TOOL_NAME`` and ``RTC_CALL_ID`` in its environment, its stdout is the output.
Every failure becomes an output too (``{"error": "..."}``), so the model hears of it and the loop
goes on: a non-zero exit (with the end of its stderr), a timeout, an output past the cap, a
command that cannot start. It runs in its own process group, killed whole on timeout or when
the run is cancelled (Ctrl-C), so no handler outlives rtc or hangs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import signal
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from realtime_cli.errors import UsageError

DEFAULT_TIMEOUT = 30.0
OUTPUT_CAP = 1 << 20  # 1 MiB of stdout: more is refused (an event carries at most 15 MiB)
_STDERR_KEPT = 400  # characters of stderr quoted in an error output
ANY = "*"
_REAP_GRACE = 2.0
# The variables that carry the endpoint's key: a handler's stdout goes to the model and to the
# screen, so a handler (a script that prints its environment, say) never sees them. A handler
# that needs a key of its own reads it from a variable of its own.
ENDPOINT_KEYS = frozenset(
    {"OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN", "RTC_API_KEY"}
)


@dataclass(frozen=True)
class Handler:
    name: str  # the tool's name, or "*" for any tool
    argv: tuple[str, ...]
    text: str  # the COMMAND as given (shown to the user)


def parse_handler(spec: str) -> Handler:
    """``NAME=COMMAND`` into a handler; a one-line ``UsageError`` for a bad one."""
    name, sep, command = spec.partition("=")
    name = name.strip()
    if not sep or not name:
        raise UsageError(f"--tool-handler takes NAME=COMMAND, got {spec!r}")
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"--tool-handler {name}: cannot split the command: {exc}") from None
    if not argv:
        raise UsageError(f"--tool-handler {name}: the command is empty")
    return Handler(name, tuple(argv), command.strip())


class Handlers:
    """The handlers by tool name; ``*`` answers any tool without one of its own."""

    def __init__(self, specs: Iterable[str] = ()) -> None:
        self.by_name: dict[str, Handler] = {}
        for spec in specs:
            handler = parse_handler(spec)
            self.by_name[handler.name] = handler

    def __bool__(self) -> bool:
        return bool(self.by_name)

    def for_tool(self, name: str) -> Handler | None:
        return self.by_name.get(name) or self.by_name.get(ANY)


@dataclass(frozen=True)
class Result:
    """A handler's run: the output to send, and how it went."""

    output: str
    ok: bool
    seconds: float
    status: int | None  # exit status (None: killed by rtc or never started)
    problem: str = ""  # why it failed, one line (empty when ok)


def error_output(message: str) -> str:
    """The output sent to the model for a failure: JSON, so a model reads it as an error."""
    return json.dumps({"error": message}, ensure_ascii=False)


def _failed(started: float, status: int | None, problem: str) -> Result:
    return Result(error_output(problem), False, time.monotonic() - started, status, problem)


async def run_handler(
    handler: Handler,
    *,
    tool: str,
    call_id: str,
    arguments: str,
    time_limit: float | None = DEFAULT_TIMEOUT,
    cap: int = OUTPUT_CAP,
    env: Mapping[str, str] | None = None,
) -> Result:
    """Run one handler to its end (or its timeout, or the cap). Cancelling it kills it."""
    started = time.monotonic()
    environment = {
        name: value
        for name, value in (os.environ if env is None else env).items()
        if name not in ENDPOINT_KEYS
    }
    environment |= {"RTC_TOOL_NAME": tool, "RTC_CALL_ID": call_id}
    try:
        process = await asyncio.create_subprocess_exec(
            *handler.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            start_new_session=True,  # its own group: Ctrl-C and timeouts kill it whole
        )
    except OSError as exc:
        return _failed(started, None, f"handler for {tool} could not start: {exc.strerror or exc}")
    try:
        async with asyncio.timeout(time_limit):
            return await _collect(process, tool, arguments, cap, started)
    except TimeoutError:
        return _failed(started, None, f"handler for {tool} timed out after {time_limit:g}s")
    finally:
        await _reap(process)


async def _collect(
    process: asyncio.subprocess.Process, tool: str, arguments: str, cap: int, started: float
) -> Result:
    assert process.stdin and process.stdout and process.stderr
    feeder = asyncio.ensure_future(_feed(process.stdin, arguments.encode()))
    errors = asyncio.ensure_future(_tail(process.stderr))
    try:
        out = bytearray()
        while chunk := await process.stdout.read(64 * 1024):
            out += chunk
            if len(out) > cap:
                return _failed(started, None, f"handler for {tool} wrote more than {cap} bytes")
        status = await process.wait()
        stderr = (await errors).decode("utf-8", "replace").strip()
    finally:
        for task in (feeder, errors):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task
    if status != 0:
        tail = " ".join(stderr.split())[-_STDERR_KEPT:]
        said = f": {tail}" if tail else ""
        return _failed(started, status, f"handler for {tool} exited with status {status}{said}")
    output = out.decode("utf-8", "replace").rstrip("\n")
    return Result(output, True, time.monotonic() - started, status)


async def _feed(stdin: asyncio.StreamWriter, data: bytes) -> None:
    """The arguments on stdin, then EOF; a handler that never reads them is fine."""
    with contextlib.suppress(OSError):  # BrokenPipe/ConnectionReset: it exited or closed stdin
        stdin.write(data)
        await stdin.drain()
        stdin.close()


async def _tail(stream: asyncio.StreamReader, kept: int = 64 * 1024) -> bytes:
    """Read a stream to its end, keeping its last ``kept`` bytes: a handler that writes a lot
    to stderr never blocks on a full pipe."""
    tail = b""
    while chunk := await stream.read(64 * 1024):
        tail = (tail + chunk)[-kept:]
    return tail


async def _drain(stream: asyncio.StreamReader | None) -> None:
    with contextlib.suppress(OSError, ValueError):
        while stream is not None and await stream.read(64 * 1024):
            pass


async def _reap(process: asyncio.subprocess.Process) -> None:
    """Kill the handler's group if it is still running, and wait for it (shielded, so a
    cancelled run still leaves no zombie or orphan). Its pipes are drained: asyncio's
    ``wait()`` returns only once they are closed, and a reader paused on a full buffer (the
    output past the cap) would never see the end of one."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    ended = asyncio.gather(_drain(process.stdout), _drain(process.stderr), process.wait())
    # A grandchild that left the group may hold a pipe open: then give up on it after a while.
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        async with asyncio.timeout(_REAP_GRACE):
            await asyncio.shield(ended)
