"""Reading JSON values from text that arrives in pieces: stdin in pipe mode, a paste in the console.

``JsonStream`` turns text, fed as it arrives, into JSON values with the line and column each
starts at: JSON Lines, pretty-printed or concatenated values, and top-level arrays (each element
on its own). After a syntax error it reports once and resynchronises at the next line whose
first non-blank character is ``{`` or ``[`` (so a missing closing brace in JSON Lines loses only
its own line). A value Python's json would take but JSON does not (``NaN``, ``Infinity``, a
number beyond a float) or nested too deeply is reported the same way, at the offending number.
No I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from realtime_cli.protocol.events import Refused, raw_decode, refused_at

_WS = re.compile(r"[ \t\r\n]*")
# A partial object or array can only become complete with a closing bracket, and a syntax error
# only becomes certain once its line is complete (see ``_incomplete``): text without any of these
# cannot change the outcome, so it is buffered without re-parsing (a 15 MiB base64 audio line
# arrives in hundreds of chunks).
_PROGRESS = re.compile(r"[\]}\n]")
_STARTS = "{["


def _skip_ws(buf: str, pos: int) -> int:
    match = _WS.match(buf, pos)
    return match.end() if match else pos


@dataclass(frozen=True)
class Value:
    """A complete JSON value and where it starts (1-based line and column, in characters)."""

    value: Any
    line: int
    column: int


@dataclass(frozen=True)
class Bad:
    """Input that is not JSON: where the problem is and why (lower case, one line)."""

    line: int
    column: int
    reason: str


Item = Value | Bad


def _reason(exc: json.JSONDecodeError, at_end: bool) -> str:
    if at_end:
        return "not JSON: unexpected end of input"
    # json's messages are written to be followed by a position ("Invalid control character at").
    message = exc.msg.removesuffix(" at").removesuffix(" starting")
    if message == "Invalid control character":
        message += " (a raw line break inside a string?)"
    return f"not JSON: {message[:1].lower()}{message[1:]}"


class JsonStream:
    """Feed text as it arrives; get back the values (and errors) it completes, in order."""

    def __init__(self) -> None:
        self._buf = ""
        self._parts: list[str] = []  # text held back while a long value is incomplete
        self._pos = 0  # where parsing resumes in _buf
        self._mark = 0  # an index of _buf whose position is (_line, _col); only moves forward
        self._line = 1
        self._col = 1
        self._array: tuple[int, int] | None = None  # where the enclosing top-level array began
        self._expect_value = False  # inside an array: after "[" or ","
        self._broken_array = False  # an array was abandoned: its "," and "]" are ignored
        self._skip = 0  # resync: 1 = skip to the end of the line, 2 = at the start of a line
        self._incomplete_value = False  # the last parse stopped inside an object or array
        self._fresh = True  # nothing read yet (a byte order mark may come first)

    def feed(self, text: str) -> list[Item]:
        """Add text; return every value (and error) completed by it, in order."""
        if self._fresh and text:
            self._fresh = False
            text = text.removeprefix("\ufeff")
        if self._incomplete_value and not _PROGRESS.search(text):
            self._parts.append(text)
            return []
        self._buf = "".join([self._buf, *self._parts, text])
        self._parts.clear()
        return self._parse(final=False)

    def close(self) -> list[Item]:
        """The end of the input: whatever is left is complete or an error."""
        self._buf = "".join([self._buf, *self._parts])
        self._parts.clear()
        items = self._parse(final=True)
        if self._array is not None:
            line, column = self._array
            items.append(Bad(line, column, "not JSON: array not closed (no ']' before the end)"))
            self._array = None
        return items

    # -- positions ------------------------------------------------------------------------------

    def _where(self, index: int) -> tuple[int, int]:
        """Line and column of ``_buf[index]``; indexes must be asked for in increasing order."""
        buf, mark = self._buf, self._mark
        newlines = buf.count("\n", mark, index)
        if newlines:
            self._line += newlines
            self._col = index - buf.rfind("\n", mark, index)
        else:
            self._col += index - mark
        self._mark = index
        return self._line, self._col

    def _compact(self) -> None:
        self._where(self._pos)
        self._buf = self._buf[self._pos :]
        self._pos = self._mark = 0

    # -- parsing --------------------------------------------------------------------------------

    def _parse(self, final: bool) -> list[Item]:
        items: list[Item] = []
        buf = self._buf
        self._incomplete_value = False
        while True:
            if self._skip == 1:  # resync: drop the rest of this line
                newline = buf.find("\n", self._pos)
                self._pos, self._skip = (len(buf), 1) if newline < 0 else (newline + 1, 2)
            pos = self._pos = _skip_ws(buf, self._pos)
            if pos >= len(buf):
                break
            char = buf[pos]
            if self._skip == 2:  # resync: at the first non-blank character of a line
                self._skip = 0 if char in _STARTS else 1
                if self._skip:
                    continue
            if self._array is not None and not self._expect_value:
                if char == ",":
                    self._expect_value = True
                elif char == "]":
                    self._array = None
                else:
                    self._syntax_error(items, pos, pos, "expected ',' or ']' after an element")
                    continue
                self._pos += 1
            elif self._array is not None and char == "]":  # "[]" or a trailing comma
                self._array = None
                self._pos += 1
            elif self._array is None and char == "[":
                self._array = self._where(pos)
                self._expect_value, self._broken_array = True, False
                self._pos += 1
            elif self._array is None and self._broken_array and char in ",]":
                self._broken_array = char == ","  # the abandoned array's tail
                self._pos += 1
            elif not self._value(items, buf, pos, final):
                self._incomplete_value = char in _STARTS
                break
        self._compact()
        return items

    def _value(self, items: list[Item], buf: str, pos: int, final: bool) -> bool:
        """Decode the value at ``pos``; False when more input is needed to tell."""
        try:
            value, end = raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            if not final and _incomplete(buf, exc.pos):
                return False
            at_end = final and _incomplete(buf, exc.pos)
            self._syntax_error(items, pos, exc.pos, _reason(exc, at_end))
            return True
        except Refused as exc:  # NaN, Infinity, 1e999, nested too deeply: reported as bad JSON
            self._syntax_error(items, pos, refused_at(buf, pos, exc), exc.reason)
            return True
        # A number at the very end may go on in the next chunk ("12" then "3").
        if end == len(buf) and not final and isinstance(value, int | float):
            return False
        line, column = self._where(pos)
        items.append(Value(value, line, column))
        self._pos = end
        if self._array is not None:
            self._expect_value = False
        return True

    def _syntax_error(self, items: list[Item], start: int, error: int, reason: str) -> None:
        """Report the error where it is, then resynchronise (see the module docstring)."""
        buf = self._buf
        error = min(error, len(buf))
        start_line, start_column = self._where(start)
        line, column = self._where(error)
        if line != start_line:
            reason += f" (in the value from line {start_line}, column {start_column})"
        items.append(Bad(line, column, reason))
        in_array = self._array is not None
        if in_array:
            self._array, self._broken_array = None, True
        # A missing closing bracket shows up at the next value's opening one: resume right there
        # (progress is certain: the position moved on, or the array was left).
        line_start = buf.rfind("\n", 0, error) + 1
        first_on_line = _skip_ws(buf, line_start) == error
        opens = error < len(buf) and buf[error] in _STARTS
        resume_here = (error > start or in_array) and first_on_line and opens
        self._pos, self._skip = error, 0 if resume_here else 1


def _incomplete(buf: str, error: int) -> bool:
    """Could more text still make this parse succeed? Tokens and strings never span a raw
    newline, so once the rest of the failing line has arrived the error is certain."""
    return buf.find("\n", error) < 0
