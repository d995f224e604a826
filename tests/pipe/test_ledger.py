"""Pipe mode's sans-I/O core: the incremental reader, directives, and the end-of-work rule."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from realtime_cli.pipe.ledger import Ledger, Sleep, Wait, parse_directive, substitute
from realtime_cli.protocol.events import JSON
from realtime_cli.protocol.json_reader import Bad, Item, JsonStream, Value

# -- the incremental reader ----------------------------------------------------------------------


def read(*chunks: str) -> list[Item]:
    stream = JsonStream()
    items: list[Item] = []
    for chunk in chunks:
        items += stream.feed(chunk)
    return items + stream.close()


def one_char_at_a_time(text: str) -> list[Item]:
    return read(*text)


def test_json_lines_with_positions_and_blank_lines() -> None:
    text = '{"a": 1}\n\n  {"b": 2}\n'
    assert read(text) == [Value({"a": 1}, 1, 1), Value({"b": 2}, 3, 3)]


def test_pretty_and_concatenated_objects() -> None:
    text = '{\n  "a": [1,\n 2]\n}{"b": 2} {"c": 3}\n'
    assert read(text) == [Value({"a": [1, 2]}, 1, 1), Value({"b": 2}, 4, 2), Value({"c": 3}, 4, 11)]


def test_array_elements_come_out_one_by_one_with_their_own_positions() -> None:
    text = '[\n  {"a": 1},\n  {"b": 2}\n]\n[]\n{"c": 3}'
    assert read(text) == [Value({"a": 1}, 2, 3), Value({"b": 2}, 3, 3), Value({"c": 3}, 6, 1)]


def test_an_element_is_out_before_the_array_closes() -> None:
    stream = JsonStream()
    assert stream.feed('[{"a": 1},') == [Value({"a": 1}, 1, 2)]
    assert stream.feed(' {"b": 2}]') == [Value({"b": 2}, 1, 12)]


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "x\\u00e9y", "n": 12.5e3}\n{"b": true}\n',
        '[{"a": 1}, {"b": [1, {"c": "}]"}]}]\n{"d": null}',
        '{"a":\n1}\nnot json\n{"b": 2}\n{"c": 3',
    ],
)
def test_any_chunking_gives_the_same_items(text: str) -> None:
    assert one_char_at_a_time(text) == read(text)
    middle = len(text) // 2
    assert read(text[:middle], text[middle:]) == read(text)


def test_a_number_split_across_chunks_is_not_cut() -> None:
    assert read("12", "34 ") == [Value(1234, 1, 1)]


def test_garbage_line_is_reported_and_the_next_line_is_read() -> None:
    assert read('{"a": 1}\nhello world\n{"b": 2}\n') == [
        Value({"a": 1}, 1, 1),
        Bad(2, 1, "not JSON: expecting value"),
        Value({"b": 2}, 3, 1),
    ]


def test_missing_closing_brace_loses_only_its_own_line() -> None:
    assert read('{"a": 1\n{"b": 2}\n') == [
        Bad(2, 1, "not JSON: expecting ',' delimiter (in the value from line 1, column 1)"),
        Value({"b": 2}, 2, 1),
    ]


def test_error_inside_a_pretty_object_resyncs_at_the_next_value() -> None:
    text = '{\n  "a": 1\n  "b": 2\n}\n{"c": 3}\n'
    assert read(text) == [
        Bad(3, 3, "not JSON: expecting ',' delimiter (in the value from line 1, column 1)"),
        Value({"c": 3}, 5, 1),
    ]


def test_raw_line_break_in_a_string() -> None:
    [bad, good] = read('{"a": "x\ny"}\n{"b": 1}\n')
    assert isinstance(bad, Bad) and (bad.line, bad.column) == (1, 9)
    assert "raw line break" in bad.reason
    assert good == Value({"b": 1}, 3, 1)


def test_error_inside_an_array_keeps_the_following_elements() -> None:
    text = '[\n  {"a": oops},\n  {"b": 2},\n  {"c": 3}\n]\n{"d": 4}\n'
    assert read(text) == [
        Bad(2, 9, "not JSON: expecting value"),
        Value({"b": 2}, 3, 3),
        Value({"c": 3}, 4, 3),
        Value({"d": 4}, 6, 1),
    ]


def test_truncated_input_and_unclosed_array() -> None:
    assert read('{"a": 1}\n{"b": ') == [
        Value({"a": 1}, 1, 1),
        Bad(2, 7, "not JSON: unexpected end of input"),
    ]
    assert read('[{"a": 1}') == [
        Value({"a": 1}, 1, 2),
        Bad(1, 1, "not JSON: array not closed (no ']' before the end)"),
    ]


def test_scalars_are_values_and_a_bom_is_skipped() -> None:
    assert read('\ufeff"hi" 3 {"a": 1}') == [
        Value("hi", 1, 1),
        Value(3, 1, 6),
        Value({"a": 1}, 1, 8),
    ]


def test_a_long_line_is_buffered_not_reparsed_per_chunk() -> None:
    audio = "A" * 200_000
    chunks = ['{"type": "input_audio_buffer.append", "audio": "']
    chunks += [audio[i : i + 4096] for i in range(0, len(audio), 4096)] + ['"}\n']
    [item] = read(*chunks)
    assert isinstance(item, Value) and item.value["audio"] == audio


# -- directives ---------------------------------------------------------------------------------


def test_wait_matches_type_and_fields_of_the_event_response_or_item() -> None:
    wait = parse_directive({"rtc": "wait", "for": "response.done", "status": "cancelled"})
    assert isinstance(wait, Wait)
    done = {"type": "response.done", "response": {"id": "resp_1", "status": "cancelled"}}
    assert wait.matches(done)
    assert not wait.matches({**done, "response": {"id": "resp_1", "status": "completed"}})
    assert not wait.matches({"type": "response.created", "response": done["response"]})
    by_id = parse_directive({"rtc": "wait", "for": "response.done", "response_id": "resp_1"})
    assert isinstance(by_id, Wait) and by_id.matches(done)
    item = parse_directive({"rtc": "wait", "for": ["conversation.item.done"], "role": "user"})
    assert isinstance(item, Wait)
    assert item.matches({"type": "conversation.item.done", "item": {"role": "user"}})


def test_wait_for_a_beta_name_matches_the_ga_event() -> None:
    wait = parse_directive({"rtc": "wait", "for": "response.text.delta"})
    assert isinstance(wait, Wait) and wait.matches({"type": "response.output_text.delta"})


def test_sleep_and_timeouts() -> None:
    assert parse_directive({"rtc": "sleep", "seconds": 0.5}) == Sleep(0.5)
    wait = parse_directive({"rtc": "wait", "for": "error", "timeout": 2})
    assert isinstance(wait, Wait) and wait.timeout == 2.0 and wait.fields == {}


@pytest.mark.parametrize(
    ("directive", "reason"),
    [
        ({"rtc": "nap"}, 'unknown directive "nap" (use "wait" or "sleep")'),
        ({"rtc": "wait"}, "wait: 'for' must be a server event type or a list of them"),
        ({"rtc": "wait", "for": "response.finished"}, "unknown server event type"),
        ({"rtc": "wait", "for": "error", "timeout": -1}, "'timeout' must be a number"),
        ({"rtc": "sleep", "seconds": "1"}, "'seconds' must be a number of seconds >= 0"),
        ({"rtc": "sleep", "seconds": 1, "for": "x"}, "sleep takes only 'seconds'"),
    ],
)
def test_bad_directives_say_why(directive: JSON, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_directive(directive)


def test_last_response_is_substituted_anywhere() -> None:
    event = {"type": "response.cancel", "response_id": "$last_response", "x": ["$last_response"]}
    assert substitute(event, "resp_9") == {
        "type": "response.cancel",
        "response_id": "resp_9",
        "x": ["resp_9"],
    }
    assert substitute({"a": "$last_responses"}, None) == {"a": "$last_responses"}
    with pytest.raises(LookupError, match=r"no response\.created"):
        substitute(event, None)


# -- the end-of-work rule ------------------------------------------------------------------------


def ev(type_: str, **fields: Any) -> JSON:
    return {"type": type_, **fields}


def item(id_: str, role: str = "user") -> JSON:
    return {"id": id_, "type": "message", "role": role}


def response(id_: str, status: str = "in_progress", reason: str | None = None) -> JSON:
    details = {"type": status, "reason": reason} if reason else None
    return {"id": id_, "status": status, "status_details": details}


def test_append_owes_nothing_and_a_fresh_ledger_is_settled() -> None:
    ledger = Ledger()
    ledger.sent(ev("input_audio_buffer.append", audio="AAAA", event_id="rtc_1"))
    assert ledger.settled and ledger.describe() == []


def test_response_create_is_owed_created_then_done() -> None:
    ledger = Ledger()
    ledger.sent(ev("response.create", event_id="rtc_1"), line=3)
    assert ledger.describe() == ["response.create rtc_1 (line 3) → response.created"]
    assert not ledger.received(ev("response.created", response=response("resp_1")))
    assert ledger.describe() == ["resp_1 (line 3) → response.done"]
    assert not ledger.received(ev("response.done", response=response("resp_1", "completed")))
    assert ledger.settled and ledger.lines == {"resp_1": 3}


def test_item_create_is_answered_by_its_own_item_done_not_the_models() -> None:
    ledger = Ledger()
    ledger.sent(ev("response.create", event_id="rtc_1"))
    ledger.sent(ev("conversation.item.create", item={"type": "message"}, event_id="rtc_2"))
    ledger.received(ev("response.created", response=response("resp_1")))
    ledger.received(ev("response.output_item.added", response_id="resp_1", item=item("a", "x")))
    ledger.received(ev("conversation.item.done", item=item("a", "assistant")))
    assert [o.event["event_id"] for o in ledger.owed] == ["rtc_2"]
    ledger.received(ev("conversation.item.added", item=item("u1")))
    assert [o.event["event_id"] for o in ledger.owed] == ["rtc_2"]  # added is not the end
    ledger.received(ev("conversation.item.done", item=item("u1")))
    assert ledger.owed == [] and not ledger.settled  # resp_1 still runs


def test_keyed_answers_match_their_request() -> None:
    ledger = Ledger()
    ledger.sent(ev("conversation.item.retrieve", item_id="a", event_id="rtc_1"))
    ledger.sent(ev("conversation.item.delete", item_id="b", event_id="rtc_2"))
    ledger.sent(ev("conversation.item.retrieve", item_id="b", event_id="rtc_3"))
    ledger.received(ev("conversation.item.retrieved", item=item("b")))
    assert [o.event["event_id"] for o in ledger.owed] == ["rtc_1", "rtc_2"]
    ledger.received(ev("conversation.item.deleted", item_id="b"))
    ledger.received(ev("conversation.item.retrieved", item=item("a")))
    assert ledger.settled


def test_errors_answer_by_event_id_or_in_order_without_ids() -> None:
    ledger = Ledger()
    ledger.sent(ev("session.update", session={}, event_id="rtc_1"))
    ledger.sent(ev("input_audio_buffer.commit", event_id="rtc_2"))
    ledger.received(
        ev("error", error={"code": "input_audio_buffer_commit_empty", "event_id": "rtc_2"})
    )
    assert [o.event["event_id"] for o in ledger.owed] == ["rtc_1"]
    ledger.received(ev("session.updated", session={}))
    assert ledger.settled
    ledger.sent(ev("input_audio_buffer.clear"))
    ledger.sent(ev("response.create"))
    ledger.received(ev("error", error={"code": "x", "event_id": None}))
    assert [o.event["type"] for o in ledger.owed] == ["response.create"]


def test_cancel_is_answered_by_the_done_of_its_response_or_an_error() -> None:
    ledger = Ledger()
    ledger.sent(ev("response.create", event_id="rtc_1"))
    ledger.received(ev("response.created", response=response("resp_1")))
    ledger.sent(ev("response.cancel", response_id="resp_other", event_id="rtc_2"))
    ledger.sent(ev("response.cancel", event_id="rtc_3"))
    cancelled = response("resp_1", "cancelled", "client_cancelled")
    assert not ledger.received(ev("response.done", response=cancelled))  # asked for: fine
    assert [o.event["event_id"] for o in ledger.owed] == ["rtc_2"]
    ledger.received(ev("error", error={"code": "response_cancel_not_active", "event_id": "rtc_2"}))
    assert ledger.settled


@pytest.mark.parametrize(
    ("status", "reason", "cancel_sent", "unexpected"),
    [
        ("completed", None, False, False),
        ("incomplete", "max_output_tokens", False, True),
        ("failed", None, False, True),
        ("cancelled", "client_cancelled", False, True),
        ("cancelled", "client_cancelled", True, False),
        ("cancelled", "turn_detected", True, True),
    ],
)
def test_which_response_endings_count_as_failures(
    status: str, reason: str | None, cancel_sent: bool, unexpected: bool
) -> None:
    ledger = Ledger()
    ledger.sent(ev("response.create", event_id="rtc_1"))
    ledger.received(ev("response.created", response=response("resp_1")))
    if cancel_sent:
        ledger.sent(ev("response.cancel", event_id="rtc_2"))
    done = ev("response.done", response=response("resp_1", status, reason))
    assert ledger.received(done) is unexpected


def test_responses_the_server_starts_itself_are_waited_for() -> None:
    ledger = Ledger()
    ledger.sent(ev("input_audio_buffer.commit", event_id="rtc_1"))
    ledger.received(ev("input_audio_buffer.committed", item_id="u1"))
    ledger.received(ev("conversation.item.done", item=item("u1")))  # the commit's item
    ledger.received(ev("response.created", response=response("resp_vad")))
    assert ledger.describe() == ["resp_vad → response.done"]


def test_recorded_turn_settles_exactly_at_response_done() -> None:
    """The §4.1 text turn: owed work ends with response.done, not before."""
    ledger = Ledger()
    ledger.sent(ev("conversation.item.create", item={"type": "message"}, event_id="rtc_1"))
    ledger.sent(ev("response.create", event_id="rtc_2"))
    turn = [
        ev("conversation.item.added", item=item("u")),
        ev("conversation.item.done", item=item("u")),
        ev("response.created", response=response("r")),
        ev("response.output_item.added", response_id="r", item=item("a", "assistant")),
        ev("conversation.item.added", item=item("a", "assistant")),
        ev("response.output_text.delta", response_id="r", delta="hi"),
        ev("conversation.item.done", item=item("a", "assistant")),
        ev("response.output_item.done", response_id="r", item=item("a", "assistant")),
    ]
    for event in turn:
        ledger.received(json.loads(json.dumps(event)))
        assert not ledger.settled
    ledger.received(ev("response.done", response=response("r", "completed")))
    assert ledger.settled
