"""Mono PCM16 from one sample rate to another, and channels down to one.

Two resamplers: ``miniaudio.convert_frames`` when the audio extra is installed (C, a low-order
filter: −19 dB at 1.25× the target Nyquist frequency, 5 ms for 4.5 s of 44.1 kHz audio), and a
stdlib fallback (hand-written because no standard-library resampler exists since ``audioop``
left): a box filter as wide as the rate ratio when going down, then linear interpolation. The
box filter's first null falls on the new sample rate, which keeps speech intelligible; it is
not hi-fi, and the extra is the way to better. The local server always uses the stdlib path
(``resample_stdlib``), so what it hears never depends on which extras are installed.
"""

from __future__ import annotations

import sys
from array import array

from realtime_cli.audio import backend


def _samples(pcm16: bytes) -> array[int]:
    samples = array("h", pcm16[: len(pcm16) - len(pcm16) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def _bytes(samples: array[int]) -> bytes:
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


def downmix(pcm16: bytes, channels: int) -> bytes:
    """Interleaved PCM16 with ``channels`` channels → mono (the mean of the channels)."""
    if channels == 1:
        return pcm16
    samples = _samples(pcm16)
    frames = len(samples) // channels
    columns = [samples[c : frames * channels : channels] for c in range(channels)]
    return _bytes(array("h", (sum(frame) // channels for frame in zip(*columns, strict=True))))


def resample_stdlib(pcm16: bytes, src: int, dst: int) -> bytes:
    """Mono PCM16 at ``src`` Hz → ``dst`` Hz, standard library only (deterministic)."""
    if src == dst:
        return pcm16[: len(pcm16) - len(pcm16) % 2]
    samples = _samples(pcm16)
    if src % dst == 0:  # 24k → 8k, 48k → 24k: the mean of each group is filter and decimation
        k = src // dst
        n = len(samples) // k
        columns = [samples[c : n * k : k] for c in range(k)]
        return _bytes(array("h", (sum(group) // k for group in zip(*columns, strict=True))))
    if src > dst:  # other ratios down: box filter as wide as the ratio, then interpolate
        width = max(1, round(src / dst))
        if width > 1:
            total = 0
            window: list[int] = []
            smoothed = array("h", bytes(2 * len(samples)))
            for i, value in enumerate(samples):
                total += value
                window.append(value)
                if len(window) > width:
                    total -= window.pop(0)
                smoothed[i] = total // len(window)
            samples = smoothed
    n_out = len(samples) * dst // src
    last = len(samples) - 1
    step = src / dst
    out = array("h", bytes(2 * n_out))
    for i in range(n_out):
        position = i * step
        j = int(position)
        a = samples[j]
        b = samples[j + 1] if j < last else a
        out[i] = int(a + (b - a) * (position - j))
    return _bytes(out)


def resample(pcm16: bytes, src: int, dst: int) -> bytes:
    """Mono PCM16 at ``src`` Hz → ``dst`` Hz: miniaudio when installed, else the stdlib path."""
    if src == dst:
        return pcm16[: len(pcm16) - len(pcm16) % 2]
    if not backend.available():
        return resample_stdlib(pcm16, src, dst)
    # miniaudio's resampler may add a sample at the end: both paths give the same length.
    size = 2 * (len(pcm16) // 2 * dst // src)
    converted = backend.convert(pcm16[: len(pcm16) - len(pcm16) % 2], src, dst)[:size]
    return converted + bytes(size - len(converted))
