"""Voice activity detection for the local server's ``server_vad`` / ``semantic_vad``, in audio
time: offsets count the audio appended to the session, never the wall clock, so the same audio
gives the same events however fast it was sent.

The detector is an energy detector (hand-written: a few lines of stdlib, 1.5 ms per second of
audio, and the same result on every machine, which a test suite needs). Each 20 ms frame is
voiced when its RMS level is above a threshold in dBFS mapped from the session's ``threshold``
(0..1) as ``-70 + 50 × threshold``: the default 0.5 is −45 dBFS, which finds espeak-ng speech
within a frame of where the WebRTC VAD finds it. Speech starts after ``START_FRAMES`` voiced
frames in a row; ``audio_start_ms`` is the first of them minus ``prefix_padding_ms`` (the audio
handed to the model includes the padding, as the live service's does). Speech stops after
``silence_duration_ms`` without a voiced frame; ``audio_end_ms`` is the end of the last voiced
frame plus that silence (it "includes the silence duration", as the live service reports).
``semantic_vad`` is approximated by the same detector with its eagerness mapped to a silence
duration (low 800 ms, medium/auto 500 ms, high 250 ms).
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from typing import Any, Literal

FRAME_MS = 20
START_FRAMES = 3
_EAGERNESS_SILENCE_MS = {"low": 800, "medium": 500, "auto": 500, "high": 250}


@dataclass(frozen=True)
class Turn:
    """One detector decision: speech ``started`` or ``stopped`` at ``ms`` of audio time."""

    kind: Literal["started", "stopped"]
    ms: int


@dataclass(frozen=True)
class VadSettings:
    threshold_db: float
    prefix_padding_ms: int
    silence_duration_ms: int

    @classmethod
    def of(cls, config: dict[str, Any]) -> VadSettings:
        if config.get("type") == "semantic_vad":
            silence = _EAGERNESS_SILENCE_MS.get(str(config.get("eagerness", "auto")), 500)
            return cls(-45.0, 300, silence)
        given = config.get("threshold")
        threshold = float(given) if isinstance(given, int | float) else 0.5
        padding = config.get("prefix_padding_ms")
        quiet = config.get("silence_duration_ms")
        return cls(
            -70.0 + 50.0 * threshold,
            padding if isinstance(padding, int) else 300,
            quiet if isinstance(quiet, int) else 200,
        )


class EnergyVad:
    """Feed mono PCM16 at ``rate`` in any chunk sizes; get the turns it completes."""

    def __init__(self, settings: VadSettings, rate: int, start_ms: int = 0) -> None:
        self.settings = settings
        self.rate = rate
        self._frame_bytes = 2 * rate * FRAME_MS // 1000
        self._pending = b""
        self._frame_start = start_ms  # audio time of the next whole frame
        self.speaking = False
        self._run = 0  # voiced frames in a row (while silent) or silent ones (while speaking)
        self._run_start = 0
        self._last_voiced_end = 0
        self._floor = 0  # speech may not start before this (the start of the buffer)

    def reset(self, floor_ms: int) -> None:
        """Forget the current turn (a manual commit or clear); speech restarts after
        ``floor_ms``."""
        self.speaking = False
        self._run = 0
        self._floor = floor_ms

    def _voiced(self, frame: bytes) -> bool:
        samples = array("h", frame)
        energy = sum(s * s for s in samples) / max(1, len(samples))
        level = 10 * math.log10(max(energy, 1e-9) / 32768**2)
        return level > self.settings.threshold_db

    def feed(self, pcm16: bytes) -> list[Turn]:
        data = self._pending + pcm16
        size = self._frame_bytes
        whole = len(data) - len(data) % size
        self._pending = data[whole:]
        turns: list[Turn] = []
        for offset in range(0, whole, size):
            start = self._frame_start
            self._frame_start += FRAME_MS
            voiced = self._voiced(data[offset : offset + size])
            if not self.speaking:
                if not voiced:
                    self._run = 0
                    continue
                if self._run == 0:
                    self._run_start = start
                self._run += 1
                if self._run >= START_FRAMES:
                    self.speaking, self._run = True, 0
                    self._last_voiced_end = start + FRAME_MS
                    padded = max(self._floor, self._run_start - self.settings.prefix_padding_ms)
                    turns.append(Turn("started", padded))
            elif voiced:
                self._last_voiced_end = start + FRAME_MS
            elif start + FRAME_MS - self._last_voiced_end >= self.settings.silence_duration_ms:
                self.speaking = False
                end = self._last_voiced_end + self.settings.silence_duration_ms
                self._floor = end
                turns.append(Turn("stopped", end))
        return turns
