"""Sending a user's audio turn: a clip converted to the session's input format and streamed
with ``input_audio_buffer.append``, paced in real time as a microphone would give it.

With turn detection off the turn ends with ``input_audio_buffer.commit`` (and the caller's
``response.create``). With server VAD the server decides: the clip is followed by silence as
long as the VAD's ``silence_duration_ms`` (plus a margin) so a turn that ends with speech is
still closed, and ``TurnWatch`` follows what the server did with it.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass

from realtime_cli.audio import codecs
from realtime_cli.audio.files import Clip, chunks
from realtime_cli.protocol.events import JSON, Client, Server
from realtime_cli.protocol.fields import obj
from realtime_cli.session.client import Session

CHUNK_MS = 100  # what a microphone loop typically hands over per append
SILENCE_MARGIN_MS = 300


@dataclass(frozen=True)
class InputSetup:
    """The session's input side as the server last reported it."""

    format: str
    turn_detection: JSON | None

    @classmethod
    def of(cls, session: JSON | None) -> InputSetup:
        audio_in = obj(obj(obj(session).get("audio")).get("input"))
        fmt = obj(audio_in.get("format")).get("type")
        if not isinstance(fmt, str):  # beta session objects
            fmt = obj(session).get("input_audio_format")
        vad = audio_in.get("turn_detection", obj(session).get("turn_detection"))
        return cls(codecs.format_name(fmt if isinstance(fmt, str) else None), vad or None)

    @property
    def silence_ms(self) -> int:
        value = obj(self.turn_detection).get("silence_duration_ms")
        return value if isinstance(value, int) else 500

    @property
    def creates_response(self) -> bool:
        return self.turn_detection is not None and (
            obj(self.turn_detection).get("create_response") is not False
        )


def append_event(data: bytes) -> JSON:
    return {
        "type": Client.input_audio_buffer_append,
        "audio": base64.b64encode(data).decode("ascii"),
    }


async def stream(
    session: Session, data: bytes, format_type: str, *, fast: bool, chunk_ms: int = CHUNK_MS
) -> None:
    """Append ``data`` (already in ``format_type``) in chunks, each sent when a real-time
    source would have it (on an absolute schedule, so pacing never drifts); ``fast``: at once."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for index, chunk in enumerate(chunks(data, format_type, chunk_ms)):
        if not fast:
            await asyncio.sleep(max(0.0, start + index * chunk_ms / 1000 - loop.time()))
        await session.send(append_event(chunk), validate=False)


async def send_turn(session: Session, clip: Clip, setup: InputSetup, *, fast: bool) -> None:
    """Stream ``clip`` as one user turn: commit it when turn detection is off; with server VAD
    add trailing silence and let the server commit."""
    data = clip.encoded(setup.format)
    await stream(session, data, setup.format, fast=fast)
    if setup.turn_detection is None:
        await session.send({"type": Client.input_audio_buffer_commit})
        return
    pad_ms = setup.silence_ms + SILENCE_MARGIN_MS
    samples = codecs.sample_rate(setup.format) * pad_ms // 1000
    silence = codecs.encode(bytes(2 * samples), setup.format)
    await stream(session, silence, setup.format, fast=fast)


class TurnWatch:
    """What the server's VAD did with streamed audio, from the events it sent: whether speech
    is under way, how many turns it committed, and the responses it started on its own."""

    def __init__(self) -> None:
        self.speaking = False
        self.commits = 0
        self.auto_after_commit: str | None = None  # the response it started after its last commit
        self.t_speech_stopped: float | None = None

    def feed(self, event: JSON, t: float, requested: bool) -> None:
        type_ = event.get("type")
        if type_ == Server.input_audio_buffer_speech_started:
            self.speaking = True
        elif type_ == Server.input_audio_buffer_speech_stopped:
            self.speaking = False
            self.t_speech_stopped = t
        elif type_ == Server.input_audio_buffer_committed:
            self.speaking = False
            self.commits += 1
            self.auto_after_commit = None
        elif type_ == Server.response_created and not requested:
            response_id = obj(event.get("response")).get("id")
            if isinstance(response_id, str):
                self.auto_after_commit = response_id
