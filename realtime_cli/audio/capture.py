"""The microphone: 24 kHz mono PCM16 chunks (20 ms) from the input device, with their level.

``Mic`` opens the device through the audio extra (``backend.open_capture``) and hands each chunk
to ``on_chunk`` on the device's own thread; the console passes a function that moves it onto
the event loop (``loop.call_soon_threadsafe``). ``level_db`` is the level of the latest chunk,
for the toolbar's meter. ``Mic(opener=...)`` takes a fake device at the one seam tests use.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from typing import Protocol

from realtime_cli.audio import backend

SILENT_DB = -96.0


class Device(Protocol):
    def close(self) -> None: ...


Opener = Callable[[Callable[[bytes], None], str | None], Device]


def level_db(pcm16: bytes) -> float:
    """RMS level in dBFS (−96 for digital silence)."""
    samples = array("h", pcm16[: len(pcm16) - len(pcm16) % 2])
    if not samples:
        return SILENT_DB
    mean = sum(s * s for s in samples) / len(samples)
    return max(SILENT_DB, 10 * math.log10(mean / 32768**2)) if mean else SILENT_DB


class Mic:
    def __init__(
        self,
        on_chunk: Callable[[bytes], None],
        device: str | None = None,
        opener: Opener | None = None,
    ) -> None:
        self.on_chunk = on_chunk
        self.device_name = device
        self.opener: Opener = opener or backend.open_capture
        self.level_db = SILENT_DB
        self.samples = 0
        self._device: Device | None = None

    @property
    def live(self) -> bool:
        return self._device is not None

    def _take(self, pcm16: bytes) -> None:  # the device's thread
        self.level_db = level_db(pcm16)
        self.samples += len(pcm16) // 2
        self.on_chunk(pcm16)

    def start(self) -> None:
        """Open the device (``RtcError``/``AudioExtraMissing`` with a one-line reason)."""
        if self._device is None:
            self._device = self.opener(self._take, self.device_name)

    def stop(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            device.close()
        self.level_db = SILENT_DB
