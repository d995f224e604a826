"""Total readers of JSON from the wire: bad input is normal input.

A server (or a recording, or a pipe) can put any JSON value in any field: ``"response": "x"``,
``"input_tokens": "5"``, a list where an id belongs, nesting hundreds of levels deep. Code that
reads a field through these gets the type it expects whatever arrived, so a malformed event is
shown as far as it goes instead of crashing rtc. They return plain data; making text safe for a
terminal is ``safe_text``'s job.
"""

from __future__ import annotations

import json
import math
from typing import Any

from realtime_cli.protocol.events import JSON

TOO_DEEP = "<nested too deep to show>"


def obj(value: Any) -> JSON:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def seq(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def text(value: Any) -> str:
    """Any value as a string: strings as they are, ``null`` as empty, anything else as compact
    JSON (never ``repr``, which fails on deep nesting and shows Python, not the wire)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError):
        return TOO_DEEP


def opt_text(value: Any) -> str | None:
    """``text(value)``, or None for a missing, null or empty value."""
    return text(value) or None


def count(value: Any, default: int = 0) -> int:
    """A count (tokens, bytes): an integer, or an integral float; anything else is ``default``
    (booleans too, although Python counts them as ints)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return default


def base64_size(value: Any) -> int:
    """How many bytes a base64 string decodes to (0 for anything that is not a string)."""
    if not isinstance(value, str):
        return 0
    return max(0, len(value) * 3 // 4 - value[-2:].count("="))
