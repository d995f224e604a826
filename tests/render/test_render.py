"""What a person sees: event rows, folded deltas, response panels and error lines."""

from __future__ import annotations

import io

from corpus import events
from rich.console import Console

from realtime_cli.protocol.tracker import Tracker
from realtime_cli.render import EventRows, error_text, make_console, response_panel


def console(width: int = 100) -> tuple[io.StringIO, Console]:
    buffer = io.StringIO()
    return buffer, make_console(buffer, width=width, color_system=None)


def test_event_rows_fold_deltas_and_never_show_base64() -> None:
    buffer, out = console()
    rows = EventRows(out)
    base = {"response_id": "resp_1", "item_id": "item_1", "output_index": 0, "content_index": 0}
    rows.server(
        {
            "type": "response.created",
            "response": {"id": "resp_1", "status": "in_progress", "conversation_id": None},
        },
        0.1,
    )
    for word in ("Hello ", "there ", "friend"):
        rows.server({"type": "response.output_text.delta", **base, "delta": word}, 0.2)
    for _ in range(2):
        rows.server({"type": "response.output_audio.delta", **base, "delta": "AAAAAAAA"}, 0.3)
    rows.server({"type": "response.output_text.done", **base, "text": "Hello there friend"}, 0.4)
    rows.client({"type": "response.cancel", "event_id": "rtc_2", "response_id": "resp_1"}, 0.5)
    assert buffer.getvalue().splitlines() == [
        "   0.100 ← response.created resp_1 in_progress out-of-band",
        "   0.200 ← response.output_text.delta ×3 18 chars resp_1 item_1",
        "   0.300 ← response.output_audio.delta ×2 12 B audio resp_1 item_1",
        "   0.400 ← response.output_text.done resp_1 item_1 'Hello there friend'",
        "   0.500 → response.cancel rtc_2 resp_1",
    ]
    assert "AAAA" not in buffer.getvalue()


def test_panel_of_a_real_beta_response() -> None:
    tracker = Tracker()
    for t, event in enumerate(events("beta_text_response_liusida.jsonl")):
        tracker.feed(event, t / 100)
    [response] = tracker.responses.values()
    buffer, out = console(80)
    out.print(response_panel(response))
    assert buffer.getvalue() == (
        "╭─ resp_C1PSbsyhar4EpjNZg9fkB · completed ─────────────────────────────────────╮\n"
        "│ {                                                                            │\n"
        '│   "word": "pending",                                                         │\n'
        '│   "region": "--",                                                            │\n'
        '│   "explanation": "The word \'pending\' refers to something that is awaiting a  │\n'
        "│ decision, settlement, or completion. It means that the matter is not yet     │\n"
        '│ resolved or finalized.",                                                     │\n'
        '│   "sentence": "The approval for the new project is still pending, so we      │\n'
        "│ can't start working on it just yet.\"                                         │\n"
        "│ }                                                                            │\n"
        "│                                                                              │\n"
        "│ status        completed                                                      │\n"
        "│ usage         151 total · 72 in · 79 out                                     │\n"
        "│ timing        first delta 40 ms · total 840 ms                               │\n"
        "│ metadata      request_id=a68f767f-0d18-4494-9012-f113cf16d43a                │\n"
        "│ conversation  conv_C1PSNA8UPPAtBRO0xzWHR                                     │\n"
        "╰──────────────────────────────────────────────────────────────────────────────╯\n"
    )


def test_cancelled_panel_says_why_and_counts_audio() -> None:
    tracker = Tracker()
    tracker.sent({"type": "response.create", "event_id": "rtc_1"}, 0.0)
    tracker.feed(
        {"type": "response.created", "response": {"id": "resp_9", "conversation_id": "conv_1"}},
        0.25,
    )
    base = {"response_id": "resp_9", "item_id": "i", "output_index": 0, "content_index": 0}
    tracker.feed({"type": "response.output_audio.delta", **base, "delta": "A" * 64000}, 0.5)
    tracker.feed({"type": "response.done", "response": {
        "id": "resp_9", "status": "cancelled", "conversation_id": "conv_1",
        "status_details": {"type": "cancelled", "reason": "client_cancelled"},
        "metadata": {"run": "7"},
        "usage": {"total_tokens": 30, "input_tokens": 10, "output_tokens": 20,
                  "output_token_details": {"text_tokens": 5, "audio_tokens": 15}},
    }}, 1.5)  # fmt: skip
    buffer, out = console(72)
    out.print(response_panel(tracker.responses["resp_9"]))
    assert buffer.getvalue() == (
        "╭─ resp_9 · cancelled ─────────────────────────────────────────────────╮\n"
        "│ [audio 48,000 bytes, 1.00 s]                                         │\n"
        "│                                                                      │\n"
        "│ status        cancelled (client_cancelled)                           │\n"
        "│ usage         30 total · 10 in · 20 out (out 5 text/15 audio)        │\n"
        "│ timing        created 250 ms · first delta 500 ms · total 1.50 s     │\n"
        "│ metadata      run=7                                                  │\n"
        "│ conversation  conv_1                                                 │\n"
        "╰──────────────────────────────────────────────────────────────────────╯\n"
    )


def test_error_lines_name_the_event_they_answer() -> None:
    tracker = Tracker()
    tracker.sent({"type": "response.create", "event_id": "rtc_3"}, 0.0)
    error = tracker.feed({"type": "error", "error": {
        "type": "invalid_request_error", "code": "conversation_already_has_active_response",
        "message": "Conversation already has an active response in progress: resp_1.",
        "param": None, "event_id": "rtc_3"}}, 0.1).error  # fmt: skip
    notice = tracker.feed({"type": "error", "error": {
        "type": "invalid_request_error", "code": "response_cancel_not_active",
        "message": "Cancellation failed: no active response found.", "event_id": None}}, 0.2).error  # fmt: skip
    assert error is not None and notice is not None
    assert error_text(error).plain == (
        "error: conversation_already_has_active_response: Conversation already has an active "
        "response in progress: resp_1.  ← answers rtc_3 (response.create)"
    )
    assert error_text(notice).plain == (
        "notice: response_cancel_not_active: Cancellation failed: no active response found."
    )
    assert error_text(error).spans[0].style == "bold red"
