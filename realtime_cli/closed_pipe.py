"""When the reader of stdout goes away (``rtc create … | head -1``): stop quietly.

A write to a pipe whose reader has exited raises ``BrokenPipeError``. The front ends (``rtc
create``, ``rtc pipe``, ``rtc replay``) stop their work when they see it and call ``silence`` on
the way out, so that Python does not report the broken pipe again when it flushes stdout at exit.

rich catches ``BrokenPipeError`` itself and raises ``SystemExit(1)`` from inside a print (its
``Console.on_broken_pipe``), which escapes an asyncio task as "Task exception was never
retrieved". A stream wrapped in ``Guarded`` turns the error into ``StdoutClosed``, which rich
lets through, so the front end decides what a closed stdout means.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import IO, Any, Protocol


class _HasFileno(Protocol):
    def fileno(self) -> int: ...


class StdoutClosed(Exception):
    """The reader of stdout went away (not a ``BrokenPipeError``, so rich does not catch it)."""


class Guarded:
    """A text stream whose writes and flushes raise ``StdoutClosed`` once its reader is gone."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self.closed_by_reader = False

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise self._gone() from None

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise self._gone() from None

    def fileno(self) -> int:
        return self._stream.fileno()

    def _gone(self) -> StdoutClosed:
        self.closed_by_reader = True
        return StdoutClosed("stdout was closed by its reader")

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, ...
        return getattr(self._stream, name)


class Batched:
    """Flushes ``stream`` once per turn of the event loop, not once per write: a burst of
    queued events costs one system call (a million deltas made a million), yet a pause shows
    all that came before it. ``before_flush`` writes what its caller holds back. A closed
    stdout met by the scheduled flush is raised by the next ``written`` or ``check``."""

    def __init__(self, stream: IO[str], before_flush: Callable[[], None]) -> None:
        self._stream = stream
        self._before_flush = before_flush
        self._scheduled = False
        self._closed: StdoutClosed | None = None

    def written(self) -> None:
        self.check()
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        try:
            self._before_flush()
            self._stream.flush()
        except StdoutClosed as exc:
            self._closed = exc
        except (OSError, ValueError):
            pass

    def check(self) -> None:
        if self._closed is not None:
            raise self._closed


def silence(stream: _HasFileno) -> None:
    """Point ``stream``'s file descriptor at the null device: its reader has gone, and Python
    would report the broken pipe again when it flushes the stream at exit."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)
