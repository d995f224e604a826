"""Audio made in the test: tones and silence as WAV files of any rate, width and channel
count, and real speech from espeak-ng (``.ci/run`` installs it when missing)."""

from __future__ import annotations

import math
import shutil
import subprocess
import wave
from array import array
from pathlib import Path

from realtime_cli.audio import codecs


def tone(frequency: float, ms: int, rate: int = 24_000, amplitude: float = 0.3) -> bytes:
    return codecs.tone(frequency, ms, rate, amplitude)


def silence(ms: int, rate: int = 24_000) -> bytes:
    return bytes(2 * (rate * ms // 1000))


def write(path: Path, pcm16: bytes, rate: int, *, channels: int = 1, width: int = 2) -> Path:
    """Mono PCM16 written as a WAV of ``channels`` (copies) and ``width`` bytes per sample."""
    samples = array("h", pcm16)
    frames = bytearray()
    for value in samples:
        if width == 1:
            sample = bytes([(value >> 8) + 128])
        else:
            sample = (value << (8 * (width - 2))).to_bytes(width, "little", signed=True)
        frames += sample * channels
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


def rms_db(pcm16: bytes) -> float:
    samples = array("h", pcm16)
    mean = sum(v * v for v in samples) / max(1, len(samples))
    return 10 * math.log10(max(mean, 1e-9) / 32768**2)


def speak(path: Path, text: str) -> Path:
    """``text`` spoken by espeak-ng into a WAV (22 050 Hz mono 16-bit)."""
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is needed for the speech tests (.ci/run installs it)"
    subprocess.run([espeak, "-w", str(path), text], check=True, capture_output=True, timeout=60)
    return path


def speech_bounds(pcm16: bytes, rate: int, threshold_db: float = -45.0) -> tuple[int, int]:
    """First and last 10 ms frame louder than ``threshold_db``, in ms: where a file's speech
    really is, measured independently of the server's VAD."""
    frame = rate // 100
    loud = [
        i * 10
        for i in range(len(pcm16) // 2 // frame)
        if rms_db(pcm16[2 * i * frame : 2 * (i + 1) * frame]) > threshold_db
    ]
    return loud[0], loud[-1] + 10
