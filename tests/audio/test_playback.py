"""Playback and capture without a sound card: the jitter buffer driven as a fake device at its
seam, then the real library on miniaudio's null backend (paced in real time; short clips)."""

from __future__ import annotations

import threading

import pytest
from sounds import tone

from realtime_cli.audio import codecs
from realtime_cli.audio.capture import Mic, level_db
from realtime_cli.audio.playback import JitterBuffer, Player, to_device


def test_prebuffer_underrun_and_exact_played_count() -> None:
    buffer = JitterBuffer(prebuffer_ms=80)
    buffer.start("resp_1", "item_1")
    buffer.feed(tone(440, 40))
    assert buffer.pull(480) == b""  # priming: 40 ms < 80 ms queued
    buffer.feed(tone(440, 60))
    assert len(buffer.pull(480)) == 960 and buffer.played_ms == 20
    buffer.pull(2400)  # wants 100 ms, 80 left: an underrun, back to priming
    assert buffer.underruns == 1 and buffer.played_ms == 100
    buffer.feed(tone(440, 20))
    buffer.end()  # the response is done: the tail plays without prebuffering
    assert len(buffer.pull(480)) == 960 and buffer.played_ms == 120 == buffer.received_ms


def test_stop_drops_the_rest_and_says_what_was_played() -> None:
    buffer = JitterBuffer(prebuffer_ms=0)
    buffer.start("resp_1", "item_1")
    buffer.feed(tone(440, 500))
    buffer.pull(24_000 * 130 // 1000)
    assert buffer.stop() == 130
    assert buffer.pull(480) == b"" and not buffer.playing
    assert buffer.received_ms == 500


def test_g711_output_is_played_at_24k() -> None:
    ulaw = codecs.ulaw_encode(tone(440, 100, 8_000))
    assert len(to_device(ulaw, codecs.PCMU)) == 2 * 2400


def test_mic_level_and_fake_device_seam() -> None:
    chunks: list[bytes] = []

    class Fake:
        def close(self) -> None:
            pass

    taken: list[object] = []

    def opener(take: object, device: str | None) -> Fake:
        taken.append(take)
        return Fake()

    mic = Mic(chunks.append, opener=opener)
    mic.start()
    assert mic.live
    taken[0](tone(440, 20, amplitude=0.5))  # type: ignore[operator]
    assert chunks and mic.level_db == pytest.approx(level_db(tone(440, 20, amplitude=0.5)))
    assert -12 < mic.level_db < -8  # half scale is -9 dBFS; the 5 ms fades take a little off
    mic.stop()
    assert not mic.live and mic.level_db == -96.0


def test_null_backend_plays_and_captures_in_real_time() -> None:
    pytest.importorskip("miniaudio")
    player = Player.open("null")
    try:
        buffer = player.buffer
        buffer.start("resp_1", "item_1")
        buffer.feed(tone(440, 200))
        buffer.end()
        done = threading.Event()
        for _ in range(200):  # until the device has taken it all (about 0.2 s)
            if buffer.played_ms == 200:
                done.set()
                break
            done.wait(0.02)
        assert buffer.played_ms == 200 == buffer.received_ms
    finally:
        player.close()
    got: list[bytes] = []
    heard = threading.Event()

    def take(chunk: bytes) -> None:
        got.append(chunk)
        if sum(map(len, got)) >= 2 * 2400:
            heard.set()

    mic = Mic(take, "null")
    mic.start()
    try:
        assert heard.wait(10)
    finally:
        mic.stop()
    assert set(b"".join(got)) == {0}  # the null device records silence
