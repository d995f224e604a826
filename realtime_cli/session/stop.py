"""SIGINT, SIGTERM and SIGHUP stop ``rtc create`` and ``rtc pipe`` the same way: the run is told,
cancels its active responses (with the short grace Ctrl-C has), closes the socket with 1000,
flushes stdout and the recording, and exits with the signal's documented code (128 + its
number, as a shell reports a process a signal ended). Without this a process manager, timeout(1)
or a closed terminal killed rtc outright: exit 143, close 1006, the response left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

from realtime_cli.errors import ExitCode

# By name: SIGHUP does not exist on Windows.
_CODES = {"SIGINT": ExitCode.INTERRUPTED, "SIGTERM": ExitCode.TERMINATED, "SIGHUP": ExitCode.HANGUP}
_WORDS = {"SIGINT": "interrupted", "SIGTERM": "terminated (SIGTERM)", "SIGHUP": "hung up (SIGHUP)"}


class Stopped:
    """Which stop signal arrived first (None: none yet); later ones change nothing."""

    def __init__(self) -> None:
        self.name: str | None = None

    @property
    def code(self) -> ExitCode:
        return _CODES[self.name or "SIGINT"]

    @property
    def word(self) -> str:
        """How rtc says it stopped: 'interrupted', 'terminated (SIGTERM)', ..."""
        return _WORDS[self.name or "SIGINT"]


@contextlib.contextmanager
def on_stop_signals(
    loop: asyncio.AbstractEventLoop, stopped: Stopped, then: Callable[[], None]
) -> Iterator[Stopped]:
    """While inside, each stop signal records itself in ``stopped`` (the first wins) and calls
    ``then``. Where the loop cannot take signal handlers (Windows, a thread), nothing changes."""
    installed = []

    def handler(name: str) -> None:
        if stopped.name is None:
            stopped.name = name
        then()

    for name in _CODES:
        number = getattr(signal, name, None)
        if number is None:
            continue
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(number, handler, name)
            installed.append(number)
    try:
        yield stopped
    finally:
        for number in installed:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(number)
