"""Audio files in and out: read a file whole into a Realtime input format, write PCM16 WAV.

WAV with integer PCM (8, 16, 24 or 32 bit, any rate, any channel count) is read with the stdlib
``wave`` module, so files work on a fresh install. Other formats (MP3, FLAC, Ogg Vorbis, float
or WAVE_FORMAT_EXTENSIBLE WAV) are decoded by the audio extra when it is installed, else the
error names the extra. A file is read whole before anything is sent: a file that cannot be read
whole, is empty, silent or too long raises ``AudioFileError`` (exit 2) naming the file and why.
"""

from __future__ import annotations

import sys
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

from realtime_cli.audio import backend, codecs
from realtime_cli.audio.resample import downmix, resample
from realtime_cli.errors import UsageError

MAX_SECONDS = 30 * 60  # the longest file rtc streams (a Realtime session lasts 60 minutes)
MAX_FILE_BYTES = 1024 * 1024 * 1024
SILENT_PEAK = 33  # no sample above -60 dBFS: nothing for a VAD (or a person) to hear


class AudioFileError(UsageError):
    """A file that cannot be sent: the message is ``FILE: reason``."""


@dataclass(frozen=True)
class Clip:
    """Mono PCM16 little-endian audio at ``rate`` Hz."""

    pcm16: bytes
    rate: int

    @property
    def ms(self) -> float:
        return len(self.pcm16) // 2 * 1000 / self.rate

    def encoded(self, format_type: str) -> bytes:
        """This audio in a Realtime format: PCM16 at 24 kHz, or G.711 at 8 kHz."""
        rate = codecs.sample_rate(format_type)
        return codecs.encode(resample(self.pcm16, self.rate, rate), format_type)


def _to_pcm16(raw: bytes, width: int) -> bytes:
    """Little-endian integer samples of ``width`` bytes → 16-bit (the top 16 bits of each)."""
    if width == 2:
        return raw
    if width == 1:  # WAV's 8-bit samples are unsigned
        return bytes(b for sample in raw for b in (0, sample ^ 0x80))
    out = bytearray(len(raw) // width * 2)
    out[0::2] = raw[width - 2 :: width]
    out[1::2] = raw[width - 1 :: width]
    return bytes(out)


def _read_wav(path: Path) -> Clip:
    with wave.open(str(path), "rb") as wav:
        channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
        frames = wav.getnframes()
        if frames / max(rate, 1) > MAX_SECONDS:
            raise ValueError(f"longer than {MAX_SECONDS // 60} minutes")
        raw = wav.readframes(frames)
    if width not in (1, 2, 3, 4) or channels < 1 or rate < 1:
        raise ValueError(f"unsupported WAV: {width * 8}-bit, {channels} channels, {rate} Hz")
    if len(raw) < frames * width * channels:
        held = len(raw) // (width * channels)
        raise ValueError(f"truncated: the header says {frames} frames, the file holds {held}")
    pcm16 = _to_pcm16(raw, width)
    if sys.byteorder == "big":
        swapped = array("h", pcm16)
        swapped.byteswap()
        pcm16 = swapped.tobytes()
    return Clip(downmix(pcm16, channels), rate)


def read_clip(path: Path, rate: int = codecs.PCM_RATE) -> Clip:
    """The whole file as mono PCM16 (WAV at its own rate; other formats decoded at ``rate``)."""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise AudioFileError(f"{path}: is a directory")
        if size == 0:
            raise AudioFileError(f"{path}: is empty (no audio)")
        if size > MAX_FILE_BYTES:
            raise AudioFileError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB")
        with path.open("rb") as file:
            head = file.read(12)
    except OSError as exc:
        raise AudioFileError(f"{path}: {exc.strerror or exc}") from None
    try:
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            try:
                clip = _read_wav(path)
            except wave.Error:  # float, u-law or EXTENSIBLE WAV: the extra decodes those
                clip = Clip(_decode(path, "this WAV encoding", rate), rate)
        else:
            clip = Clip(_decode(path, "a file that is not WAV", rate), rate)
    except (ValueError, EOFError, wave.Error) as exc:
        raise AudioFileError(f"{path}: {exc}") from None
    except OSError as exc:
        raise AudioFileError(f"{path}: {exc.strerror or exc}") from None
    if not clip.pcm16:
        raise AudioFileError(f"{path}: holds no audio")
    if clip.ms > MAX_SECONDS * 1000:
        raise AudioFileError(f"{path}: longer than {MAX_SECONDS // 60} minutes")
    samples = array("h", clip.pcm16)
    if max(max(samples), -min(samples)) < SILENT_PEAK:
        raise AudioFileError(f"{path}: is silent (no sample above -60 dBFS)")
    return clip


def _decode(path: Path, what: str, rate: int) -> bytes:
    if not backend.available():
        raise ValueError(f"reading {what} needs the audio extra: {backend.HINT}")
    return backend.decode_file(str(path), rate)


def write_wav(path: Path, pcm16: bytes, rate: int) -> None:
    """Mono PCM16 → a WAV file (``OSError`` as raised)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm16[: len(pcm16) - len(pcm16) % 2])


def chunks(data: bytes, format_type: str, chunk_ms: int) -> list[bytes]:
    """``data`` in a Realtime format cut into pieces of ``chunk_ms`` (the last may be shorter)."""
    size = max(1, codecs.bytes_per_ms(format_type) * chunk_ms)
    return [data[i : i + size] for i in range(0, len(data), size)]
