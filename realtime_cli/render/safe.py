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
    line = " ".join(plain(value).split())
    if width is None or len(line) <= width:
        return line
    return line[: width - 1] + "…"
