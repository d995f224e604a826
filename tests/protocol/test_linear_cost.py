"""Per-event cost stays O(1) however long a response or a backlog grows (issue #10).

Each test works at a size where the old quadratic code took minutes (string concatenation per
delta, a scan of every owed event per answer) and the linear code a fraction of a second.
"""

from __future__ import annotations

from realtime_cli.pipe.ledger import Ledger
from realtime_cli.protocol.text_parts import TextParts
from realtime_cli.protocol.tracker import Tracker
from tests.deadline import deadline

DELTAS = 100_000
PIECE = "x" * 99 + " "  # 100 deltas of 100 chars: 10 MB of text at the end


def test_a_long_answer_is_built_in_linear_time() -> None:
    tracker = Tracker()
    tracker.feed({"type": "response.created", "response": {"id": "r1"}}, 0.0)
    delta = {"type": "response.output_text.delta", "response_id": "r1", "delta": PIECE}
    with deadline(30, f"{DELTAS:,} text deltas"):
        for _ in range(DELTAS):
            tracker.feed(delta, 0.0)
            assert tracker.responses["r1"].answer_parts  # a live view reads it per event
    response = tracker.responses["r1"]
    assert len(response.answer_parts) == DELTAS * len(PIECE)
    assert response.answer_parts.tail(5) == "xxxx "
    assert response.text == PIECE * DELTAS and response.deltas == DELTAS


def test_the_end_of_a_long_text_is_read_without_joining_it() -> None:
    parts = TextParts()
    with deadline(30, "reading the tail per piece"):
        for _ in range(DELTAS):
            parts.append(PIECE)
            assert parts.tail(300).endswith(PIECE)  # the live region does this per redraw
    assert str(parts) == PIECE * DELTAS
    assert parts.tail(10**9) == str(parts)


def test_active_responses_are_not_found_by_scanning_every_response() -> None:
    tracker = Tracker()
    with deadline(30, "20,000 responses"):
        for n in range(20_000):
            tracker.feed({"type": "response.created", "response": {"id": f"r{n}"}}, 0.0)
            tracker.feed({"type": "response.done", "response": {"id": f"r{n}"}}, 0.0)
            assert tracker.active == [] and tracker.active_default() is None
    tracker.feed({"type": "response.created", "response": {"id": "last"}}, 0.0)
    assert [r.id for r in tracker.active] == ["last"]


OWED = 20_000


def test_the_ledger_settles_a_long_backlog_in_linear_time() -> None:
    ledger = Ledger()
    for n in range(OWED):
        item = {"type": "message", "role": "user", "content": []}
        ledger.sent({"type": "conversation.item.create", "item": item, "event_id": f"e{n}"})
        ledger.sent({"type": "conversation.item.retrieve", "item_id": f"i{n}", "event_id": f"r{n}"})
    with deadline(30, f"{OWED:,} answers to a backlog of {2 * OWED:,}"):
        for n in reversed(range(OWED)):  # keyed answers, newest first: the worst case for a scan
            ledger.received({"type": "conversation.item.retrieved", "item": {"id": f"i{n}"}})
        for n in range(OWED):
            ledger.received({"type": "conversation.item.done", "item": {"id": f"new{n}"}})
    assert ledger.settled


def test_errors_settle_a_long_backlog_by_event_id_in_linear_time() -> None:
    ledger = Ledger()
    for n in range(OWED):
        ledger.sent({"type": "input_audio_buffer.commit", "event_id": f"e{n}"})
    with deadline(30, f"{OWED:,} errors"):
        for n in reversed(range(OWED)):
            ledger.received({"type": "error", "error": {"event_id": f"e{n}"}})
    assert ledger.settled


def test_settled_events_do_not_pile_up_without_event_ids() -> None:
    ledger = Ledger()
    item = {"type": "message", "role": "user", "content": []}
    for n in range(OWED):  # --no-event-ids: answered by item.done, never by an error
        ledger.sent({"type": "conversation.item.create", "item": item})
        ledger.received({"type": "conversation.item.done", "item": {"id": f"i{n}"}})
    assert ledger.settled
    assert len(ledger._no_event_id) <= 64 + 1  # not one entry per event ever sent
