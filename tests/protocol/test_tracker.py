"""The sans-I/O tracker, fed with real recorded frames and hand-made sequences."""

from __future__ import annotations

from typing import Any

from corpus import events, rows

from realtime_cli.protocol.tracker import Tracker


def feed_all(tracker: Tracker, stream: list[dict[str, Any]]) -> None:
    for t, event in enumerate(stream):
        tracker.feed(event, float(t))


def test_beta_text_response_is_tracked_like_ga() -> None:
    stream = events("beta_text_response_liusida.jsonl")
    tracker = Tracker()
    feed_all(tracker, stream)
    [response] = tracker.responses.values()
    deltas = "".join(e["delta"] for e in stream if e["type"] == "response.text.delta")
    assert response.id == "resp_C1PSbsyhar4EpjNZg9fkB"
    assert response.status == "completed"
    assert response.text == deltas and len(deltas) > 100
    assert response.deltas == 77
    assert response.metadata == {"request_id": "a68f767f-0d18-4494-9012-f113cf16d43a"}
    assert response.output_tokens == 79  # from usage once done
    assert not response.active
    assert tracker.active == []


def test_real_ga_audio_turn_in_order() -> None:
    block = [r["event"] for r in rows("sip_gateway_ga_frames.jsonl") if r.get("in_ordered_block")]
    tracker = Tracker()
    feed_all(tracker, block)
    assert tracker.session is None  # the ordered block starts at speech_started
    [response] = tracker.responses.values()
    assert response.active  # the block ends mid-response (the source truncated it)
    transcript = "".join(
        e["delta"] for e in block if e["type"] == "response.output_audio_transcript.delta"
    )
    assert response.transcript == transcript and transcript
    assert response.answer == transcript
    assert tracker.active_default() is response
    user_items = [i for i in tracker.items.values() if i.get("role") == "user"]
    assert len(user_items) == 1


def test_every_ga_frame_of_the_corpus_is_tracked() -> None:
    sip, examples = Tracker(), Tracker()
    feed_all(sip, events("sip_gateway_ga_frames.jsonl"))
    feed_all(examples, events("openapi_examples.jsonl"))
    assert (sip.server_events, examples.server_events) == (27, 116)
    summary = [(r.id, r.status, len(r.answer)) for r in sip.responses.values()]
    assert summary == [
        ("resp_CsZyL5IuqSgPEut0cI82K", "completed", 117),
        ("resp_Ct1OZ5ukpGEZNeUWx1iOH", "in_progress", 4),
        ("resp_Ct1OkhbgNQBuFX2HeE0P9", "in_progress", 3),
    ]
    assert sip.responses["resp_CsZyL5IuqSgPEut0cI82K"].usage["total_tokens"] == 320  # type: ignore[index]
    assert sip.session is not None and sip.session["id"] == "sess_Ct1OVZ9vNW62W3cUpSCqj"
    assert (len(sip.items), len(sip.errors), len(sip.rate_limits)) == (3, 0, 1)
    done = {r.id: (r.status, len(r.answer)) for r in examples.responses.values() if not r.active}
    assert done == {"resp_001": ("completed", 33), "resp_CCXHw0UJld10EzIUXQCNh": ("completed", 67)}
    assert [e.code for e in examples.errors] == ["invalid_event", "invalid_event"]
    assert examples.session is not None and examples.session["id"] == "sess_123"
    assert len(examples.items) == 4


def test_response_created_is_matched_to_its_request_in_order() -> None:
    tracker = Tracker()
    tracker.sent({"type": "response.create", "event_id": "a"}, 1.0)
    tracker.sent(
        {"type": "response.create", "event_id": "b", "response": {"conversation": "none"}}, 1.5
    )
    tracker.feed(
        {"type": "response.created", "response": {"id": "r1", "conversation_id": "c"}}, 2.0
    )
    tracker.feed(
        {"type": "response.created", "response": {"id": "r2", "conversation_id": None}}, 2.5
    )
    r1, r2 = tracker.responses["r1"], tracker.responses["r2"]
    assert (r1.request_event_id, r1.t_request) == ("a", 1.0)
    assert (r2.request_event_id, r2.t_request) == ("b", 1.5)
    assert r2.out_of_band and not r1.out_of_band
    assert tracker.active_default() is r1
    assert tracker.response_for_request("b") is r2


def test_rejected_create_does_not_steal_the_next_response() -> None:
    tracker = Tracker()
    tracker.sent({"type": "response.create", "event_id": "a"}, 1.0)
    tracker.sent({"type": "response.create", "event_id": "b"}, 1.1)
    update = tracker.feed(
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "code": "conversation_already_has_active_response",
                "message": "Conversation already has an active response in progress: r1.",
                "param": None,
                "event_id": "b",
            },
        },
        1.2,
    )
    assert update.error is not None
    assert update.error.cause == {"type": "response.create", "event_id": "b"}
    assert not update.error.is_notice
    tracker.feed({"type": "response.created", "response": {"id": "r1"}}, 1.3)
    assert tracker.responses["r1"].request_event_id == "a"
    assert tracker.error_for("b") is update.error


def test_cancel_not_active_is_a_notice_and_unknown_events_are_kept() -> None:
    tracker = Tracker()
    update = tracker.feed(
        {"type": "error", "error": {"code": "response_cancel_not_active", "message": "x"}}, 0.0
    )
    assert update.error is not None and update.error.is_notice
    assert update.error.cause is None
    new = tracker.feed({"type": "response.brand_new_thing", "response_id": "zz"}, 0.1)
    assert new.type == "response.brand_new_thing" and new.response is None


def test_audio_bytes_and_timings() -> None:
    tracker = Tracker()
    tracker.sent({"type": "response.create", "event_id": "a"}, 0.0)
    tracker.feed({"type": "response.created", "response": {"id": "r", "conversation_id": "c"}}, 0.2)
    base = {"response_id": "r", "item_id": "i", "output_index": 0, "content_index": 0}
    tracker.feed({"type": "response.output_audio.delta", **base, "delta": "AAAA"}, 0.3)  # 3 bytes
    tracker.feed({"type": "response.output_audio.delta", **base, "delta": "AAA="}, 0.4)  # 2 bytes
    tracker.feed({"type": "response.output_audio_transcript.delta", **base, "delta": "hi "}, 0.5)
    tracker.feed(
        {
            "type": "response.done",
            "response": {
                "id": "r",
                "status": "cancelled",
                "conversation_id": "c",
                "status_details": {"type": "cancelled", "reason": "client_cancelled"},
            },
        },
        0.6,
    )
    response = tracker.responses["r"]
    assert response.audio_bytes == 5
    assert response.t_first_delta == 0.3
    assert response.reason == "client_cancelled"
    assert response.transcript == "hi "
    assert (response.t_request, response.t_created, response.t_done) == (0.0, 0.2, 0.6)


def test_deltas_after_response_done_do_not_change_the_finished_text() -> None:
    tracker = Tracker()
    created = {"type": "response.created", "response": {"id": "r1", "status": "in_progress"}}
    delta = {"type": "response.output_text.delta", "response_id": "r1", "delta": "Hi"}
    done = {"type": "response.done", "response": {"id": "r1", "status": "completed"}}
    tracker.feed(created, 0.0)
    assert tracker.feed(delta, 1.0).delta == "Hi"
    tracker.feed(done, 2.0)
    late = tracker.feed(delta, 3.0)
    assert late.delta == "" and late.response is None
    assert tracker.responses["r1"].text == "Hi"
    assert tracker.responses["r1"].deltas == 1
