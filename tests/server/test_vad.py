"""The local server hears: server VAD in audio time, automatic turns and responses, barge-in,
the idle timeout and input transcription; every event checked strictly (conformance.py)."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conformance import RealtimeClient, connect, types
from sounds import silence, speak, speech_bounds, tone

from realtime_cli.audio import codecs
from realtime_cli.audio.files import read_clip
from realtime_cli.protocol.events import Server
from realtime_cli.server.vad import EnergyVad, Turn, VadSettings

JSON = dict[str, Any]


def vad(**config: Any) -> JSON:
    return {"type": "server_vad", **config}


def setup(c: RealtimeClient, turn_detection: JSON | None, **audio_in: Any) -> None:
    c.expect(Server.session_created)
    session = {
        "type": "realtime",
        "audio": {"input": {"turn_detection": turn_detection, **audio_in}},
    }
    c.send({"type": "session.update", "session": session})
    c.expect(Server.session_updated)


def append(c: RealtimeClient, data: bytes, chunk: int = 4800) -> None:
    for i in range(0, len(data), chunk):
        c.send(
            {
                "type": "input_audio_buffer.append",
                "audio": base64.b64encode(data[i : i + chunk]).decode(),
            }
        )


@pytest.mark.parametrize("rate", [24_000, 8_000])
def test_detector_finds_a_tone_in_audio_time_whatever_the_chunks(rate: int) -> None:
    audio = silence(500, rate) + tone(440, 1000, rate) + silence(600, rate)
    settings = VadSettings.of(vad(prefix_padding_ms=300, silence_duration_ms=200))
    whole = EnergyVad(settings, rate).feed(audio)
    detector = EnergyVad(settings, rate)
    pieces: list[Turn] = []
    rng = random.Random(7)
    i = 0
    while i < len(audio):
        step = rng.randrange(2, 9000, 2)
        pieces += detector.feed(audio[i : i + step])
        i += step
    assert whole == pieces
    (started, stopped) = whole
    assert started.kind == "started" and started.ms == pytest.approx(200, abs=20)
    assert stopped.kind == "stopped" and stopped.ms == pytest.approx(1700, abs=20)


def test_threshold_decides_what_is_speech() -> None:
    quiet = tone(440, 600, amplitude=0.003) + silence(400)  # about -53 dBFS
    assert EnergyVad(VadSettings.of(vad(threshold=0.5)), 24_000).feed(quiet) == []
    heard = EnergyVad(VadSettings.of(vad(threshold=0.2)), 24_000).feed(quiet)
    assert [t.kind for t in heard] == ["started", "stopped"]


def test_speech_is_found_at_its_offsets_and_answered(tmp_path: Path, server_url: str) -> None:
    clip = read_clip(speak(tmp_path / "s.wav", "Hello there, this is a test of the voice path."))
    pcm = clip.encoded(codecs.PCM)
    lead = silence(700)
    audio = lead + pcm + silence(900)
    start, end = speech_bounds(pcm, codecs.PCM_RATE)
    transcription = {"model": "gpt-4o-mini-transcribe"}
    with connect(server_url) as c:
        setup(c, vad(prefix_padding_ms=0, silence_duration_ms=500), transcription=transcription)
        append(c, audio)
        events = c.until(Server.response_done)
        c.send({"type": "conversation.item.retrieve", "item_id": events[0]["item_id"]})
        stored = c.until(Server.conversation_item_retrieved)[-1]["item"]
    kinds = types(events)
    assert kinds[:7] == [
        Server.input_audio_buffer_speech_started,
        Server.input_audio_buffer_speech_stopped,
        Server.input_audio_buffer_committed,
        Server.conversation_item_added,
        Server.conversation_item_done,
        Server.input_transcription_delta,
        Server.input_transcription_completed,
    ]
    assert kinds[7] == Server.response_created
    started, stopped, committed = events[:3]
    assert started["audio_start_ms"] == pytest.approx(700 + start, abs=100)
    assert stopped["audio_end_ms"] == pytest.approx(700 + end + 500, abs=100)
    assert started["item_id"] == stopped["item_id"] == committed["item_id"]
    heard_s = (stopped["audio_end_ms"] - started["audio_start_ms"]) / 1000
    transcript = events[6]["transcript"]
    assert transcript == f"{heard_s:.1f} seconds of speech"
    assert stored["content"][0]["transcript"] == transcript
    # The reply repeats the transcript and speaks the user's own audio back, sample for sample.
    said = "".join(
        e["delta"] for e in events if e["type"] == Server.response_output_audio_transcript_delta
    )
    assert said == transcript
    spoken = b"".join(
        base64.b64decode(e["delta"])
        for e in events
        if e["type"] == Server.response_output_audio_delta
    )
    assert spoken == base64.b64decode(stored["content"][0]["audio"])
    assert len(spoken) == (stopped["audio_end_ms"] - started["audio_start_ms"]) * 48


def test_speech_during_a_response_cancels_it_with_turn_detected(
    local_server: Callable[..., str],
) -> None:
    url = local_server(token_delay_ms=20)
    with connect(url) as c:
        setup(c, vad(silence_duration_ms=300))
        c.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": " ".join(["word"] * 200)}],
                },
            }
        )
        c.until(Server.conversation_item_done)
        c.send({"type": "response.create"})
        c.until(Server.response_output_audio_delta)
        append(c, tone(440, 400) + silence(500))
        events = c.until(Server.response_done)
        rest = c.until(Server.response_created)
    assert Server.input_audio_buffer_speech_started in types(events)
    done = events[-1]["response"]
    assert done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    assert Server.input_audio_buffer_committed in types(rest)  # the new turn is answered


def test_no_automatic_response_when_create_response_is_false(server_url: str) -> None:
    with connect(server_url) as c:
        setup(c, vad(create_response=False, silence_duration_ms=200))
        append(c, tone(440, 300) + silence(400))
        events = c.until(Server.conversation_item_done)
        assert c.quiet(0.3)
    assert types(events)[:3] == [
        Server.input_audio_buffer_speech_started,
        Server.input_audio_buffer_speech_stopped,
        Server.input_audio_buffer_committed,
    ]


def test_g711_input_is_heard_at_8k(server_url: str) -> None:
    with connect(server_url) as c:
        setup(c, vad(prefix_padding_ms=100), format={"type": "audio/pcmu"})
        append(
            c,
            codecs.ulaw_encode(silence(500, 8000) + tone(440, 500, 8000) + silence(400, 8000)),
            800,
        )
        started, stopped = c.recv(), c.recv()
    assert started["audio_start_ms"] == pytest.approx(400, abs=20)
    assert stopped["audio_end_ms"] == pytest.approx(1200, abs=20)


def test_idle_timeout_triggers_a_turn_in_audio_time(server_url: str) -> None:
    with connect(server_url) as c:
        setup(c, vad(idle_timeout_ms=500))
        append(c, silence(700))
        events = c.until(Server.response_created)
    triggered = events[0]
    assert triggered["type"] == Server.input_audio_buffer_timeout_triggered
    assert (triggered["audio_start_ms"], triggered["audio_end_ms"]) == (0, 500)
    assert types(events)[1:] == [
        Server.input_audio_buffer_committed,
        Server.conversation_item_added,
        Server.conversation_item_done,
        Server.response_created,
    ]


def test_a_manual_commit_still_works_with_vad_on(server_url: str) -> None:
    with connect(server_url) as c:
        setup(c, vad())
        append(c, tone(440, 300))
        assert c.expect(Server.input_audio_buffer_speech_started)["audio_start_ms"] == 0
        c.send({"type": "input_audio_buffer.commit"})
        assert c.expect(Server.input_audio_buffer_committed)
