"""Reading stdin without blocking the event loop: a daemon thread hands text to asyncio as it
arrives, with back-pressure (it reads at most a few chunks ahead of the sender)."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import threading
from typing import IO, Any

_CHUNK = 65536
_READ_AHEAD = 16  # chunks the stdin thread may read ahead of the sender (back-pressure)


class StdinReader:
    """Reads stdin in a daemon thread so the event loop never blocks on it; ``get`` returns text
    as it arrives, then None. After the run the thread may stay blocked in a read: harmless."""

    def __init__(self, stream: IO[Any]) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._room = threading.Semaphore(_READ_AHEAD)
        self._stopped = False
        self.error: str | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        threading.Thread(target=self._pump, args=(loop,), name="rtc-stdin", daemon=True).start()

    async def get(self) -> str | None:
        text = await self._queue.get()
        self._room.release()
        return text

    def stop(self) -> None:
        self._stopped = True
        self._room.release()  # wake the thread if it waits for room

    def _read_function(self) -> Any:
        # os.read returns what a pipe has now (a buffered read would wait to fill 64 KiB) and
        # takes no lock that interpreter shutdown could find held by this daemon thread.
        with contextlib.suppress(AttributeError, OSError, ValueError):
            fd = self._stream.fileno()
            return lambda: os.read(fd, _CHUNK)
        return getattr(self._stream, "read1", None) or (lambda: self._stream.read(_CHUNK))

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        read = self._read_function()
        text: str | None = ""
        while text is not None and not self._stopped:
            try:
                data = read()
            except OSError as exc:
                self.error, data = f"cannot read stdin: {exc.strerror or exc}", b""
            # At the end (no data) the decoder's leftovers would be an incomplete character.
            text = (decoder.decode(data) if isinstance(data, bytes) else data) if data else None
            self._room.acquire()
            try:
                loop.call_soon_threadsafe(self._queue.put_nowait, text)
            except RuntimeError:  # the loop has closed: nobody is listening any more
                return
