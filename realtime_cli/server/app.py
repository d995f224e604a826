"""The local Realtime server on a real socket: websockets glue around ``protocol.Session``.

The only server module that imports websockets. Per connection: one reader loop (this
handler), one writer task that sends events in the order they were produced, and one task per
active response that advances it every ``token_delay_ms``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request
from websockets.http11 import Response as HTTPResponse
from websockets.typing import Subprotocol

from realtime_cli.protocol.events import JSON, encode
from realtime_cli.server.handshake import Refusal, admit, known_path
from realtime_cli.server.protocol import Session
from realtime_cli.server.response import Response
from realtime_cli.server.wire import error_event

# input_audio_buffer.append carries up to 15 MiB of audio; base64 makes that 20 MiB.
MAX_FRAME = 24 * 1024 * 1024
_ANY_ADDRESS = ("", "0.0.0.0", "::")


def _quiet_logger() -> logging.Logger:
    # websockets logs handshake failures and closes at INFO/ERROR; rtc's output must stay clean.
    logger = logging.getLogger("realtime_cli.server.websockets")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    logger.propagate = False
    return logger


@dataclass(frozen=True)
class LocalServer:
    """A running local server. ``url`` is what a client connects to (the real port)."""

    url: str
    host: str
    port: int


def _process_request(connection: ServerConnection, request: Request) -> HTTPResponse | None:
    if known_path(request.path):
        return None
    return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")


def _select_subprotocol(
    connection: ServerConnection, subprotocols: Sequence[Subprotocol]
) -> Subprotocol | None:
    # Browsers offer ["realtime", "openai-insecure-api-key.<key>"] and need one echoed back.
    return Subprotocol("realtime") if "realtime" in subprotocols else None


def _offered_protocols(headers: Headers) -> list[str]:
    values = headers.get_all("Sec-WebSocket-Protocol")
    return [p.strip() for value in values for p in value.split(",") if p.strip()]


class _Connection:
    """One client socket and its session. Cancelling ``run`` is safe: it stops its tasks."""

    def __init__(
        self, ws: ServerConnection, session: Session, delay_s: float, log: _Log | None = None
    ) -> None:
        self.ws = ws
        self.session = session
        self.delay_s = delay_s
        self.log = log
        self.outbox: asyncio.Queue[JSON] = asyncio.Queue()
        self.tasks: set[asyncio.Task[None]] = set()

    def post(self, events: list[JSON]) -> None:
        # Enqueued synchronously where they are produced, so a cancel's closing events can
        # never overtake the deltas of the step before it.
        for item in events:
            self.outbox.put_nowait(item)

    async def write(self) -> None:
        while True:
            item = await self.outbox.get()
            if self.log is not None and self.log.verbosity > 1:
                self.log.event(self.ws, "→", item)
            try:
                await self.ws.send(encode(item))
            except ConnectionClosed:
                return

    async def advance(self, response: Response) -> None:
        while not response.finished:
            await asyncio.sleep(self.delay_s)
            self.post(response.step())

    def _answer(self, frame: str | bytes) -> list[JSON]:
        try:
            return self.session.handle(frame)
        except Exception:
            # A bug here must cost one event, not the user's session.
            _quiet_logger().exception("handling a client frame failed")
            message = "The server had an error while processing your request."
            return [error_event(None, message, error_type="server_error")]

    def _reap(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _quiet_logger().error("response task failed", exc_info=task.exception())

    async def run(self) -> None:
        writer = asyncio.create_task(self.write())
        try:
            self.post(self.session.open())
            async for frame in self.ws:
                if self.log is not None:
                    self.log.frame(self.ws, frame)
                self.post(self._answer(frame))
                for response in self.session.take_started():
                    task = asyncio.create_task(self.advance(response))
                    self.tasks.add(task)
                    task.add_done_callback(self._reap)
        except ConnectionClosed:
            pass  # the client went away mid-stream: nothing left to tell it
        finally:
            pending = [*self.tasks, writer]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


class _Log:
    """``rtc serve -v``: a line per connection and per client event, ``-vv`` per server event
    too, so whoever debugs their own client sees what the server received. Keys are never
    logged (only the path and the event types and ids)."""

    def __init__(self, verbosity: int, write: Callable[[str], None]) -> None:
        self.verbosity = verbosity
        self.write = write
        self.numbers: dict[int, int] = {}

    def _number(self, ws: ServerConnection) -> int:
        return self.numbers.setdefault(id(ws), len(self.numbers) + 1)

    def opened(self, ws: ServerConnection, path: str) -> None:
        peer = ws.remote_address
        where = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.write(f"#{self._number(ws)} connected from {where} {path.partition('?')[0]}")

    def closed(self, ws: ServerConnection) -> None:
        self.write(f"#{self._number(ws)} closed ({ws.close_code or 'no close frame'})")
        self.numbers.pop(id(ws), None)

    def frame(self, ws: ServerConnection, frame: str | bytes) -> None:
        try:
            event = json.loads(frame)
        except (ValueError, RecursionError):
            event = None
        if isinstance(event, dict):
            self.event(ws, "←", event)
        else:
            self.write(f"#{self._number(ws)} ← not a JSON object ({len(frame)} bytes)")

    def event(self, ws: ServerConnection, arrow: str, event: JSON) -> None:
        bits = [str(event.get("type"))[:80], str(event.get("event_id") or "")[:40]]
        self.write(f"#{self._number(ws)} {arrow} " + " ".join(b for b in bits if b))


class _App:
    def __init__(
        self, delay_s: float, api_key: str | None, vad: str = "energy", log: _Log | None = None
    ) -> None:
        self.delay_s = delay_s
        self.api_key = api_key
        self.vad = vad
        self.log = log

    async def handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None  # set once the handshake succeeded
        headers = {name.lower(): value for name, value in request.headers.raw_items()}
        admitted = admit(request.path, headers, _offered_protocols(request.headers), self.api_key)
        if isinstance(admitted, Refusal):
            with contextlib.suppress(ConnectionClosed):
                await ws.send(encode(admitted.event))
                await ws.close(admitted.code, admitted.reason)
            return
        if self.log is not None:
            self.log.opened(ws, request.path)
        try:
            await _Connection(ws, Session(admitted, vad=self.vad), self.delay_s, self.log).run()
        finally:
            if self.log is not None:
                self.log.closed(ws)


def _url(host: str, bound: str, port: int) -> str:
    # Listening on every interface: 0.0.0.0 is no address to connect to; this machine's
    # loopback is (from elsewhere, use this machine's name or address instead).
    shown = ("::1" if ":" in bound else "127.0.0.1") if host in _ANY_ADDRESS else bound
    if ":" in shown:
        shown = f"[{shown}]"
    return f"ws://{shown}:{port}/v1/realtime"


@contextlib.asynccontextmanager
async def running(
    host: str = "127.0.0.1",
    port: int = 0,
    token_delay_ms: float = 20,
    api_key: str | None = None,
    vad: str = "energy",
    log: Callable[[str], None] | None = None,
    verbosity: int = 0,
) -> AsyncIterator[LocalServer]:
    """Serve on ``host:port`` (0: any free port) while the block runs.

    On exit, open connections are closed with 1001 (going away) and their handlers awaited.
    """
    logger = _Log(verbosity, log) if log is not None and verbosity > 0 else None
    app = _App(max(0.0, token_delay_ms) / 1000, api_key, vad, logger)
    async with serve(
        app.handle,
        host,
        port,
        process_request=_process_request,
        select_subprotocol=_select_subprotocol,
        logger=_quiet_logger(),
        max_size=MAX_FRAME,
    ) as server:
        bound_host, bound_port = next(iter(server.sockets)).getsockname()[:2]
        yield LocalServer(_url(host, bound_host, bound_port), bound_host, bound_port)


async def serve_forever(
    host: str,
    port: int,
    token_delay_ms: float,
    api_key: str | None,
    announce: Callable[[str], None],
    vad: str = "energy",
    log: Callable[[str], None] | None = None,
    verbosity: int = 0,
) -> None:
    """Runs until cancelled; calls announce(url) once listening (the CLI prints it as the first
    stdout line)."""
    async with running(host, port, token_delay_ms, api_key, vad, log, verbosity) as server:
        announce(server.url)
        await asyncio.get_running_loop().create_future()
