"""The tool loop's books, sans I/O: what is owed, and what goes out when."""

from __future__ import annotations

import itertools

import pytest

from realtime_cli.errors import UsageError
from realtime_cli.protocol.events import JSON
from realtime_cli.protocol.tool_loop import ToolLoop, follow_up_fields
from realtime_cli.protocol.tool_spec import parse_tool
from realtime_cli.protocol.tracker import Tracker

ids = itertools.count(1)


def next_id() -> str:
    return f"ev_{next(ids)}"


def call_item(call_id: str, name: str = "f") -> JSON:
    return {
        "type": "function_call",
        "id": f"item_{call_id}",
        "call_id": call_id,
        "name": name,
        "arguments": "{}",
    }


class Wire:
    """A tracker and a loop fed the same events, as the driver does."""

    def __init__(self, loop: ToolLoop) -> None:
        self.tracker = Tracker()
        self.loop = loop

    def send(self, event: JSON) -> None:
        self.tracker.sent(event, 0)
        self.loop.sent(event)

    def server(self, event: JSON) -> list[str]:
        return [c.call_id for c in self.loop.feed(self.tracker.feed(event, 0))]

    def response(self, rid: str, calls: list[str], status: str = "completed") -> list[str]:
        started = [*self.server({"type": "response.created", "response": {"id": rid}})]
        for call_id in calls:
            started += self.server(
                {
                    "type": "response.output_item.done",
                    "response_id": rid,
                    "item": call_item(call_id),
                }
            )
        output = [call_item(c) for c in calls]
        self.server(
            {"type": "response.done", "response": {"id": rid, "status": status, "output": output}}
        )
        return started


def test_outputs_go_back_in_call_order_then_one_follow_up_without_forced_choice() -> None:
    wire = Wire(ToolLoop())
    wire.send(
        {
            "type": "response.create",
            "event_id": "first",
            "response": {"tool_choice": "required", "input": [], "metadata": {"k": "v"}},
        }
    )
    assert wire.response("r1", ["a", "b"]) == ["a", "b"]
    assert [c.call_id for c in wire.loop.pending] == ["a", "b"]
    assert wire.loop.answer("b", "B", next_id) == []  # a still owed
    sent = wire.loop.answer("a", "A", next_id)
    assert [e["item"]["call_id"] for e in sent[:2]] == ["a", "b"]
    assert [e["item"]["output"] for e in sent[:2]] == ["A", "B"]
    follow = sent[2]
    assert follow["type"] == "response.create"
    assert follow["response"] == {"tool_choice": "auto", "metadata": {"k": "v"}}
    assert not wire.loop.busy


def test_outputs_before_response_done_wait_for_it() -> None:
    wire = Wire(ToolLoop())
    wire.send({"type": "response.create", "event_id": "e1"})
    wire.server({"type": "response.created", "response": {"id": "r1"}})
    wire.server({"type": "response.output_item.done", "response_id": "r1", "item": call_item("a")})
    assert wire.loop.answer("a", "A", next_id) == []
    wire.server(
        {
            "type": "response.done",
            "response": {"id": "r1", "status": "completed", "output": [call_item("a")]},
        }
    )
    assert [e["type"] for e in wire.loop.ready(next_id)] == [
        "conversation.item.create",
        "response.create",
    ]


def test_rounds_are_counted_along_the_chain() -> None:
    wire = Wire(ToolLoop(max_rounds=1))
    wire.send({"type": "response.create", "event_id": "e1"})
    wire.response("r1", ["a"])
    follow = wire.loop.answer("a", "A", lambda: "f1")[-1]
    wire.send(follow)
    wire.response("r2", ["b"])  # a call after one follow-up: past --max-tool-rounds 1
    assert wire.loop.exceeded is not None
    assert not wire.loop.busy and wire.loop.pending == []


def test_cancelled_response_owes_nothing_and_hand_outputs_leave_the_create_to_the_user() -> None:
    wire = Wire(ToolLoop())
    wire.send({"type": "response.create", "event_id": "e1"})
    wire.response("r1", ["a"], status="cancelled")
    assert not wire.loop.busy
    wire.send({"type": "response.create", "event_id": "e2"})
    wire.response("r2", ["c"])
    wire.send(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": "c", "output": "typed"},
        }
    )
    assert wire.loop.ready(next_id) == []  # --no-create: the user sends response.create
    assert not wire.loop.busy


def test_follow_up_keeps_a_session_choice_and_drops_input() -> None:
    assert follow_up_fields({"tool_choice": {"type": "function", "name": "f"}}) == {
        "tool_choice": "auto"
    }
    assert follow_up_fields({"tool_choice": "none", "input": []}) == {"tool_choice": "none"}


def test_tool_signature_builds_the_schema() -> None:
    assert parse_tool("get_weather(city: string, unit?: string, days?: integer[])") == {
        "type": "function",
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string"},
                "days": {"type": "array", "items": {"type": "integer"}},
            },
            "required": ["city"],
        },
    }
    assert parse_tool("now() - The time")["description"] == "The time"
    assert parse_tool("now()")["parameters"] == {"type": "object", "properties": {}}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("get_weather(city: strng)", "--tool get_weather: field 'city': unknown type 'strng'"),
        ("get_weather(city)", "--tool get_weather: field 'city': expected FIELD: TYPE"),
        ("get_weather", "--tool 'get_weather': expected NAME(FIELD: TYPE, ...)"),
        ("(a: string)", "--tool '(no name)': a tool name is"),
        ("f(a: string, a: number)", "--tool f: field 'a' is declared twice"),
        ("f(a: string,)", "--tool f: field 2 is empty"),
    ],
)
def test_bad_signatures_name_the_tool_and_the_field(spec: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_tool(spec)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
