"""G.711 codecs and tones for the local server (and rtc's export)."""

from __future__ import annotations

import itertools
import math
import os
import warnings
from array import array
from types import ModuleType

import pytest

from realtime_cli.audio import codecs as audio


def _audioop() -> ModuleType | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop
        except ImportError:  # gone in Python 3.13
            return None
    return audioop


AUDIOOP = _audioop()


@pytest.mark.skipif(AUDIOOP is None, reason="audioop is not in this Python")
def test_codecs_match_audioop_bit_for_bit() -> None:
    assert AUDIOOP is not None
    pcm = os.urandom(40_000)
    codes = bytes(range(256))
    assert audio.ulaw_encode(pcm) == AUDIOOP.lin2ulaw(pcm, 2)
    assert audio.alaw_encode(pcm) == AUDIOOP.lin2alaw(pcm, 2)
    assert audio.ulaw_decode(codes) == AUDIOOP.ulaw2lin(codes, 2)
    assert audio.alaw_decode(codes) == AUDIOOP.alaw2lin(codes, 2)


def test_known_code_points() -> None:
    silence = array("h", [0, 0]).tobytes()
    assert audio.ulaw_encode(silence) == b"\xff\xff"
    assert audio.alaw_encode(silence) == b"\xd5\xd5"
    assert array("h", audio.ulaw_decode(b"\x00\x80")).tolist() == [-32124, 32124]
    assert array("h", audio.alaw_decode(b"\x55\xd5")).tolist() == [-8, 8]


@pytest.mark.parametrize("fmt", [audio.PCMU, audio.PCMA])
def test_round_trip_keeps_the_signal(fmt: str) -> None:
    pcm = audio.tone(300, 100, audio.G711_RATE)
    back = array("h", audio.decode(audio.encode(pcm, fmt), fmt))
    original = array("h", pcm)
    assert len(back) == len(original) == 800
    assert all(abs(a - b) <= max(64, abs(a) // 16) for a, b in zip(original, back, strict=True))


def test_pcm_passes_through_and_odd_bytes_are_dropped() -> None:
    assert audio.encode(b"\x01\x02", audio.PCM) == b"\x01\x02"
    assert audio.ulaw_encode(b"\x00\x00\x01") == b"\xff"


def test_tone_is_a_faded_sine_of_the_asked_length() -> None:
    samples = array("h", audio.tone(1000, 100, 24_000, amplitude=0.5))
    assert len(samples) == 2400
    assert samples[0] == 0 and abs(samples[-1]) < 100
    assert 16_000 < max(samples) <= 16_384
    crossings = sum(1 for a, b in itertools.pairwise(samples) if a < 0 <= b)
    assert math.isclose(crossings, 100, abs_tol=2)


def test_rates_and_durations() -> None:
    assert (audio.sample_rate(audio.PCM), audio.sample_rate(audio.PCMA)) == (24_000, 8_000)
    assert (audio.bytes_per_ms(audio.PCM), audio.bytes_per_ms(audio.PCMU)) == (48, 8)
    assert audio.duration_ms(4800, audio.PCM) == 100
    assert audio.duration_ms(800, audio.PCMA) == 100
