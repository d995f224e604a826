"""Live playback of output audio: a jitter buffer that knows exactly how much was played.

``JitterBuffer`` is pure (no device, no thread of its own): deltas go in with ``feed``, the
sound card's callback takes them out with ``pull``; tests drive ``pull`` directly as a fake
device. It starts playing once ``prebuffer_ms`` is queued (or the response ended), goes back to
buffering after an underrun (the device plays silence meanwhile, never counted), and counts the
samples of received audio handed to the device: ``played_ms`` is what
``conversation.item.truncate`` needs after a barge-in. The loudspeaker lags the count by the
device period (20 ms), a constant not subtracted.

``Player`` binds a buffer to a device through the audio extra (``backend.open_playback``);
``device="null"`` is miniaudio's null backend, paced in real time, for machines with no sound
card and for tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from realtime_cli.audio import backend, codecs
from realtime_cli.audio.resample import resample_stdlib

RATE = codecs.PCM_RATE  # the device always runs at 24 kHz mono PCM16


class JitterBuffer:
    def __init__(self, prebuffer_ms: int = 80) -> None:
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._prebuffer = 2 * RATE * prebuffer_ms // 1000
        self._priming = True
        self._ended = False
        self.response_id: str | None = None
        self.item_id: str | None = None
        self.content_index = 0
        self.played_samples = 0  # of the current response
        self.received_samples = 0  # of the current response, at 24 kHz
        self.underruns = 0

    def start(self, response_id: str, item_id: str | None, content_index: int = 0) -> None:
        """A new response's audio begins: whatever the last one left is dropped."""
        with self._lock:
            self._buf.clear()
            self._priming, self._ended = True, False
            self.response_id, self.item_id, self.content_index = (
                response_id,
                item_id,
                content_index,
            )
            self.played_samples = self.received_samples = 0

    def feed(self, pcm16_24k: bytes) -> None:
        with self._lock:
            self._buf += pcm16_24k
            self.received_samples += len(pcm16_24k) // 2

    def end(self) -> None:
        """No more audio for this response: play out the tail without waiting to prebuffer."""
        with self._lock:
            self._ended = True

    @property
    def playing(self) -> bool:
        with self._lock:
            return bool(self._buf) and self.response_id is not None

    @property
    def played_ms(self) -> int:
        return self.played_samples * 1000 // RATE

    @property
    def received_ms(self) -> int:
        return self.received_samples * 1000 // RATE

    def stop(self) -> int:
        """Barge-in: drop everything not yet played, at once. Returns the ms played (never more
        than received)."""
        with self._lock:
            self._buf.clear()
            self._priming, self._ended = True, False
            return min(self.played_samples, self.received_samples) * 1000 // RATE

    def pull(self, frames: int) -> bytes:
        """The device's callback: up to ``frames`` samples (fewer, or none, means silence)."""
        want = 2 * frames
        with self._lock:
            if self._priming and (len(self._buf) >= self._prebuffer or (self._ended and self._buf)):
                self._priming = False
            if self._priming:
                return b""
            chunk = bytes(self._buf[:want])
            del self._buf[:want]
            self.played_samples += len(chunk) // 2
            if len(chunk) < want:
                if not self._ended:
                    self.underruns += 1
                self._priming = True
            return chunk


def to_device(data: bytes, format_type: str) -> bytes:
    """Output audio in a Realtime format → PCM16 at the device's 24 kHz."""
    pcm = codecs.decode(data, format_type)
    return resample_stdlib(pcm, codecs.sample_rate(format_type), RATE)


class Device(Protocol):
    def close(self) -> None: ...


@dataclass
class Player:
    """A jitter buffer playing on a device (opened through the audio extra)."""

    buffer: JitterBuffer
    device: Device

    @classmethod
    def open(
        cls,
        device: str | None = None,
        opener: Callable[[Callable[[int], bytes], str | None], Device] | None = None,
    ) -> Player:
        """``AudioExtraMissing`` without the extra; ``RtcError`` when no device opens."""
        buffer = JitterBuffer()
        open_device = opener or backend.open_playback
        return cls(buffer, open_device(buffer.pull, device))

    def close(self) -> None:
        self.device.close()
