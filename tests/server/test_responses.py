"""Responses from the local server, driven by the official ``openai`` SDK; every event received
is checked strictly against ``openai.types.realtime`` (see conformance.py)."""

from __future__ import annotations

import base64
import json
from array import array
from collections.abc import Callable
from typing import Any

import pytest
from conformance import (
    TEXT_ONLY,
    connect,
    deltas,
    done_of,
    reply,
    say,
    types,
)

from realtime_cli.audio import codecs as audio
from realtime_cli.protocol.events import (
    Server,
    item_create,
    response_cancel,
    response_create,
    user_message,
)

JSON = dict[str, Any]


def test_session_created_carries_the_full_default_session(server_url: str) -> None:
    with connect(server_url, model="gpt-realtime-mini") as c:
        session = c.expect(Server.session_created)["session"]
    assert session["id"].startswith("sess_") and len(session["id"]) == 26
    assert session["object"] == "realtime.session"
    assert session["model"] == "gpt-realtime-mini"
    assert session["output_modalities"] == ["audio"]
    assert session["audio"]["input"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "transcription": None,
        "noise_reduction": None,
        "turn_detection": {
            "type": "server_vad",
            "threshold": 0.5,
            "prefix_padding_ms": 300,
            "silence_duration_ms": 200,
            "idle_timeout_ms": None,
            "create_response": True,
            "interrupt_response": True,
        },
    }
    assert session["audio"]["output"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "voice": "alloy",
        "speed": 1.0,
    }
    assert (session["tools"], session["tool_choice"], session["max_output_tokens"]) == (
        [],
        "auto",
        "inf",
    )
    assert session["instructions"]
    assert session["expires_at"] > 0


def test_text_response_follows_the_live_sequence(server_url: str) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        user = say(c, "Hello there,  world")
        events = reply(c, **TEXT_ONLY)
    assert types(events) == [
        Server.response_created,
        Server.response_output_item_added,
        Server.conversation_item_added,
        Server.response_content_part_added,
        *[Server.response_output_text_delta] * 3,
        Server.response_output_text_done,
        Server.response_content_part_done,
        Server.conversation_item_done,
        Server.response_output_item_done,
        Server.response_done,
        Server.rate_limits_updated,
    ]
    assert user["id"].startswith("item_") and user["status"] == "completed"
    assert user["object"] == "realtime.item"
    assert deltas(events) == ["Hello ", "there,  ", "world"]
    assert events[7]["text"] == "Hello there,  world"
    assert events[2]["previous_item_id"] == user["id"]
    created, done = events[0]["response"], done_of(events)
    assert created["status"] == "in_progress" and created["output"] == []
    assert created["conversation_id"].startswith("conv_")
    assert done["status"] == "completed" and done["status_details"] is None
    assert done["output"][0]["content"] == [{"type": "output_text", "text": "Hello there,  world"}]
    assert done["usage"]["output_tokens"] == 3
    assert done["usage"]["input_tokens"] >= 3


def test_audio_response_carries_real_pcm_and_its_transcript(server_url: str) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        say(c, "one two three four")
        events = reply(c)
    middle = types(events)[4:-7]
    assert (
        middle
        == [
            Server.response_output_audio_transcript_delta,
            Server.response_output_audio_delta,
        ]
        * 4
    )
    assert types(events)[-7:-4] == [
        Server.response_output_audio_done,
        Server.response_output_audio_transcript_done,
        Server.response_content_part_done,
    ]
    assert events[3]["part"] == {"type": "audio", "transcript": ""}
    pcm = b"".join(base64.b64decode(d) for d in deltas(events, Server.response_output_audio_delta))
    assert len(pcm) == 4 * 2400 * 2  # 4 words × 100 ms at 24 kHz × 2 bytes
    samples = array("h", pcm)
    assert max(samples) > 5000 and min(samples) < -5000
    assert "".join(deltas(events, Server.response_output_audio_transcript_delta)) == (
        "one two three four"
    )
    done = done_of(events)
    assert done["output"][0]["content"] == [
        {"type": "output_audio", "transcript": "one two three four"}
    ]
    assert done["usage"]["output_token_details"] == {"text_tokens": 0, "audio_tokens": 4}
    assert done["audio"]["output"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "voice": "alloy",
    }


@pytest.mark.parametrize(
    ("format_type", "decode"),
    [("audio/pcmu", audio.ulaw_decode), ("audio/pcma", audio.alaw_decode)],
)
def test_g711_output_is_8khz_one_byte_per_sample(
    server_url: str, format_type: str, decode: Callable[[bytes], bytes]
) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        say(c, "a b c")
        events = reply(c, audio={"output": {"format": {"type": format_type}, "voice": "marin"}})
    data = b"".join(base64.b64decode(d) for d in deltas(events, Server.response_output_audio_delta))
    assert len(data) == 3 * 800
    assert max(array("h", decode(data))) > 5000
    assert done_of(events)["audio"]["output"] == {"format": {"type": format_type}, "voice": "marin"}


def test_metadata_instructions_and_empty_input(server_url: str) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        say(c, "ignored because input replaces the context")
        events = reply(c, input=[], instructions="Say hello", metadata={"tag": "t1"}, **TEXT_ONLY)
    assert events[0]["response"]["metadata"] == {"tag": "t1"}
    assert done_of(events)["metadata"] == {"tag": "t1"}
    assert "".join(deltas(events)) == "Say hello"


def test_prompt_variables_fill_the_instructions(server_url: str) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        prompt = {
            "id": "pmpt_1",
            "variables": {"city": "Paris", "x": {"type": "input_text", "text": "now"}},
        }
        events = reply(c, instructions="Weather in {{city}} {{x}}", prompt=prompt, **TEXT_ONLY)
    assert "".join(deltas(events)) == "Weather in Paris now"


def test_out_of_band_responses_run_in_parallel_outside_the_conversation(
    local_server: Callable[..., str],
) -> None:
    url = local_server(token_delay_ms=5)
    words = " ".join(f"w{i}" for i in range(10))
    with connect(url) as c:
        c.expect(Server.session_created)
        say(c, words)
        for tag in ("a", "b"):
            c.send(response_create({"conversation": "none", "metadata": {"tag": tag}, **TEXT_ONLY}))
        events = c.until(Server.response_done)
        events += [*c.until(Server.response_done), c.expect(Server.rate_limits_updated)]
        c.send({"type": "conversation.item.retrieve", "item_id": "nope"})
        c.error()
    created = [e for e in events if e["type"] == Server.response_created]
    first_done = types(events).index(Server.response_done)
    assert types(events).index(Server.response_created, 1) < first_done  # both ran at once
    assert [e["response"]["conversation_id"] for e in created] == [None, None]
    assert not [t for t in types(events) if t.startswith("conversation.item")]
    by_tag = {}
    for done in (e["response"] for e in events if e["type"] == Server.response_done):
        by_tag[done["metadata"]["tag"]] = done
        assert done["status"] == "completed"
        assert done["output"][0]["content"][0]["text"] == words
    assert set(by_tag) == {"a", "b"}


def test_second_response_in_the_conversation_is_refused_with_the_active_id(
    local_server: Callable[..., str],
) -> None:
    url = local_server(token_delay_ms=20)
    with connect(url) as c:
        c.expect(Server.session_created)
        say(c, "a b c d e f")
        c.send(response_create(TEXT_ONLY))
        active = c.expect(Server.response_created)["response"]["id"]
        c.send(response_create(TEXT_ONLY, event_id="second"))
        events = c.turn()
    errors = [e["error"] for e in events if e["type"] == Server.error]
    assert errors == [
        {
            "type": "invalid_request_error",
            "code": "conversation_already_has_active_response",
            "message": f"Conversation already has an active response in progress: {active}. "
            "Wait until the response is finished before creating a new one.",
            "param": None,
            "event_id": "second",
        }
    ]
    assert Server.response_created not in types(events)
    assert done_of(events)["status"] == "completed"


def test_cancel_mid_response_sends_the_closing_events(local_server: Callable[..., str]) -> None:
    url = local_server(token_delay_ms=20)
    with connect(url) as c:
        c.expect(Server.session_created)
        say(c, "one two three four five six seven eight")
        c.send(response_create())
        c.until(Server.response_output_audio_delta)
        c.send(response_cancel())
        events = c.turn()
        assert c.quiet(0.1)
    tail = [t for t in types(events) if not t.endswith(".delta")]
    assert tail == [
        Server.response_output_audio_done,
        Server.response_output_audio_transcript_done,
        Server.response_content_part_done,
        Server.conversation_item_done,
        Server.response_output_item_done,
        Server.response_done,
        Server.rate_limits_updated,
    ]
    done = done_of(events)
    assert done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert done["output"][0]["status"] == "incomplete"
    assert done["usage"]["output_tokens"] < 8


def test_cancel_with_nothing_active_is_one_error(server_url: str) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        c.send(response_cancel(event_id="evt_1"))
        error = c.error()
        c.send(response_cancel(response_id="resp_unknown"))
        unknown = c.error()
        say(c, "still fine")
        finished = done_of(reply(c, **TEXT_ONLY))
        c.send(response_cancel(response_id=finished["id"]))
        after = c.error()
        assert c.quiet(0.05)
    assert error == {
        "type": "invalid_request_error",
        "code": "response_cancel_not_active",
        "message": "Cancellation failed: no active response found.",
        "param": None,
        "event_id": "evt_1",
    }
    assert unknown["code"] == after["code"] == "response_cancel_not_active"
    assert unknown["event_id"] is None


def test_cancel_naming_an_unknown_response_leaves_the_active_one_alone(
    local_server: Callable[..., str],
) -> None:
    with connect(local_server(token_delay_ms=20)) as c:
        c.expect(Server.session_created)
        say(c, "one two three four five six")
        c.send(response_create(TEXT_ONLY))
        events = c.until(Server.response_output_text_delta)
        c.send(response_cancel(response_id="resp_unknown", event_id="evt_wrong"))
        events += c.turn()
    errors = [e["error"] for e in events if e["type"] == Server.error]
    assert [(e["code"], e["event_id"]) for e in errors] == [
        ("response_cancel_not_active", "evt_wrong")
    ]
    done = done_of(events)
    assert done["status"] == "completed"
    assert "".join(deltas(events)).strip().endswith("six")


def test_max_output_tokens_gives_incomplete_with_exactly_n_tokens(server_url: str) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        say(c, "a b c d e f g h")
        events = reply(c, max_output_tokens=3, **TEXT_ONLY)
    done = done_of(events)
    assert deltas(events) == ["a ", "b ", "c "]
    assert done["status"] == "incomplete"
    assert done["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    assert done["usage"]["output_tokens"] == 3
    assert done["max_output_tokens"] == 3


WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer", "minimum": 1},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "hourly": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "where": {
                "type": "object",
                "properties": {"lat": {"type": "number"}},
                "required": ["lat"],
            },
            "optional": {"type": "string"},
        },
        "required": ["city", "days", "unit", "hourly", "tags", "where"],
    },
}


def test_tool_call_then_its_output_is_the_next_reply(server_url: str) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        c.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "tools": [WEATHER], **TEXT_ONLY},
            }
        )
        c.expect(Server.session_updated)
        say(c, "please call get_weather for Paris")
        events = reply(c)
        call = done_of(events)["output"][0]
        c.send(
            item_create(
                {"type": "function_call_output", "call_id": call["call_id"], "output": "Sunny, 21C"}
            )
        )
        c.until(Server.conversation_item_done)
        after = reply(c)
    assert types(events) == [
        Server.response_created,
        Server.response_output_item_added,
        Server.conversation_item_added,
        *[Server.response_function_call_arguments_delta]
        * len(deltas(events, Server.response_function_call_arguments_delta)),
        Server.response_function_call_arguments_done,
        Server.conversation_item_done,
        Server.response_output_item_done,
        Server.response_done,
        Server.rate_limits_updated,
    ]
    assert call["type"] == "function_call" and call["name"] == "get_weather"
    assert call["call_id"].startswith("call_") and call["status"] == "completed"
    arguments = json.loads(call["arguments"])
    assert arguments == {
        "city": "example",
        "days": 1,
        "unit": "celsius",
        "hourly": True,
        "tags": ["example"],
        "where": {"lat": 1.0},
    }
    assert (
        "".join(deltas(events, Server.response_function_call_arguments_delta)) == call["arguments"]
    )
    assert "".join(deltas(after)) == "Sunny, 21C"


def test_tool_choice_forces_a_call_and_none_forbids_it(server_url: str) -> None:
    tool = {"type": "function", "name": "ping", "parameters": {"type": "object", "properties": {}}}
    with connect(server_url) as c:
        c.expect(Server.session_created)
        say(c, "ping")
        forced = done_of(
            reply(c, tools=[tool], tool_choice={"type": "function", "name": "ping"}, **TEXT_ONLY)
        )
        never = done_of(reply(c, tools=[tool], tool_choice="none", **TEXT_ONLY))
        c.send(
            response_create({"tools": [tool], "tool_choice": {"type": "function", "name": "pong"}})
        )
        error = c.error()
    assert forced["output"][0]["arguments"] == "{}"
    assert never["output"][0]["content"][0]["text"] == "ping"
    assert (error["code"], error["param"]) == ("invalid_value", "response.tool_choice.name")


def test_input_item_references_replace_the_context(server_url: str) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        first = say(c, "first message")
        say(c, "second message")
        events = reply(c, input=[{"type": "item_reference", "id": first["id"]}], **TEXT_ONLY)
        inline = reply(c, input=[user_message("inline words")], conversation="none", **TEXT_ONLY)
        c.send(response_create({"input": [{"type": "item_reference", "id": "item_missing"}]}, "e7"))
        error = c.error()
    assert "".join(deltas(events)) == "first message"
    assert "".join(deltas(inline)) == "inline words"
    assert error == {
        "type": "invalid_request_error",
        "code": "invalid_value",
        "message": "Item with item_id not found: item_missing",
        "param": "response.input[0].id",
        "event_id": "e7",
    }
