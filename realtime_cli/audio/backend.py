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
from array import array
from collections.abc import Callable, Generator, Iterator
from types import ModuleType
from typing import Any

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


class _Device:
    """An open miniaudio device; ``close`` stops it."""

    def __init__(self, device: object) -> None:
        self._device = device

    @property
    def name(self) -> str:
        return str(getattr(self._device, "backend", "?"))

    def close(self) -> None:
        self._device.close()  # type: ignore[attr-defined]


def _reason(exc: Exception) -> str:
    return str(exc.args[0]) if exc.args else str(exc)


def _backends(miniaudio: ModuleType, device: str | None) -> list[object] | None:
    device = device or os.environ.get("RTC_AUDIO_DEVICE")
    if device in (None, "", "default"):
        return None
    if device == "null":
        return [miniaudio.Backend.NULL]
    raise RtcError(f"--audio-device: unknown device {device!r} (say default or null)")


def open_playback(pull: Callable[[int], bytes], device: str | None = None) -> _Device:
    """A 24 kHz mono PCM16 output device that asks ``pull(frames)`` for audio every 20 ms
    (a short answer plays silence: miniaudio zeroes the buffer)."""
    miniaudio = load("live playback")

    def feeder() -> Generator[bytes, int, None]:
        frames = yield b""
        while True:
            frames = yield pull(frames)

    generator = feeder()
    next(generator)
    return _started(
        miniaudio,
        miniaudio.PlaybackDevice,
        "output_format",
        device,
        generator,
        "no audio output device ({}); RTC_AUDIO_DEVICE=null plays to no device",
    )


def open_capture(on_chunk: Callable[[bytes], None], device: str | None = None) -> _Device:
    """A 24 kHz mono PCM16 input device calling ``on_chunk(pcm16)`` every 20 ms (on the
    device's thread)."""
    miniaudio = load("the microphone")

    def taker() -> Generator[None, bytes | array[int], None]:
        while True:
            data = yield
            on_chunk(bytes(data))

    generator = taker()
    next(generator)
    return _started(
        miniaudio,
        miniaudio.CaptureDevice,
        "input_format",
        device,
        generator,
        "no audio input device ({}); RTC_AUDIO_DEVICE=null records silence",
    )


def _started(
    miniaudio: ModuleType,
    device_class: Any,
    format_keyword: str,
    device: str | None,
    generator: Generator[Any, Any, None],
    failure: str,
) -> _Device:
    """Open a 24 kHz mono PCM16 device of ``device_class`` and start it on ``generator``. ALSA
    writes its complaints to fd 2 while a device opens: they are silenced, and a failure is one
    line (``failure`` with the reason)."""
    try:
        with quiet_stderr():
            opened = device_class(
                **{format_keyword: miniaudio.SampleFormat.SIGNED16},
                nchannels=1,
                sample_rate=24_000,
                buffersize_msec=20,
                backends=_backends(miniaudio, device),
            )
            opened.start(generator)
    except miniaudio.MiniaudioError as exc:
        raise RtcError(failure.format(_reason(exc))) from None
    return _Device(opened)
