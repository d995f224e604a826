"""The audio extra (``pip install 'realtime-cli[audio]'``): the one module that imports
miniaudio, and only when a command uses audio (it costs ~100 ms to import, more if numpy is
around, and it is optional).

miniaudio (632 KiB wheel on Linux x86_64, wheels for macOS and Windows, no system library:
it loads ALSA, PulseAudio, CoreAudio or WASAPI at run time) decodes WAV of any encoding, MP3,
FLAC and Vorbis with downmix and resampling in one call, plays and captures through a
generator callback, and has a real-time-paced null backend, so playback and capture are tested
without a sound card. Without it, ``missing()`` is the one line that says how to get it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from types import ModuleType

from realtime_cli.errors import RtcError

HINT = "pip install 'realtime-cli[audio]'"


class AudioExtraMissing(RtcError):
    """The audio extra is not installed; the message says what needed it and how to get it."""


def load(what: str) -> ModuleType:
    """miniaudio, or ``AudioExtraMissing`` naming ``what`` needed it."""
    try:
        import miniaudio
    except ImportError:
        raise AudioExtraMissing(f"{what} needs the audio extra: {HINT}") from None
    module: ModuleType = miniaudio
    return module


def available() -> bool:
    try:
        load("")
    except AudioExtraMissing:
        return False
    return True


def decode_file(path: str, rate: int) -> bytes:
    """Any file miniaudio decodes → mono PCM16 at ``rate``; ``ValueError`` saying why not."""
    miniaudio = load("this audio format")
    try:
        sound = miniaudio.decode_file(
            path, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1, sample_rate=rate
        )
    except miniaudio.MiniaudioError as exc:
        raise ValueError(f"cannot decode it ({exc.args[0] if exc.args else exc})") from None
    return bytes(sound.samples.tobytes())


def convert(pcm16: bytes, src: int, dst: int) -> bytes:
    """Mono PCM16 from ``src`` Hz to ``dst`` Hz with miniaudio's resampler."""
    miniaudio = load("resampling")
    s16 = miniaudio.SampleFormat.SIGNED16
    return bytes(miniaudio.convert_frames(s16, 1, src, pcm16, s16, 1, dst))


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 while a device opens: with no sound card libasound prints
    about 30 ``ALSA lib ...`` lines there, which would scribble over the console."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
