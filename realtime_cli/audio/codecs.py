"""Audio for the Realtime formats: PCM16 tones and G.711 u-law / A-law, both directions.

The Realtime API speaks three formats (protocol.md §5): ``audio/pcm`` is 16-bit little-endian
mono PCM at 24 kHz; ``audio/pcmu`` (G.711 u-law) and ``audio/pcma`` (G.711 A-law) are one byte per
sample at 8 kHz. ``audioop`` left the standard library in Python 3.13, so the codecs are written
here, bit for bit the classic Sun reference (``g711.c``) that ``audioop`` used; the local server
encodes with them and rtc's export decodes with them. Pure functions, no I/O.
"""

from __future__ import annotations

import functools
import math
import sys
from array import array

PCM = "audio/pcm"
PCMU = "audio/pcmu"
PCMA = "audio/pcma"

PCM_RATE = 24_000
G711_RATE = 8_000

_SEG_U_END = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_SEG_A_END = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
_U_BIAS = 0x84
_U_CLIP = 8159


# The beta names of the formats (protocol.md §5), as old servers and recordings spell them.
BETA_FORMATS = {"pcm16": PCM, "g711_ulaw": PCMU, "g711_alaw": PCMA}


def format_name(name: str | None) -> str:
    """A format as the GA API names it (``audio/pcm`` for unknown or missing names)."""
    name = BETA_FORMATS.get(name or "", name)
    return name if name in (PCM, PCMU, PCMA) else PCM


def sample_rate(format_type: str) -> int:
    """Samples per second of a Realtime audio format."""
    return PCM_RATE if format_type == PCM else G711_RATE


def bytes_per_ms(format_type: str) -> int:
    """Bytes per millisecond: 48 for PCM16 at 24 kHz, 8 for G.711 at 8 kHz."""
    return 48 if format_type == PCM else 8


def duration_ms(n_bytes: int, format_type: str) -> float:
    return n_bytes / bytes_per_ms(format_type)


def _segment(value: int, table: tuple[int, ...]) -> int:
    for index, end in enumerate(table):
        if value <= end:
            return index
    return len(table)


def _ulaw_from_linear(sample: int) -> int:
    # 14-bit magnitude, as the reference implementation (and audioop) does.
    value = sample >> 2
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, _U_CLIP) + (_U_BIAS >> 2)
    seg = _segment(value, _SEG_U_END)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((value >> (seg + 1)) & 0x0F)) ^ mask


def _linear_from_ulaw(code: int) -> int:
    code = ~code & 0xFF
    value = (((code & 0x0F) << 3) + _U_BIAS) << ((code & 0x70) >> 4)
    return _U_BIAS - value if code & 0x80 else value - _U_BIAS


def _alaw_from_linear(sample: int) -> int:
    value = sample >> 3
    if value >= 0:
        mask = 0xD5
    else:
        mask, value = 0x55, -value - 1
    seg = _segment(value, _SEG_A_END)
    if seg >= 8:
        return 0x7F ^ mask
    code = seg << 4
    code |= (value >> 1 if seg < 2 else value >> seg) & 0x0F
    return code ^ mask


def _linear_from_alaw(code: int) -> int:
    code ^= 0x55
    value = (code & 0x0F) << 4
    seg = (code & 0x70) >> 4
    if seg == 0:
        value += 8
    elif seg == 1:
        value += 0x108
    else:
        value = (value + 0x108) << (seg - 1)
    return value if code & 0x80 else -value


# Tables indexed by the unsigned 16-bit view of a sample (encode) or by the code byte (decode):
# one dict-free lookup per sample keeps a second of audio well under a millisecond of setup.
@functools.cache
def _encode_table(law: str) -> bytes:
    encode = _ulaw_from_linear if law == PCMU else _alaw_from_linear
    return bytes(encode(u - 0x10000 if u >= 0x8000 else u) for u in range(0x10000))


@functools.cache
def _decode_table(law: str) -> tuple[int, ...]:
    decode = _linear_from_ulaw if law == PCMU else _linear_from_alaw
    return tuple(decode(code) for code in range(256))


def _samples(pcm16: bytes, typecode: str) -> array[int]:
    samples = array(typecode, pcm16[: len(pcm16) - len(pcm16) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def _pcm16_bytes(samples: array[int]) -> bytes:
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


def ulaw_encode(pcm16: bytes) -> bytes:
    """PCM16 little-endian → G.711 u-law, one byte per sample (the rate is unchanged)."""
    table = _encode_table(PCMU)
    return bytes(table[u] for u in _samples(pcm16, "H"))


def ulaw_decode(data: bytes) -> bytes:
    """G.711 u-law → PCM16 little-endian."""
    table = _decode_table(PCMU)
    return _pcm16_bytes(array("h", (table[code] for code in data)))


def alaw_encode(pcm16: bytes) -> bytes:
    """PCM16 little-endian → G.711 A-law, one byte per sample (the rate is unchanged)."""
    table = _encode_table(PCMA)
    return bytes(table[u] for u in _samples(pcm16, "H"))


def alaw_decode(data: bytes) -> bytes:
    """G.711 A-law → PCM16 little-endian."""
    table = _decode_table(PCMA)
    return _pcm16_bytes(array("h", (table[code] for code in data)))


def decode(data: bytes, format_type: str) -> bytes:
    """Audio in a Realtime format → PCM16 little-endian at that format's rate."""
    if format_type == PCMU:
        return ulaw_decode(data)
    if format_type == PCMA:
        return alaw_decode(data)
    return data


def encode(pcm16: bytes, format_type: str) -> bytes:
    """PCM16 little-endian (already at the format's rate) → the Realtime format's bytes."""
    if format_type == PCMU:
        return ulaw_encode(pcm16)
    if format_type == PCMA:
        return alaw_encode(pcm16)
    return pcm16


def tone(frequency: float, ms: int, rate: int, amplitude: float = 0.3) -> bytes:
    """A sine tone as PCM16 little-endian mono, with 5 ms fades so joined tones do not click."""
    n = rate * ms // 1000
    fade = max(1, rate * 5 // 1000)
    peak = amplitude * 32767
    step = 2 * math.pi * frequency / rate
    samples = array(
        "h",
        (
            round(peak * min(1.0, i / fade, (n - 1 - i) / fade) * math.sin(step * i))
            for i in range(n)
        ),
    )
    return _pcm16_bytes(samples)
