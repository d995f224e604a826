"""Turn taking on the local server: what server VAD does with appended audio.

``Listener`` keeps the input audio buffer's place in audio time (bytes appended to the session)
and runs the detector (``vad.py``) on every append while ``turn_detection`` is set. On speech it
sends ``input_audio_buffer.speech_started`` (and, with ``interrupt_response``, cancels the
active response with reason ``turn_detected``); on silence ``speech_stopped``, commits the
turn's audio as a user item (``committed``, ``conversation.item.added/done``, the input
transcription events when ``audio.input.transcription`` is set) and starts a response when
``create_response`` is true and none is active. ``idle_timeout_ms`` (server_vad) is measured in
audio time too: that much audio without speech and with no response active gives
``input_audio_buffer.timeout_triggered``, a commit and a response.
"""

from __future__ import annotations

from typing import Any, Protocol

from realtime_cli.audio import codecs as audio
from realtime_cli.protocol.events import JSON, Server, new_id
from realtime_cli.server.vad import EnergyVad, VadSettings
from realtime_cli.server.wire import event


class _Active(Protocol):
    def cancel(self, reason: str) -> list[JSON]: ...


class Session(Protocol):
    """What turn taking needs of the server's session (``protocol.Session``, which owns a
    ``Listener``: a protocol here, so this module does not import the one that imports it)."""

    config: JSON
    buffer: bytearray

    @property
    def active(self) -> _Active | None: ...

    def commit_audio(self, data: bytes, item_id: str | None = None) -> list[JSON]: ...

    def respond(self) -> list[JSON]: ...


def transcript_of(n_bytes: int, format_type: str) -> str:
    """The local model's deterministic transcription of a user's audio: its length."""
    return f"{audio.duration_ms(n_bytes, format_type) / 1000:.1f} seconds of speech"


def transcription_events(item_id: str, transcript: str, seconds: float) -> list[JSON]:
    return [
        event(Server.input_transcription_delta, item_id=item_id, content_index=0, delta=transcript),
        event(
            Server.input_transcription_completed,
            item_id=item_id,
            content_index=0,
            transcript=transcript,
            usage={"type": "duration", "seconds": round(seconds, 3)},
        ),
    ]


class Listener:
    def __init__(self, detector: str = "energy") -> None:
        self.detector = detector  # "energy" (default, stdlib) or "webrtc" (the audio extra)
        self.heard = 0  # bytes appended in this session (audio time, in the current format)
        self.buffer_start = 0  # audio time of the buffer's first byte, in bytes
        self.vad: EnergyVad | None = None
        self._vad_config: JSON | None = None
        self.item_id: str | None = None  # the user item the current speech will become
        self._idle_from = 0  # bytes: where the idle timeout counts from

    def ms(self, n_bytes: int, format_type: str) -> int:
        return int(n_bytes // audio.bytes_per_ms(format_type))

    def restart(self) -> None:
        """The buffer was committed or cleared by the client: the turn starts over here."""
        self.buffer_start = self._idle_from = self.heard
        self.item_id = None
        if self.vad is not None:
            self.vad = None  # a new detector on the next append, starting at this point

    def _detector(self, config: JSON, format_type: str) -> EnergyVad:
        if self.vad is None or config != self._vad_config:
            self._vad_config = dict(config)
            start = self.ms(self.heard, format_type)
            kind = EnergyVad
            if self.detector == "webrtc":
                from realtime_cli.server.vad_webrtc import WebRtcVad

                kind = WebRtcVad
            self.vad = kind(VadSettings.of(config), audio.sample_rate(format_type), start)
            self.vad.reset(self.ms(self.buffer_start, format_type))
        return self.vad

    def appended(self, session: Session, data: bytes, format_type: str) -> list[JSON]:
        """The events server VAD owes for ``data`` just appended to the buffer."""
        config: Any = session.config["audio"]["input"]["turn_detection"]
        if not isinstance(config, dict):
            self.heard += len(data)
            self.vad = None
            return []
        vad = self._detector(config, format_type)  # its clock starts where this data does
        self.heard += len(data)
        sent: list[JSON] = []
        for turn in vad.feed(audio.decode(data, format_type)):
            at = turn.ms * audio.bytes_per_ms(format_type)
            if turn.kind == "started":
                sent += self._started(session, config, at, turn.ms)
            else:
                sent += self._stopped(session, config, at, turn.ms, format_type)
        sent += self._idle(session, config, format_type)
        return sent

    def _started(self, session: Session, config: JSON, at: int, ms: int) -> list[JSON]:
        cut = max(0, at - self.buffer_start)  # audio before the padded start is not the turn's
        del session.buffer[:cut]
        self.buffer_start += cut
        self.item_id = new_id("item")
        started = Server.input_audio_buffer_speech_started
        sent = [event(started, audio_start_ms=ms, item_id=self.item_id)]
        active = session.active
        if config.get("interrupt_response", True) and active is not None:
            sent += active.cancel("turn_detected")
        return sent

    def _stopped(
        self, session: Session, config: JSON, at: int, ms: int, format_type: str
    ) -> list[JSON]:
        item_id = self.item_id or new_id("item")
        self.item_id = None
        sent = [event(Server.input_audio_buffer_speech_stopped, audio_end_ms=ms, item_id=item_id)]
        size = max(0, at - self.buffer_start)
        data = bytes(session.buffer[:size])
        del session.buffer[:size]
        self.buffer_start += size
        self._idle_from = self.buffer_start
        sent += session.commit_audio(data, item_id)
        if config.get("create_response", True) and session.active is None:
            sent += session.respond()
        return sent

    def _idle(self, session: Session, config: JSON, format_type: str) -> list[JSON]:
        timeout = config.get("idle_timeout_ms")
        if config.get("type") != "server_vad" or not isinstance(timeout, int) or timeout <= 0:
            return []
        if session.active is not None or (self.vad is not None and self.vad.speaking):
            self._idle_from = self.heard  # the idle clock starts after the response
            return []
        if self.heard - self._idle_from < timeout * audio.bytes_per_ms(format_type):
            return []
        item_id = new_id("item")
        sent = [
            event(
                Server.input_audio_buffer_timeout_triggered,
                audio_start_ms=self.ms(self._idle_from, format_type),
                audio_end_ms=self.ms(self.heard, format_type),
                item_id=item_id,
            )
        ]
        data = bytes(session.buffer)
        session.buffer.clear()
        self.buffer_start = self._idle_from = self.heard
        if self.vad is not None:
            self.vad.reset(self.ms(self.heard, format_type))
        sent += session.commit_audio(data, item_id)
        sent += session.respond()
        return sent
