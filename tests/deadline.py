"""A generous bound on work whose cost must not grow with its size (complexity regressions).

Not a timing assertion: the sizes are chosen so that the linear code takes well under a second
and a quadratic one minutes; the deadline only stops a regression from hanging the suite.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    def expired(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"{what}: not done after {seconds:g}s (cost grows with size?)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
