"""The sans-I/O half of pipe mode: reading the input, directives, and the end-of-work rule.

``JsonStream`` turns stdin text, fed as it arrives, into JSON values with the line and column
each starts at: JSON Lines, pretty-printed or concatenated values, and top-level arrays (each
element on its own). After a syntax error it reports once and resynchronises at the next line
whose first non-blank character is ``{`` or ``[`` (so a missing closing brace in JSON Lines loses
only its own line). A value Python's json would take but JSON does not (``NaN``, ``Infinity``, a
number beyond a float) or nested too deeply is reported the same way, at the offending number.
``parse_directive`` reads ``{"rtc": "wait"|"sleep", ...}`` objects; ``Ledger`` says what sent
events are still owed an answer. ``pipe.py`` does the I/O.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from realtime_cli.events import (
    BETA_TO_GA,
    JSON,
    Client,
    Refused,
    Server,
    ga_type,
    raw_decode,
    refused_at,
)
from realtime_cli.guards import obj as _obj
from realtime_cli.schema import show

_WS = re.compile(r"[ \t\r\n]*")
# A partial object or array can only become complete with a closing bracket, and a syntax error
# only becomes certain once its line is complete (see ``_incomplete``): text without any of these
# cannot change the outcome, so it is buffered without re-parsing (a 15 MiB base64 audio line
# arrives in hundreds of chunks).
_PROGRESS = re.compile(r"[\]}\n]")
_STARTS = "{["

LAST_RESPONSE = "$last_response"
SERVER_TYPES = frozenset({*Server, *BETA_TO_GA})


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


# -- the end-of-work rule (pure) -----------------------------------------------------------------

# What answers each client event (protocol.md §2). input_audio_buffer.append expects nothing; an
# `error` naming the event's event_id answers any of them. conversation.item.created is the beta
# server's single answer to conversation.item.create.
ANSWERS: dict[str, tuple[str, ...]] = {
    Client.session_update: (Server.session_updated,),
    Client.input_audio_buffer_commit: (Server.input_audio_buffer_committed,),
    Client.input_audio_buffer_clear: (Server.input_audio_buffer_cleared,),
    Client.output_audio_buffer_clear: (Server.output_audio_buffer_cleared,),
    Client.conversation_item_create: (
        Server.conversation_item_done,
        Server.conversation_item_created,
    ),
    Client.conversation_item_retrieve: (Server.conversation_item_retrieved,),
    Client.conversation_item_delete: (Server.conversation_item_deleted,),
    Client.conversation_item_truncate: (Server.conversation_item_truncated,),
    Client.response_create: (Server.response_created,),
    Client.response_cancel: (Server.response_done,),
}


def _key(event: JSON) -> str | None:
    """The id that ties an answer to its request: an item id or a response id."""
    type_ = event.get("type")
    if type_ in (Server.response_done, Server.response_created):
        value = _obj(event.get("response")).get("id")
    elif type_ == Client.response_cancel:
        value = event.get("response_id")
    elif isinstance(event.get("item"), dict):  # item.create, item.done, item.retrieved
        value = event["item"].get("id")
    else:  # retrieve, delete, truncate and their answers
        value = event.get("item_id")
    return value if isinstance(value, str) else None


@dataclass
class Owed:
    """A sent client event still waiting for its answer, and the input line it came from."""

    event: JSON
    line: int | None = None

    def describe(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.event.get('type')} {self.event.get('event_id') or ''}".rstrip() + where


class Ledger:
    """What is still owed an answer: the end-of-work rule, fed with both directions, no I/O.

    An answer settles the oldest owed event it can answer whose key (item id, response id) is
    the answer's, or else the oldest one without a key. Every response seen in
    ``response.created`` is owed its ``response.done`` (also those the server starts itself).
    """

    def __init__(self) -> None:
        self.owed: list[Owed] = []
        self.active: dict[str, int | None] = {}  # response id -> the input line that created it
        self.lines: dict[str, int | None] = {}  # every response id seen -> its input line
        self._foreign: set[str] = set()  # items the server made (model output, commits)
        self._cancels = 0  # response.cancel events sent so far

    @property
    def settled(self) -> bool:
        return not self.owed and not self.active

    def describe(self) -> list[str]:
        waiting = [f"{o.describe()} → {'/'.join(ANSWERS[o.event['type']])}" for o in self.owed]
        for response_id, line in self.active.items():
            waiting.append(f"{response_id}{f' (line {line})' if line else ''} → response.done")
        return waiting

    def sent(self, event: JSON, line: int | None = None) -> None:
        if event.get("type") == Client.response_cancel:
            self._cancels += 1
        if event.get("type") in ANSWERS:
            self.owed.append(Owed(event, line))

    def received(self, event: JSON) -> bool:
        """Take one server event; True when it is a response.done the input did not ask for."""
        type_ = ga_type(str(event.get("type")))
        if type_ == Server.error:
            self._settle_error(_obj(event.get("error")).get("event_id"))
            return False
        if type_ == Server.response_output_item_added:
            self._foreign.add(str(_obj(event.get("item")).get("id")))
        elif type_ == Server.input_audio_buffer_committed:
            self._foreign.add(str(event.get("item_id")))
        key = _key(event)
        done_item = type_ in (Server.conversation_item_done, Server.conversation_item_created)
        if done_item and key in self._foreign:
            return False
        settled = self._settle(type_, key)
        if type_ == Server.response_created and key:
            line = settled.line if settled else None
            self.active[key] = self.lines[key] = line
        if type_ == Server.response_done and key:
            self.active.pop(key, None)
            return not self._ok(_obj(event.get("response")))
        return False

    def _ok(self, response: JSON) -> bool:
        status = response.get("status")
        if status == "cancelled":
            reason = _obj(response.get("status_details")).get("reason")
            return self._cancels > 0 and reason in (None, "client_cancelled")
        return status == "completed"

    def _settle(self, type_: str, key: str | None) -> Owed | None:
        candidates = [o for o in self.owed if type_ in ANSWERS[o.event["type"]]]
        keyed = [o for o in candidates if key is not None and _key(o.event) == key]
        found = keyed or [o for o in candidates if _key(o.event) is None]
        if found:
            self.owed.remove(found[0])
        return found[0] if found else None

    def _settle_error(self, event_id: Any) -> None:
        # Without an event_id (--no-event-ids) errors come back in order: the oldest one without.
        want = event_id if isinstance(event_id, str) else None
        for owed in self.owed:
            if owed.event.get("event_id") == want:
                self.owed.remove(owed)
                return


# -- directives ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wait:
    types: tuple[str, ...]
    fields: JSON
    timeout: float | None = None

    def matches(self, event: JSON) -> bool:
        if ga_type(str(event.get("type"))) not in self.types:
            return False
        response, item = _obj(event.get("response")), _obj(event.get("item"))
        for key, want in self.fields.items():
            found = [o[key] for o in (event, response, item) if key in o]
            found += [response.get("id")] if key == "response_id" else []
            found += [item.get("id")] if key == "item_id" else []
            if want not in found:
                return False
        return True

    def describe(self) -> str:
        extra = "".join(f" {k}={show(v)}" for k, v in self.fields.items())
        return "|".join(self.types) + extra


@dataclass(frozen=True)
class Sleep:
    seconds: float


def _seconds(value: Any, name: str) -> float:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, got {show(value)}")
    return float(value)


def parse_directive(obj: JSON) -> Wait | Sleep:
    """An ``{"rtc": ...}`` input object; ``ValueError`` says what is wrong with it."""
    name = obj.get("rtc")
    if name == "sleep":
        extra = sorted(set(obj) - {"rtc", "seconds"})
        if extra:
            raise ValueError(f"sleep takes only 'seconds', got {extra[0]!r}")
        return Sleep(_seconds(obj.get("seconds"), "sleep: 'seconds'"))
    if name != "wait":
        raise ValueError(f'unknown directive {show(name)} (use "wait" or "sleep")')
    types = obj.get("for")
    types = [types] if isinstance(types, str) else types
    if not types or not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise ValueError("wait: 'for' must be a server event type or a list of them")
    for type_ in types:
        if type_ not in SERVER_TYPES:
            raise ValueError(f"wait: unknown server event type {type_!r}")
    timeout = obj.get("timeout")
    fields = {k: v for k, v in obj.items() if k not in ("rtc", "for", "timeout")}
    return Wait(
        tuple(ga_type(t) for t in types),
        fields,
        None if timeout is None else _seconds(timeout, "wait: 'timeout'"),
    )


def substitute(value: Any, last_response: str | None) -> Any:
    """``value`` with every ``"$last_response"`` string replaced (``LookupError`` if none yet)."""
    if value == LAST_RESPONSE:
        if last_response is None:
            raise LookupError(f"{LAST_RESPONSE}: no response.created has been received yet")
        return last_response
    if isinstance(value, dict):
        return {k: substitute(v, last_response) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, last_response) for v in value]
    return value
