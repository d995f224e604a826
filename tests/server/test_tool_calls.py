"""The local model's parallel calls and MCP approval requests, driven by the official SDK; every
event is checked strictly against ``openai.types.realtime`` (conformance.py)."""

from __future__ import annotations

from typing import Any

from conformance import TEXT_ONLY, connect, done_of, reply, say, types

from realtime_cli.protocol.events import Server, item_create

TOOLS = [
    {"type": "function", "name": "weather", "parameters": {"type": "object", "properties": {}}},
    {"type": "function", "name": "clock", "parameters": {"type": "object", "properties": {}}},
]
MCP = {
    "type": "mcp",
    "server_label": "deepwiki",
    "server_url": "https://mcp.example.com/mcp",
    "allowed_tools": ["ask_question"],
    "require_approval": "always",
}


def test_a_message_naming_two_tools_gets_two_calls_and_an_answer_with_both_outputs(
    server_url: str,
) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        say(c, "the weather and the clock please")
        events = reply(c, tools=TOOLS, **TEXT_ONLY)
        calls = done_of(events)["output"]
        assert [(i["type"], i["name"]) for i in calls] == [
            ("function_call", "weather"),
            ("function_call", "clock"),
        ]
        assert [e["output_index"] for e in events if e["type"] == "response.output_item.done"] == [
            0,
            1,
        ]
        for call, output in zip(calls, ("Sunny.", "Noon."), strict=True):
            c.send(
                item_create(
                    {"type": "function_call_output", "call_id": call["call_id"], "output": output}
                )
            )
            c.until(Server.conversation_item_done)
        answer = done_of(reply(c, **TEXT_ONLY))["output"][0]["content"][0]["text"]
    assert answer == "Sunny. Noon."


def test_an_mcp_tool_that_always_needs_approval_gets_a_request(server_url: str) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        say(c, "ask deepwiki about rtc")
        events = reply(c, tools=[MCP], **TEXT_ONLY)
        assert types(events) == [
            Server.response_created,
            Server.response_output_item_added,
            Server.conversation_item_added,
            Server.conversation_item_done,
            Server.response_output_item_done,
            Server.response_done,
            Server.rate_limits_updated,
        ]
        (request,) = done_of(events)["output"]
        assert request["type"] == "mcp_approval_request"
        assert (request["server_label"], request["name"]) == ("deepwiki", "ask_question")
        answer: dict[str, Any] = {
            "type": "mcp_approval_response",
            "id": "mcpr_1",
            "approval_request_id": request["id"],
            "approve": False,
        }
        c.send(item_create(answer))
        c.until(Server.conversation_item_done)
        text = done_of(reply(c, **TEXT_ONLY))["output"][0]["content"][0]["text"]
    assert (
        text
        == "The call of deepwiki.ask_question was denied; the local server runs no MCP servers."
    )
