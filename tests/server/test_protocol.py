"""The local server's state machine as plain function calls: no socket, no event loop."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conformance import assert_conforms

from realtime_cli.protocol.events import Client, Server
from realtime_cli.server.handshake import Refusal, admit, known_path, mask_key
from realtime_cli.server.protocol import Session
from realtime_cli.server.response import Response

JSON = dict[str, Any]


def send(session: Session, event: JSON | str | bytes) -> list[JSON]:
    frame = event if isinstance(event, str | bytes) else json.dumps(event)
    events = session.handle(frame)
    for out in events:
        assert_conforms(out)
    return events


def types(events: list[JSON]) -> list[str]:
    return [e["type"] for e in events]


def say(session: Session, text: str) -> None:
    send(
        session,
        {
            "type": Client.conversation_item_create,
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": text}],
            },
        },
    )


def start(session: Session, **response: Any) -> Response:
    created = send(session, {"type": Client.response_create, "response": response})
    assert types(created) == [Server.response_created]
    (started,) = session.take_started()
    return started


def run(response: Response) -> list[JSON]:
    events = []
    while not response.finished:
        events += response.step()
    for out in events:
        assert_conforms(out)
    return events


@pytest.fixture
def session() -> Session:
    created = Session("gpt-realtime", clock=lambda: 1_000.0)
    (event,) = created.open()
    assert_conforms(event)
    assert event["session"]["expires_at"] == 4_600
    return created


def test_text_response_streams_one_word_per_step(session: Session) -> None:
    say(session, "one two  three")
    response = start(session, output_modalities=["text"])
    first = response.step()
    assert types(first) == [
        Server.response_output_item_added,
        Server.conversation_item_added,
        Server.response_content_part_added,
        Server.response_output_text_delta,
    ]
    assert [
        e["delta"] for e in run(response) if e["type"] == Server.response_output_text_delta
    ] == [
        "two  ",
        "three",
    ]
    assert response.status == "completed"
    assert response.usage is not None and response.usage["output_tokens"] == 3


def test_max_output_tokens_stops_after_exactly_n_words(session: Session) -> None:
    say(session, "a b c d e f")
    response = start(session, output_modalities=["text"], max_output_tokens=2)
    events = run(response)
    assert [e["delta"] for e in events if "delta" in e] == ["a ", "b "]
    done = events[-2]["response"]
    assert done["status"] == "incomplete"
    assert done["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    assert done["usage"]["output_tokens"] == 2
    assert done["output"][0]["status"] == "incomplete"
    assert done["output"][0]["content"] == [{"type": "output_text", "text": "a b "}]


def test_exactly_n_words_within_the_limit_completes(session: Session) -> None:
    say(session, "a b")
    response = start(session, output_modalities=["text"], max_output_tokens=2)
    assert run(response)[-2]["response"]["status"] == "completed"


def test_cancel_mid_response_closes_what_is_open(session: Session) -> None:
    say(session, "a b c d")
    response = start(session, output_modalities=["text"])
    response.step()
    closing = send(session, {"type": Client.response_cancel, "event_id": "c1"})
    assert types(closing) == [
        Server.response_output_text_done,
        Server.response_content_part_done,
        Server.conversation_item_done,
        Server.response_output_item_done,
        Server.response_done,
        Server.rate_limits_updated,
    ]
    assert closing[0]["text"] == "a "
    done = closing[4]["response"]
    assert done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert closing[3]["item"]["status"] == "incomplete"
    assert response.step() == []
    assert session.active is None


def test_cancel_before_the_first_token_has_no_output(session: Session) -> None:
    response = start(session, output_modalities=["text"])
    (done, _limits) = response.cancel()
    assert done["response"]["output"] == []
    assert done["response"]["status"] == "cancelled"
    assert response.cancel() == []


def test_cancel_with_nothing_active_is_an_error_and_nothing_else(session: Session) -> None:
    (error,) = send(session, {"type": Client.response_cancel, "event_id": "evt_9"})
    assert error["error"] == {
        "type": "invalid_request_error",
        "code": "response_cancel_not_active",
        "message": "Cancellation failed: no active response found.",
        "param": None,
        "event_id": "evt_9",
    }


def test_function_call_arguments_stream_in_pieces(session: Session) -> None:
    tool = {
        "type": "function",
        "name": "lookup",
        "parameters": {
            "type": "object",
            "properties": {"q": {"type": "string"}, "n": {"type": "integer", "minimum": 3}},
            "required": ["q", "n"],
        },
    }
    response = start(session, tools=[tool], tool_choice="required")
    events = run(response)
    deltas = [
        e["delta"] for e in events if e["type"] == Server.response_function_call_arguments_delta
    ]
    assert len(deltas) > 1
    assert json.loads("".join(deltas)) == {"q": "example", "n": 3}
    assert "content_part" not in " ".join(types(events))


def test_session_update_is_rejected_whole(session: Session) -> None:
    before = json.dumps(session.config)
    (error,) = send(
        session,
        {
            "type": Client.session_update,
            "session": {"type": "realtime", "instructions": "new", "bogus_field": 1},
        },
    )
    assert error["error"]["code"] == "unknown_parameter"
    assert error["error"]["param"] == "session.bogus_field"
    assert json.dumps(session.config) == before


def test_session_update_replaces_a_turn_detection_of_another_type(session: Session) -> None:
    (updated,) = send(
        session,
        {
            "type": Client.session_update,
            "session": {
                "type": "realtime",
                "audio": {"input": {"turn_detection": {"type": "semantic_vad"}}},
            },
        },
    )
    assert updated["session"]["audio"]["input"]["turn_detection"] == {
        "type": "semantic_vad",
        "eagerness": "auto",
        "create_response": True,
        "interrupt_response": True,
    }


def test_voice_is_fixed_once_audio_was_sent(session: Session) -> None:
    say(session, "hi")
    run(start(session))
    (error,) = send(
        session,
        {
            "type": Client.session_update,
            "session": {"type": "realtime", "audio": {"output": {"voice": "echo"}}},
        },
    )
    assert (
        error["error"]["message"]
        == "Cannot update a conversation's voice if assistant audio is present."
    )


@pytest.mark.parametrize(
    ("path", "known"),
    [
        ("/v1/realtime?model=m", True),
        ("/v1/realtime", True),
        ("/openai/v1/realtime?model=d", True),
        ("/openai/realtime?api-version=2025-04-01-preview&deployment=d", True),
        ("/openai/realtime?api-version=2025-04-01-preview&model=d", False),
        ("/v1/realtime/", False),
        ("/v1/chat", False),
    ],
)
def test_known_paths(path: str, known: bool) -> None:
    assert known_path(path) is known


def test_admission_takes_the_key_from_any_place_a_client_puts_it() -> None:
    key = "sk-local-1234567890"
    assert admit("/v1/realtime?model=m", {"authorization": f"Bearer {key}"}, [], key) == "m"
    assert admit("/openai/realtime?deployment=d", {"api-key": key}, [], key) == "d"
    assert admit(f"/openai/v1/realtime?model=d&api-key={key}", {}, [], key) == "d"
    protocols = ["realtime", f"openai-insecure-api-key.{key}"]
    assert admit("/v1/realtime?model=m", {}, protocols, key) == "m"
    assert admit("/v1/realtime?model=m", {}, [], None) == "m"


def test_admission_refusals_follow_the_live_close_codes() -> None:
    wrong = admit("/v1/realtime?model=m", {"authorization": "Bearer sk-wrong-key-abcd"}, [], "sk-x")
    assert isinstance(wrong, Refusal)
    assert (wrong.code, wrong.reason) == (3000, "invalid_request_error.invalid_api_key")
    assert "sk-wrong-key" not in wrong.event["error"]["message"]
    assert "sk-...abcd" in wrong.event["error"]["message"]
    missing = admit("/v1/realtime?model=m", {}, [], "sk-x")
    assert isinstance(missing, Refusal)
    assert (missing.code, missing.reason) == (3000, "invalid_request_error")
    assert missing.event["error"]["code"] is None
    beta = admit("/v1/realtime?model=m", {"openai-beta": "realtime=v1"}, [], None)
    assert isinstance(beta, Refusal) and beta.code == 4000
    assert admit("/v1/realtime", {}, [], None) == "gpt-realtime"  # the local server's default
    for refusal in (wrong, missing, beta):
        assert_conforms(refusal.event)


def test_short_keys_are_never_shown() -> None:
    assert mask_key("sk-abc") == "***"
    assert mask_key("sk-proj-0123456789abcd") == "sk-...abcd"


def test_out_of_band_responses_are_cancelled_only_by_their_id(session: Session) -> None:
    say(session, "a b c")
    oob = start(session, conversation="none", output_modalities=["text"])
    (error,) = send(session, {"type": Client.response_cancel})
    assert error["error"]["code"] == "response_cancel_not_active"
    in_conversation = start(session, output_modalities=["text"])
    assert session.active is in_conversation
    closing = send(session, {"type": Client.response_cancel, "response_id": oob.id})
    assert closing[-2]["response"]["id"] == oob.id
    assert oob.status == "cancelled" and not in_conversation.finished


def test_deleting_the_item_being_written_skips_its_conversation_done(session: Session) -> None:
    say(session, "a b c")
    response = start(session, output_modalities=["text"])
    opened = response.step()
    item_id = opened[0]["item"]["id"]
    assert types(send(session, {"type": Client.conversation_item_delete, "item_id": item_id})) == [
        Server.conversation_item_deleted
    ]
    rest = run(response)
    assert Server.conversation_item_done not in types(rest)
    assert rest[-2]["response"]["status"] == "completed"
