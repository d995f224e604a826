"""The function-call loop, sans I/O: which calls are owed an output, and what to send when.

A response that calls functions ends with ``function_call`` items in its output. Each call is
owed a ``function_call_output``; once every call of that response has one (from a handler or
typed by hand) and the response is done, the outputs go back in call order, then ONE follow-up
``response.create``. The follow-up repeats the first request's response fields except ``input``
(the conversation now holds the calls and outputs) and a forced ``tool_choice`` (``required`` or
a named function), which becomes ``auto``: forcing again would make the model call forever.

Rounds are counted along a chain of follow-ups; a response with calls after ``max_rounds``
follow-ups ends the loop (``exceeded``) instead of answering. The caller runs the handlers and
sends what ``answer`` returns; this module only keeps the books (and the books are bounded:
finished rounds are forgotten).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from realtime_cli.protocol import events
from realtime_cli.protocol.events import JSON, Client, Server
from realtime_cli.protocol.fields import obj, seq, text
from realtime_cli.protocol.tracker import Update

DEFAULT_MAX_ROUNDS = 10
_REQUESTS_KEPT = 1_000  # response.create bodies remembered for follow-ups (the newest)
_FORCED = ("required",)


@dataclass
class ToolCall:
    """One ``function_call`` item of a response, and the output it got (None: still owed)."""

    call_id: str
    name: str
    arguments: str
    item_id: str
    response_id: str
    output: str | None = None
    by_hand: bool = False  # its output was sent by the user, not held by the loop

    @property
    def answered(self) -> bool:
        return self.output is not None


@dataclass
class _Round:
    response_id: str
    depth: int  # follow-ups before the response that made these calls
    request: JSON  # the response fields of the response.create that started the response
    calls: list[ToolCall] = field(default_factory=list)
    done: bool = False  # the response's response.done has arrived
    user_created: bool = False  # the user sent a response.create of their own after it


def follow_up_fields(request: JSON) -> JSON:
    """The follow-up's ``response``: the first request's fields, without ``input`` and with a
    forced ``tool_choice`` relaxed to ``auto``."""
    response = {k: copy.deepcopy(v) for k, v in request.items() if k != "input"}
    choice = response.get("tool_choice")
    if choice in _FORCED or (isinstance(choice, dict) and choice.get("type") == "function"):
        response["tool_choice"] = "auto"
    return response


def output_item(call_id: str, output: str) -> JSON:
    return {"type": "function_call_output", "call_id": call_id, "output": output}


class ToolLoop:
    """The books of the loop. ``feed`` every server update, ``sent`` every client event; start a
    handler for each call ``feed`` returns, pass its output to ``answer`` and send the events
    that returns, in order."""

    def __init__(self, max_rounds: int = DEFAULT_MAX_ROUNDS, *, follow_up: bool = True) -> None:
        self.max_rounds = max_rounds
        self.follow_up = follow_up
        self.exceeded: _Round | None = None  # the round that went past max_rounds
        self._rounds: dict[str, _Round] = {}  # response id → its calls, while any is owed
        self._requests: OrderedDict[str, tuple[JSON, int]] = OrderedDict()  # event_id → body
        self._depth_of_response: dict[str, int] = {}
        self._pending_depth: dict[str, int] = {}  # follow-up event_id → its depth
        # follow-up event_id → the response whose calls it follows (``responses`` shows chains)
        self.parents: OrderedDict[str, str] = OrderedDict()

    # -- what the caller asks --------------------------------------------------------------

    @property
    def pending(self) -> list[ToolCall]:
        """Calls still owed an output, oldest first."""
        return [c for r in self._rounds.values() for c in r.calls if not c.answered]

    @property
    def busy(self) -> bool:
        """Work the loop still owes: a call without output, or outputs not yet sent."""
        return bool(self._rounds)

    def call(self, call_id: str) -> ToolCall | None:
        for round_ in self._rounds.values():
            for call in round_.calls:
                if call.call_id == call_id:
                    return call
        return None

    # -- client side -----------------------------------------------------------------------

    def sent(self, event: JSON) -> None:
        """A client event went out (ours or the user's)."""
        type_ = event.get("type")
        if type_ == Client.response_create:
            event_id = event.get("event_id")
            if isinstance(event_id, str):
                depth = self._pending_depth.pop(event_id, 0)
                self._requests[event_id] = (obj(event.get("response")), depth)
                while len(self._requests) > _REQUESTS_KEPT:
                    self._requests.popitem(last=False)
                if depth == 0:  # the user's own: the rounds waiting on it need no follow-up
                    for round_ in self._rounds.values():
                        round_.user_created = round_.done
        elif type_ == Client.conversation_item_create:
            item = obj(event.get("item"))
            if item.get("type") == "function_call_output":
                call = self.call(text(item.get("call_id")))
                if call is not None and not call.answered:
                    call.output = text(item.get("output"))
                    call.by_hand = True

    def follow_up_event(self, event_id: str, round_: _Round) -> JSON:
        """The follow-up ``response.create`` of a round (its depth noted for ``sent``)."""
        self._pending_depth[event_id] = round_.depth + 1
        self.parents[event_id] = round_.response_id
        while len(self.parents) > _REQUESTS_KEPT:
            self.parents.popitem(last=False)
        return events.response_create(follow_up_fields(round_.request), event_id)

    # -- server side -----------------------------------------------------------------------

    def feed(self, update: Update) -> list[ToolCall]:
        """A server event; returns the calls it completed (to run a handler for each)."""
        if update.type == Server.response_output_item_done:
            item = obj(update.event.get("item"))
            response_id = text(update.event.get("response_id"))
            if item.get("type") == "function_call" and response_id:
                call = self._add(response_id, item, update)
                return [call] if call else []
        elif update.type == Server.response_done:
            response = obj(update.event.get("response"))
            response_id = text(response.get("id"))
            new = [
                call
                for item in seq(response.get("output"))
                if obj(item).get("type") == "function_call"
                and (call := self._add(response_id, obj(item), update))
            ]
            round_ = self._rounds.get(response_id)
            if round_ is not None:
                round_.done = True
                if text(response.get("status")) != "completed":
                    del self._rounds[response_id]  # cancelled/failed: nothing is owed
                    return []
                if round_.depth >= self.max_rounds:
                    self.exceeded = round_
                    del self._rounds[response_id]
                    return []
            return new
        return []

    def _add(self, response_id: str, item: JSON, update: Update) -> ToolCall | None:
        call_id = text(item.get("call_id"))
        if not call_id or self.call(call_id) is not None:
            return None
        round_ = self._rounds.get(response_id)
        if round_ is None:
            request: JSON = {}
            depth = 0
            state = update.response
            request_id = state.request_event_id if state is not None else None
            if request_id is not None and request_id in self._requests:
                request, depth = self._requests[request_id]
            round_ = self._rounds[response_id] = _Round(response_id, depth, request)
        call = ToolCall(
            call_id=call_id,
            name=text(item.get("name")),
            arguments=text(item.get("arguments")),
            item_id=text(item.get("id")),
            response_id=response_id,
        )
        round_.calls.append(call)
        return call

    def answer(self, call_id: str, output: str, next_id: Callable[[], str]) -> list[JSON]:
        """A handler's output for a call; returns the events to send now, in order: nothing
        until every call of its response is answered and the response is done, then the held
        outputs in call order and the follow-up ``response.create`` (its event_id from
        ``next_id``)."""
        call = self.call(call_id)
        if call is None or call.answered:
            return []
        call.output = output
        return self.ready(next_id)

    def ready(self, next_id: Callable[[], str]) -> list[JSON]:
        """Events of every round now complete. Call it after each ``feed`` and ``sent``: a
        round's response.done may come after its outputs, or its outputs by hand."""
        sent: list[JSON] = []
        for response_id, round_ in list(self._rounds.items()):
            if not round_.done or not all(c.answered for c in round_.calls):
                continue
            del self._rounds[response_id]
            for call in round_.calls:
                if not call.by_hand:
                    sent.append(events.item_create(output_item(call.call_id, call.output or "")))
            # An output typed by hand leaves the response.create to the user (``--no-create``).
            by_hand = any(c.by_hand for c in round_.calls)
            if self.follow_up and not round_.user_created and not by_hand:
                sent.append(self.follow_up_event(next_id(), round_))
        return sent
