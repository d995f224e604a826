"""Property-based tests (hypothesis): arbitrary JSON, dicts and strings at every reader of
untrusted input. Nothing but rtc's own one-line errors may come out, and the state stays
consistent (no response both active and done, usage totals never negative)."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_cli.console.parse import classify, parse_args
from realtime_cli.errors import RtcError, UsageError
from realtime_cli.protocol.events import FrameError, Server, parse_server_frame
from realtime_cli.protocol.json_reader import Bad, JsonStream, Value
from realtime_cli.protocol.tracker import Tracker
from realtime_cli.protocol.validate import validate
from realtime_cli.render import EventRows, make_console, response_panel

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
ids = st.sampled_from(["resp_1", "resp_2", "item_1", "event_1", ""]) | json_values
# Events shaped like the real ones (a known type, the fields that matter) with any values.
server_events = st.fixed_dictionaries(
    {"type": st.sampled_from([str(t) for t in Server]) | st.text(max_size=30)},
    optional={
        "response_id": ids,
        "item_id": ids,
        "delta": st.text(max_size=20) | json_values,
        "text": json_values,
        "transcript": json_values,
        "event_id": ids,
        "response": st.fixed_dictionaries(
            {"id": ids},
            optional={
                "status": st.sampled_from(["in_progress", "completed", "cancelled", "failed"])
                | json_values,
                "usage": json_values
                | st.dictionaries(
                    st.sampled_from(["total_tokens", "input_tokens", "output_tokens"]),
                    st.integers() | json_values,
                ),
                "status_details": json_values,
                "output": json_values,
                "metadata": json_values,
            },
        )
        | json_values,
        "item": json_values,
        "error": json_values,
        "session": json_values,
        "rate_limits": json_values,
    },
)


def _usage_counts(usage: Any) -> list[int]:
    found = []
    for value in (usage or {}).values():
        found += _usage_counts(value) if isinstance(value, dict) else [value]
    return found


@SETTINGS
@given(st.lists(server_events, max_size=25))
def test_tracker_and_renderer_take_any_events_and_stay_consistent(stream: list[Any]) -> None:
    tracker = Tracker()
    rows = EventRows(make_console(io.StringIO()))
    for t, event in enumerate(stream):
        update = tracker.feed(event, float(t))
        rows.server(event, float(t))
        if update.finished and update.response is not None:
            make_console(io.StringIO()).print(response_panel(update.response))
    rows.flush()
    for response in tracker.responses.values():
        assert response.active == (response.t_done is None)
        assert (response in tracker.active) == response.active
        assert all(isinstance(n, int) and n >= 0 for n in _usage_counts(response.usage))
        assert response.output_tokens >= 0 and response.audio_bytes >= 0
        assert isinstance(response.text, str) and isinstance(response.transcript, str)


@SETTINGS
@given(st.text(max_size=200) | st.binary(max_size=50) | json_values.map(str))
def test_the_frame_parser_raises_only_frame_errors(frame: str | bytes) -> None:
    try:
        event = parse_server_frame(frame)
    except FrameError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(event, dict) and isinstance(event["type"], str)


@SETTINGS
@given(
    json_values
    | st.dictionaries(
        st.sampled_from(["type", "event_id", "response", "item", "session"]), json_values
    )
)
def test_the_client_event_validator_answers_with_one_line(event: Any) -> None:
    problem = validate(event)
    assert problem is None or "\n" not in str(problem)


@SETTINGS
@given(st.text(max_size=200))
def test_the_console_line_parser_raises_only_usage_errors(line: str) -> None:
    try:
        classify(line)
    except UsageError as exc:
        assert exc.message and "\n" not in exc.message


@SETTINGS
@given(
    st.sampled_from(["events", "session", "cancel", "view", "delete"]),
    st.lists(st.text(max_size=15), max_size=5),
)
def test_command_arguments_raise_only_usage_errors(command: str, args: list[str]) -> None:
    try:
        parse_args(command, args)
    except RtcError as exc:
        assert isinstance(exc, UsageError) and "\n" not in exc.message


@SETTINGS
@given(st.lists(st.text(max_size=60), max_size=8))
def test_the_pipe_reader_takes_any_text_in_any_chunks(chunks: list[str]) -> None:
    stream = JsonStream()
    items = [item for chunk in chunks for item in stream.feed(chunk)] + stream.close()
    for item in items:
        assert isinstance(item, Value | Bad)
        if isinstance(item, Bad):
            assert item.reason and "\n" not in item.reason and item.line >= 1
