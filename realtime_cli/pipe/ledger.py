"""The sans-I/O half of pipe mode: directives and the end-of-work rule.

The input reader is ``jsonstream.JsonStream``. ``parse_directive`` reads
``{"rtc": "wait"|"sleep", ...}`` objects; ``Ledger`` says what sent events are still owed an
answer. ``pipe.py`` does the I/O.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

from realtime_cli.protocol.events import (
    BETA_TO_GA,
    JSON,
    Client,
    Server,
    ga_type,
)
from realtime_cli.protocol.fields import obj as _obj
from realtime_cli.protocol.schema import show

LAST_RESPONSE = "$last_response"
SERVER_TYPES = frozenset({*Server, *BETA_TO_GA})


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


# Which client event types each server event can answer (the reverse of ANSWERS).
_ANSWERED_BY: dict[str, tuple[str, ...]] = {}
for _client, _answers in ANSWERS.items():
    for _answer in _answers:
        _ANSWERED_BY[_answer] = (*_ANSWERED_BY.get(_answer, ()), _client)


@dataclass(eq=False)
class Owed:
    """A sent client event still waiting for its answer, and the input line it came from."""

    event: JSON
    line: int | None = None
    serial: int = 0  # the order it was sent in: the oldest candidate settles first
    settled: bool = False

    def describe(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.event.get('type')} {self.event.get('event_id') or ''}".rstrip() + where


def _queue(queues: dict[str, deque[Owed]], key: str) -> deque[Owed]:
    queue = queues.get(key)
    if queue is None:
        queue = queues[key] = deque()
    return queue


def _oldest(queue: deque[Owed] | None) -> Owed | None:
    """The oldest owed event still owed in ``queue`` (settled ones are dropped on the way)."""
    while queue:
        if not queue[0].settled:
            return queue[0]
        queue.popleft()
    return None


class Ledger:
    """What is still owed an answer: the end-of-work rule, fed with both directions, no I/O.

    An answer settles the oldest owed event it can answer whose key (item id, response id) is
    the answer's, or else the oldest one without a key. Every response seen in
    ``response.created`` is owed its ``response.done`` (also those the server starts itself).

    Each server event costs O(1) however many events are owed: owed events are indexed by their
    type and key, and by event_id for errors (a scan per event made 10,000 events quadratic).
    """

    def __init__(self) -> None:
        self._owed: dict[int, Owed] = {}  # serial -> owed event, oldest first
        self.active: dict[str, int | None] = {}  # response id -> the input line that created it
        self.lines: dict[str, int | None] = {}  # every response id seen -> its input line
        self._foreign: set[str] = set()  # items the server made (model output, commits)
        self._cancels = 0  # response.cancel events sent so far
        self._serial = 0
        # client type -> key -> owed events with that key; client type -> those without a key
        self._keyed: dict[str, dict[str, deque[Owed]]] = {}
        self._unkeyed: dict[str, deque[Owed]] = {}
        self._by_event_id: dict[str, deque[Owed]] = {}
        self._no_event_id: deque[Owed] = deque()

    @property
    def owed(self) -> list[Owed]:
        """Every event still owed an answer, oldest first."""
        return list(self._owed.values())

    @property
    def settled(self) -> bool:
        return not self._owed and not self.active

    def describe(self) -> list[str]:
        waiting = [
            f"{o.describe()} → {'/'.join(ANSWERS[o.event['type']])}" for o in self._owed.values()
        ]
        for response_id, line in self.active.items():
            waiting.append(f"{response_id}{f' (line {line})' if line else ''} → response.done")
        return waiting

    def sent(self, event: JSON, line: int | None = None) -> None:
        type_ = event.get("type")
        if type_ == Client.response_cancel:
            self._cancels += 1
        if not isinstance(type_, str) or type_ not in ANSWERS:
            return
        self._serial += 1
        owed = Owed(event, line, self._serial)
        self._owed[owed.serial] = owed
        key = _key(event)
        if key is None:
            self._append(_queue(self._unkeyed, type_), owed)
        else:
            _queue(self._keyed.setdefault(type_, {}), key).append(owed)
        event_id = event.get("event_id")
        if isinstance(event_id, str):
            _queue(self._by_event_id, event_id).append(owed)
        elif event_id is None:
            self._append(self._no_event_id, owed)

    def _append(self, queue: deque[Owed], owed: Owed) -> None:
        """Append, first dropping settled entries once they are most of ``queue`` (settled by
        another queue, they would otherwise stay: --no-event-ids over a long input). Amortised
        O(1): after a rebuild at least as many appends come before the next."""
        if len(queue) > 2 * len(self._owed) + 64:
            kept = [o for o in queue if not o.settled]
            queue.clear()
            queue.extend(kept)
        queue.append(owed)

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
        clients = _ANSWERED_BY.get(type_, ())
        found: Owed | None = None
        if key is not None:
            for client in clients:
                keyed = self._keyed.get(client, {})
                candidate = _oldest(keyed.get(key))
                if candidate is None:
                    keyed.pop(key, None)  # an emptied queue is not kept
                elif found is None or candidate.serial < found.serial:
                    found = candidate
        if found is None:
            for client in clients:
                candidate = _oldest(self._unkeyed.get(client))
                if candidate is not None and (found is None or candidate.serial < found.serial):
                    found = candidate
        if found is not None:
            self._settled(found)
        return found

    def _settle_error(self, event_id: Any) -> None:
        # Without an event_id (--no-event-ids) errors come back in order: the oldest one without.
        if isinstance(event_id, str):
            queue = self._by_event_id.get(event_id)
            owed = _oldest(queue)
            if not queue:
                self._by_event_id.pop(event_id, None)
        else:
            owed = _oldest(self._no_event_id)
        if owed is not None:
            self._settled(owed)

    def _settled(self, owed: Owed) -> None:
        """Settle ``owed``: gone from ``owed`` at once, from the queues as they reach it."""
        owed.settled = True
        del self._owed[owed.serial]
        event_id = owed.event.get("event_id")
        if isinstance(event_id, str):
            queue = self._by_event_id.get(event_id)
            if _oldest(queue) is None:
                self._by_event_id.pop(event_id, None)


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
        if "seconds" not in obj:
            raise ValueError('sleep needs "seconds", e.g. {"rtc": "sleep", "seconds": 0.5}')
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
