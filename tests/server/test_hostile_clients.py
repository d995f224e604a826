"""The local server under hostile client frames: every one gets the live service's ``error``
event (never a crash, never a close), and the session stays usable."""

from __future__ import annotations

import json
from typing import Any

from conformance import TEXT_ONLY, connect, deltas, reply, say
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_cli.protocol.events import Client, Server
from realtime_cli.server.protocol import Session

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
client_events = st.fixed_dictionaries(
    {"type": st.sampled_from([str(t) for t in Client]) | st.text(max_size=20)},
    optional={
        "event_id": json_values,
        "response": json_values,
        "item": json_values,
        "session": json_values,
        "response_id": json_values,
        "item_id": json_values,
        "audio": json_values,
        "previous_item_id": json_values,
    },
)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(client_events | json_values | st.binary(max_size=20), max_size=12))
def test_any_frames_get_events_and_the_session_stays_usable(frames: list[Any]) -> None:
    session = Session("gpt-realtime", clock=lambda: 0.0)
    session.open()
    for frame in frames:
        data = frame if isinstance(frame, bytes) else json.dumps(frame)
        for answer in session.handle(data):
            assert isinstance(answer, dict) and isinstance(answer.get("type"), str)
            if answer["type"] == Server.error:
                error = answer["error"]
                assert error["type"] == "invalid_request_error" and error["message"]
        for response in session.take_started():
            response.cancel()  # whatever started ends; the next frame sees a free session
    created = session.handle(json.dumps({"type": "response.create", "event_id": "ok"}))
    assert created and created[0]["type"] == Server.response_created


def test_huge_deep_and_mistyped_frames_over_the_wire(server_url: str) -> None:
    with connect(server_url) as c:
        c.expect(Server.session_created)
        c.send_raw("[" * 100_000)  # deeply nested
        deep = c.error()
        c.send_raw(json.dumps({"type": "response.create", "response": "x" * 5_000_000}))
        huge = c.error()
        c.send({"type": "conversation.item.create", "item": 7, "event_id": "e1"})
        mistyped = c.error()
        c.send({"type": 7, "event_id": "e2"})
        type_not_string = c.error()
        say(c, "still here")
        assert "".join(deltas(reply(c, **TEXT_ONLY))) == "still here"
    assert deep["code"] == "invalid_json" and deep["event_id"] is None
    assert huge["type"] == "invalid_request_error" and huge["param"] == "response"
    assert (mistyped["type"], mistyped["event_id"]) == ("invalid_request_error", "e1")
    assert (type_not_string["type"], type_not_string["event_id"]) == ("invalid_request_error", "e2")
