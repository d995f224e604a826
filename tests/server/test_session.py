"""Session, items, input audio and bad frames on the local server, driven by the official
``openai`` SDK; every event received is checked strictly (see conformance.py)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from conformance import (
    TEXT_ONLY,
    RealtimeClient,
    assert_conforms,
    connect,
    deltas,
    done_of,
    reply,
    say,
    types,
)
from pydantic import ValidationError

from realtime_cli.audio import codecs as audio
from realtime_cli.protocol.events import Server, item_create, user_message

JSON = dict[str, Any]


TOOL = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def update(c: RealtimeClient, **session: Any) -> JSON:
    c.send({"type": "session.update", "session": {"type": "realtime", **session}})
    event = c.recv()
    return event


def test_session_update_merges_and_clears(server_url: str) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        first = update(
            c,
            instructions="Be brief",
            tools=[TOOL],
            audio={"input": {"turn_detection": {"type": "server_vad", "threshold": 0.8}}},
        )
        cleared = update(
            c,
            instructions="",
            tools=[],
            audio={"input": {"turn_detection": None, "noise_reduction": {"type": "far_field"}}},
        )
        model = update(c, model="gpt-other")
        bad = update(c, instructions="never applied", output_modalities=["text", "audio"])
        final = update(c, audio={"output": {"speed": 1.2}})
    session = first["session"]
    assert session["instructions"] == "Be brief" and session["tools"][0]["name"] == "get_weather"
    vad = session["audio"]["input"]["turn_detection"]
    assert vad["threshold"] == 0.8 and vad["silence_duration_ms"] == 200
    assert session["audio"]["output"]["voice"] == "alloy"
    session = cleared["session"]
    assert (session["instructions"], session["tools"]) == ("", [])
    assert session["audio"]["input"]["turn_detection"] is None
    assert session["audio"]["input"]["noise_reduction"] == {"type": "far_field"}
    assert (model["type"], model["error"]["code"], model["error"]["param"]) == (
        "error",
        "invalid_value",
        "session.model",
    )
    assert bad["type"] == "error" and bad["error"]["param"] == "session.output_modalities"
    session = final["session"]
    assert session["instructions"] == "" and session["audio"]["output"]["speed"] == 1.2


def test_items_are_placed_retrieved_deleted_and_truncated(server_url: str) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        b = say(c, "b")
        c.send({**item_create(user_message("a")), "previous_item_id": "root"})
        added = c.expect(Server.conversation_item_added)
        c.expect(Server.conversation_item_done)
        c.send({**item_create(user_message("x")), "previous_item_id": "item_nope"})
        bad_previous = c.error()
        c.send({"type": "conversation.item.retrieve", "item_id": b["id"]})
        retrieved = c.expect(Server.conversation_item_retrieved)["item"]
        spoken = done_of(reply(c, input=[{"type": "item_reference", "id": b["id"]}]))["output"][0]
        c.send(
            {
                "type": "conversation.item.truncate",
                "item_id": spoken["id"],
                "content_index": 0,
                "audio_end_ms": 50,
            }
        )
        truncated = c.expect(Server.conversation_item_truncated)
        c.send(
            {
                "type": "conversation.item.truncate",
                "item_id": spoken["id"],
                "content_index": 0,
                "audio_end_ms": 500,
            }
        )
        too_long = c.error()
        c.send(
            {
                "type": "conversation.item.truncate",
                "item_id": b["id"],
                "content_index": 0,
                "audio_end_ms": 0,
            }
        )
        not_assistant = c.error()
        c.send({"type": "conversation.item.retrieve", "item_id": spoken["id"]})
        spoken_now = c.expect(Server.conversation_item_retrieved)["item"]
        c.send({"type": "conversation.item.delete", "item_id": b["id"], "event_id": "d1"})
        deleted = c.expect(Server.conversation_item_deleted)
        for kind in ("retrieve", "delete"):
            c.send({"type": f"conversation.item.{kind}", "item_id": b["id"]})
            gone = c.error()
            assert gone["message"] == f"Item with item_id not found: {b['id']}"
            assert (gone["code"], gone["param"]) == ("invalid_value", "item_id")
    assert added["previous_item_id"] is None
    assert (bad_previous["code"], bad_previous["param"]) == ("invalid_value", "previous_item_id")
    assert retrieved == b
    assert truncated["audio_end_ms"] == 50 and truncated["item_id"] == spoken["id"]
    assert (too_long["code"], too_long["param"]) == ("invalid_value", "audio_end_ms")
    assert "already shorter than 500ms" in too_long["message"]
    assert not_assistant["code"] == "invalid_value"
    audio_part = spoken_now["content"][0]
    assert len(base64.b64decode(audio_part["audio"])) == 50 * 48
    assert audio_part["transcript"] == ""
    assert deleted["item_id"] == b["id"]


def test_input_audio_commit_clear_and_too_short(server_url: str) -> None:
    tone = audio.tone(440, 150, 24000)
    with connect(server_url) as c:
        c.expect(Server.session_created)
        update(c, audio={"input": {"turn_detection": None}})  # the client commits, not VAD
        c.send({"type": "input_audio_buffer.commit"})
        empty = c.error()
        c.send(
            {"type": "input_audio_buffer.append", "audio": base64.b64encode(tone[:4000]).decode()}
        )
        c.send({"type": "input_audio_buffer.commit"})
        short = c.error()
        c.send(
            {"type": "input_audio_buffer.append", "audio": base64.b64encode(tone[4000:]).decode()}
        )
        c.send({"type": "input_audio_buffer.commit"})
        committed, added, done = c.recv(), c.recv(), c.recv()
        c.send({"type": "input_audio_buffer.append", "audio": "not base64!"})
        bad = c.error()
        c.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(tone).decode()})
        c.send({"type": "input_audio_buffer.clear"})
        c.expect(Server.input_audio_buffer_cleared)
        c.send({"type": "input_audio_buffer.commit"})
        cleared_then_empty = c.error()
        answer = reply(c, **TEXT_ONLY)
        c.send({"type": "conversation.item.retrieve", "item_id": committed["item_id"]})
        stored = c.expect(Server.conversation_item_retrieved)["item"]
    assert empty["code"] == "input_audio_buffer_commit_empty"
    assert empty["message"] == (
        "Error committing input audio buffer: buffer too small. "
        "Expected at least 100ms of audio, but buffer only has 0.00ms of audio."
    )
    assert "83.33ms" in short["message"]
    assert types([committed, added, done]) == [
        Server.input_audio_buffer_committed,
        Server.conversation_item_added,
        Server.conversation_item_done,
    ]
    assert committed["item_id"] == added["item"]["id"] == done["item"]["id"]
    assert done["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    assert (bad["code"], bad["param"]) == ("invalid_value", "audio")
    assert cleared_then_empty["code"] == "input_audio_buffer_commit_empty"
    assert "".join(deltas(answer)) == "I heard 0.1 seconds of audio."
    assert base64.b64decode(stored["content"][0]["audio"]) == tone
    assert done_of(answer)["usage"]["input_token_details"]["audio_tokens"] == 2


def test_g711_commit_needs_800_bytes(server_url: str) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        update(c, audio={"input": {"format": {"type": "audio/pcmu"}, "turn_detection": None}})
        c.send(
            {"type": "input_audio_buffer.append", "audio": base64.b64encode(bytes(799)).decode()}
        )
        c.send({"type": "input_audio_buffer.commit"})
        assert c.error()["code"] == "input_audio_buffer_commit_empty"
        c.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(bytes(1)).decode()})
        c.send({"type": "input_audio_buffer.commit"})
        c.expect(Server.input_audio_buffer_committed)


UNSUPPORTED = (
    "Invalid value: 'nope'. Supported values are: 'session.update', 'input_audio_buffer.append', "
    "'input_audio_buffer.commit', 'input_audio_buffer.clear', 'conversation.item.create', "
    "'conversation.item.truncate', 'conversation.item.delete', 'conversation.item.retrieve', "
    "'response.create', and 'response.cancel'."
)


def test_bad_frames_get_non_fatal_errors_that_echo_the_event_id(server_url: str) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        c.send_raw("not json")
        invalid_json = c.error()
        c.send_raw(b"\x00\x01binary")
        binary = c.error()
        c.send({"type": "nope", "event_id": "e1"})
        unknown_type = c.error()
        c.send({"type": "response.create", "bogus": 1, "event_id": "e2"})
        unknown_field = c.error()
        c.send({"event_id": "e3"})
        no_type = c.error()
        c.send({"type": "response.create", "response": {"max_output_tokens": 0}, "event_id": "e4"})
        bad_value = c.error()
        say(c, "still here")
        assert "".join(deltas(reply(c, **TEXT_ONLY))) == "still here"
    assert (invalid_json["code"], invalid_json["event_id"]) == ("invalid_json", None)
    assert invalid_json["message"].startswith("Invalid event: failed to parse JSON value.")
    assert binary == {
        "type": "invalid_request_error",
        "code": "invalid_event",
        "message": "Expected a text WebSocket message; binary frames are not supported.",
        "param": None,
        "event_id": None,
    }
    assert unknown_type == {
        "type": "invalid_request_error",
        "code": "invalid_value",
        "message": UNSUPPORTED,
        "param": "type",
        "event_id": "e1",
    }
    assert unknown_field == {
        "type": "invalid_request_error",
        "code": "unknown_parameter",
        "message": "Unknown parameter: 'bogus'.",
        "param": "bogus",
        "event_id": "e2",
    }
    assert (no_type["code"], no_type["message"], no_type["event_id"]) == (
        "invalid_event",
        "The 'type' field is missing.",
        "e3",
    )
    assert (bad_value["param"], bad_value["event_id"]) == ("response.max_output_tokens", "e4")


def test_client_created_items_keep_their_id_and_cannot_repeat_it(server_url: str) -> None:
    item = {**user_message("mine"), "id": "item_client_chosen_0001"}
    with connect(server_url) as c:
        c.expect(Server.session_created)
        c.send(item_create(item))
        done = c.until(Server.conversation_item_done)[-1]["item"]
        c.send(item_create(item))
        again = c.error()
        c.send(
            item_create(
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_audio", "transcript": "x"}],
                }
            )
        )
        audio_item = c.error()
    assert done["id"] == "item_client_chosen_0001"
    assert again["param"] == "item.id"
    assert audio_item["param"] == "item.content[0].type"


def test_the_oracle_rejects_fields_the_sdk_does_not_declare() -> None:
    delta = {
        "type": "response.output_text.delta",
        "event_id": "event_0123456789abcdefghijk",
        "response_id": "resp_1",
        "item_id": "item_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "hi",
    }
    assert_conforms(delta)
    with pytest.raises(AssertionError, match="obfuscation"):
        assert_conforms({**delta, "obfuscation": "xyz"})
    nested = {
        "type": "conversation.item.deleted",
        "event_id": "event_0123456789abcdefghijk",
        "item_id": "item_1",
    }
    assert_conforms(nested)
    with pytest.raises(ValidationError):
        assert_conforms({**nested, "item_id": 5})
    done = {
        "type": "conversation.item.done",
        "event_id": "event_0123456789abcdefghijk",
        "item": {**user_message("x"), "content": [{"type": "input_text", "text": "x", "bogus": 1}]},
    }
    with pytest.raises(AssertionError, match=r"item.content\[0\].bogus"):
        assert_conforms(done)
