"""The console's event log (``events``, ``show``): the newest events both ways, bounded.

Bounded by count and by bytes (the size of each frame as it came): a long session, or one
huge answer, never grows the console without limit. A string longer than ``STRING_KEPT``
characters (the whole text of a long answer, in ``response.output_text.done``,
``response.content_part.done``, ``response.output_item.done``, ``conversation.item.done`` and
``response.done``) is kept cut, with how much was cut: the whole text lives once, in the tracker
(``show <response id>``), not again in up to five logged events. ``dropped`` counts what the
bounds pushed out, so ``events`` can say so instead of "no events of type ...".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from realtime_cli.protocol.events import JSON

LOG_SIZE = 5000  # events kept (sent and received)
LOG_BYTES = 16 * 1024 * 1024  # and at most this much of their frames
STRING_KEPT = 4096  # characters of one string kept in a logged event


@dataclass
class LogEntry:
    t: float
    direction: str  # "→" sent, "←" received
    event: JSON
    size: int = 0  # the frame's length: what the byte bound counts


def cut(value: Any) -> Any:
    """``value`` with every string longer than ``STRING_KEPT`` cut, saying how much was cut;
    ``value`` itself (not a copy) when nothing is that long."""
    if isinstance(value, str):
        if len(value) <= STRING_KEPT:
            return value
        left = len(value) - STRING_KEPT
        return value[:STRING_KEPT] + f"… [{left:,} more characters, not kept in the event log]"
    if isinstance(value, dict):
        changed = {k: new for k, v in value.items() if (new := cut(v)) is not v}
        return {**value, **changed} if changed else value
    if isinstance(value, list):
        items = [cut(v) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


class EventLog:
    def __init__(self, size: int = LOG_SIZE, max_bytes: int = LOG_BYTES) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.dropped = 0  # older events pushed out by the bounds
        self.bytes = 0
        self._entries: deque[LogEntry] = deque()

    def append(self, t: float, direction: str, event: JSON, frame_size: int) -> None:
        # A frame no longer than STRING_KEPT holds no longer string: only big ones are walked.
        kept = cut(event) if frame_size > STRING_KEPT else event
        self._entries.append(LogEntry(t, direction, kept, frame_size))
        self.bytes += frame_size
        while len(self._entries) > self.size or (
            self.bytes > self.max_bytes and len(self._entries) > 1
        ):
            self.bytes -= self._entries.popleft().size
            self.dropped += 1

    def describe_bounds(self) -> str:
        """What was dropped and why, for ``events``."""
        return (
            f"{self.dropped:,} older events dropped (the log keeps the last {self.size:,}"
            f" events, {self.max_bytes // (1024 * 1024)} MiB at most)"
        )

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self._entries)

    def __reversed__(self) -> Iterator[LogEntry]:
        return reversed(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
