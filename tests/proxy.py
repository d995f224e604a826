"""A recording WebSocket relay for tests: sits between rtc and a server, keeps every frame both
ways, and can drop the connection mid-stream to simulate a network failure."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve


@dataclass
class Relay:
    upstream: str  # ws URL of the real server, path and query included
    drop_after: int | None = None  # abort the client's TCP connection after N server frames
    client_frames: list[str] = field(default_factory=list)
    server_frames: list[str] = field(default_factory=list)
    request_paths: list[str] = field(default_factory=list)
    request_headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    async def _handle(self, client: ServerConnection) -> None:
        assert client.request is not None
        self.request_paths.append(client.request.path)
        self.request_headers.append(dict(client.request.headers.raw_items()))
        forwarded = {
            name: value
            for name, value in client.request.headers.raw_items()
            if name.lower() in ("authorization", "api-key", "openai-beta")
        }
        async with connect(self.upstream, max_size=None, additional_headers=forwarded) as server:

            async def up() -> None:
                async for frame in client:
                    self.client_frames.append(str(frame))
                    await server.send(frame)

            async def down() -> None:
                async for frame in server:
                    self.server_frames.append(str(frame))
                    await client.send(frame)
                    if self.drop_after is not None and len(self.server_frames) >= self.drop_after:
                        client.transport.abort()
                        return

            tasks = [asyncio.ensure_future(up()), asyncio.ensure_future(down())]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


@contextlib.contextmanager
def serving(
    handler: Callable[[ServerConnection], Awaitable[None]], **options: Any
) -> Iterator[str]:
    """Serve a websockets ``handler`` on a free loopback port in a thread (rtc's CLI runs its
    own event loop); yields ``ws://127.0.0.1:PORT/v1/realtime?model=gpt-realtime``. ``options``
    go to ``serve`` (``process_request`` to answer the handshake with an HTTP error, say)."""
    ready = threading.Event()
    stop: asyncio.Future[None] | None = None
    url = ""
    loop = asyncio.new_event_loop()

    async def main() -> None:
        nonlocal stop, url
        stop = loop.create_future()
        async with serve(handler, "127.0.0.1", 0, max_size=None, **options) as server:
            port = server.sockets[0].getsockname()[1]
            url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"
            ready.set()
            await stop

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield url
    finally:
        loop.call_soon_threadsafe(
            lambda: stop.set_result(None) if stop and not stop.done() else None
        )
        thread.join(10)
        loop.close()


@contextlib.contextmanager
def relay(upstream: str, drop_after: int | None = None) -> Iterator[Relay]:
    """A recording relay to ``upstream``; yields it with ``url`` set."""
    state = Relay(upstream, drop_after)
    with serving(state._handle) as url:
        state.url = url
        yield state
