"""A tiny TOML writer, enough for rtc's config file: strings, numbers, booleans, arrays, inline
tables and ``[a.b]`` tables. TOML has no null: callers keep ``None`` out (``profiles`` stores a
session holding a null as a JSON string). ``tomllib`` reads back exactly what this writes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def dumps(data: Mapping[str, Any]) -> str:
    """``data`` as TOML: plain values first, then each table as ``[a.b]``; no nulls."""
    return table_text([], data).lstrip("\n")


def table_text(path: list[str], data: Mapping[str, Any]) -> str:
    """``data`` as the table ``[path]``: its plain values, then its sub-tables."""
    plain = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    out = ""
    if path and (plain or not tables):
        out += "\n[" + ".".join(key_text(p) for p in path) + "]\n"
    for key, value in plain.items():
        out += f"{key_text(key)} = {value_text(value)}\n"
    for key, value in tables.items():
        out += table_text([*path, key], value)
    return out


def key_text(key: str) -> str:
    return key if BARE_KEY.fullmatch(key) else string_text(key)


def string_text(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    escaped = []
    for char in text:
        if char in _ESCAPES:
            escaped.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return string_text(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key_text(k)} = {value_text(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
