"""Older servers that still speak the beta protocol: their event names are tracked and shown like
their GA twins (protocol.md §3.12)."""

from __future__ import annotations

import base64
import io

from corpus import events

from realtime_cli.protocol.events import Server, ga_type
from realtime_cli.protocol.tracker import Tracker
from realtime_cli.render import EventRows, make_console, summary

# Every server event type of the beta protocol (protocol.md §8, "beta server events").
BETA_SERVER_TYPES = [
    "conversation.created",
    "conversation.item.created",
    "conversation.item.deleted",
    "conversation.item.input_audio_transcription.completed",
    "conversation.item.input_audio_transcription.delta",
    "conversation.item.input_audio_transcription.failed",
    "conversation.item.retrieved",
    "conversation.item.truncated",
    "error",
    "input_audio_buffer.cleared",
    "input_audio_buffer.committed",
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "output_audio_buffer.cleared",
    "output_audio_buffer.started",
    "output_audio_buffer.stopped",
    "rate_limits.updated",
    "response.audio.delta",
    "response.audio.done",
    "response.audio_transcript.delta",
    "response.audio_transcript.done",
    "response.content_part.added",
    "response.content_part.done",
    "response.created",
    "response.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.added",
    "response.output_item.done",
    "response.text.delta",
    "response.text.done",
    "session.created",
    "session.updated",
    "transcription_session.updated",
]


def test_every_beta_server_name_has_a_ga_twin() -> None:
    assert len(BETA_SERVER_TYPES) == 34
    assert [t for t in BETA_SERVER_TYPES if ga_type(t) not in set(Server)] == []


def rows_of(stream: list[dict[str, object]]) -> list[str]:
    buffer = io.StringIO()
    rows = EventRows(make_console(buffer, width=200, color_system=None))
    for t, event in enumerate(stream):
        rows.server(event, t / 100)
    rows.flush()
    return buffer.getvalue().splitlines()


def test_a_real_beta_text_response_renders_with_ga_names() -> None:
    lines = rows_of(events("beta_text_response_liusida.jsonl"))
    types = [line.split()[2] for line in lines]
    assert types == [
        "response.created",
        "response.output_item.added",
        "conversation.item.created",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.done",
    ]
    assert lines[4].startswith("   0.040 ← response.output_text.delta ×77 325 chars resp_C1PS")


def test_a_beta_audio_turn_is_tracked_and_folded_like_ga() -> None:
    audio = base64.b64encode(b"\0" * 4800).decode()
    ids = {"response_id": "resp_b", "item_id": "item_b", "output_index": 0, "content_index": 0}
    stream = [
        {"type": "session.created", "session": {"id": "sess_b", "model": "gpt-4o-realtime-preview",
                                                "modalities": ["audio", "text"], "voice": "alloy"}},
        {"type": "response.created", "response": {"id": "resp_b", "status": "in_progress",
                                                  "modalities": ["audio", "text"], "output": []}},
        {"type": "response.audio_transcript.delta", **ids, "delta": "Hello "},
        {"type": "response.audio.delta", **ids, "delta": audio},
        {"type": "response.audio_transcript.delta", **ids, "delta": "there"},
        {"type": "response.audio.delta", **ids, "delta": audio},
        {"type": "response.audio.done", **ids},
        {"type": "response.audio_transcript.done", **ids, "transcript": "Hello there"},
        {"type": "response.done", "response": {"id": "resp_b", "status": "completed", "output": []}},
        {"type": "transcription_session.updated", "session": {"id": "sess_t", "input_audio_format": "pcm16"}},
    ]  # fmt: skip
    tracker = Tracker()
    updates = [tracker.feed(event, float(t)) for t, event in enumerate(stream)]
    response = tracker.responses["resp_b"]
    assert response.transcript == "Hello there" and response.answer == "Hello there"
    assert response.audio_bytes == 9600 and response.output_modalities == ["audio", "text"]
    assert updates[2].delta == "Hello " and response.t_first_delta == 2.0
    assert updates[-1].type == "session.updated" and tracker.session == stream[-1]["session"]
    lines = rows_of(stream)
    assert lines == [
        "   0.000 ← session.created sess_b gpt-4o-realtime-preview modalities=audio,text",
        "   0.010 ← response.created resp_b in_progress",
        "   0.020 ← response.output_audio_transcript.delta ×2 11 chars resp_b item_b",
        "   0.030 ← response.output_audio.delta ×2 9600 B audio resp_b item_b",
        "   0.060 ← response.output_audio.done resp_b item_b",
        "   0.070 ← response.output_audio_transcript.done resp_b item_b 'Hello there'",
        "   0.080 ← response.done resp_b completed",
        "   0.090 ← session.updated sess_t modalities=",
    ]
    assert summary(stream[0]) == "sess_b gpt-4o-realtime-preview modalities=audio,text"
