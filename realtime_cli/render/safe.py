"""Server text as the renderer shows it. Every string that came from a server (or a recording)
goes through ``plain`` or ``one_line`` before it becomes rich ``Text``: never markup (an id such as
``resp_[/]`` must not restyle or crash anything), never raw control characters (``safe_text``).
"""

from __future__ import annotations

from typing import Any

from realtime_cli.protocol.fields import text
from realtime_cli.safe_text import clean


def plain(value: Any) -> str:
    """Any value as text that cannot drive the terminal (newlines kept)."""
    return clean(text(value))


def one_line(value: Any, width: int | None = None) -> str:
    """Any value on one line (whitespace runs as one space), cut to ``width`` with ``…``."""
    raw = text(value)
    head = 8 * (width or 0) + 8
    if width is not None and len(raw) > head:
        # A row shows a few words of a long answer: cleaning and splitting all of it (8 MB,
        # a million words) cost seconds and tens of MB per event. Its start is enough unless
        # it is mostly whitespace.
        line = " ".join(clean(raw[:head]).split())
        if len(line) > width:
            return line[: width - 1] + "…"
    line = " ".join(clean(raw).split())
    if width is None or len(line) <= width:
        return line
    return line[: width - 1] + "…"
