"""The WebRTC VAD as the local server's detector, an explicit choice (``rtc serve --vad webrtc``)
because it needs the audio extra (``webrtcvad-wheels``: 84 KiB wheel on Linux x86_64, wheels for
macOS and Windows, no system library) and because test results must not change with what
happens to be installed. The turn-taking rules are the energy detector's (``vad.py``); only the
frame decision differs. webrtcvad takes 8, 16, 32 or 48 kHz: G.711 input is 8 kHz already and
24 kHz PCM is doubled to 48 kHz by repeating each sample (exact, stdlib). ``threshold`` picks
the aggressiveness: 0-0.25 → 0, up to 0.5 → 2 (levels 0 and 1 call low-level noise speech), up
to 0.75 → 2, above → 3.
"""

from __future__ import annotations

from array import array

from realtime_cli.server.vad import EnergyVad, VadSettings

HINT = "--vad webrtc needs the audio extra: pip install 'realtime-cli[audio]'"


def available() -> bool:
    try:
        import webrtcvad  # noqa: F401
    except ImportError:
        return False
    return True


def _upsample2(pcm16: bytes) -> bytes:
    samples = array("h", pcm16)
    doubled = array("h", bytes(4 * len(samples)))
    doubled[0::2] = samples
    doubled[1::2] = samples
    return doubled.tobytes()


class WebRtcVad(EnergyVad):
    def __init__(self, settings: VadSettings, rate: int, start_ms: int = 0) -> None:
        import webrtcvad

        super().__init__(settings, rate, start_ms)
        # Back from the dBFS the settings hold to the 0..1 threshold the session gave.
        threshold = (settings.threshold_db + 70.0) / 50.0
        aggressiveness = 0 if threshold <= 0.25 else 2 if threshold <= 0.75 else 3
        self._vad = webrtcvad.Vad(aggressiveness)

    def _voiced(self, frame: bytes) -> bool:
        if self.rate == 24_000:
            return bool(self._vad.is_speech(_upsample2(frame), 48_000))
        return bool(self._vad.is_speech(frame, self.rate))
