"""Voice in the console: ``audio FILE``, ``save ID FILE.wav``, ``play ID``, ``--audio-out DIR``,
live playback (``--play``) and barge-in.

``Voice`` listens to every server event the shell receives: it keeps recent responses' audio
(``audio.takes``), writes each finished one to ``--audio-out DIR`` as ``<response id>.wav``, and
feeds the player. Barge-in (``input_audio_buffer.speech_started`` while audio plays, Ctrl-C, or a
new message) stops playback at once and drops what is buffered, cancels the response if it is
still active, and truncates its item at the audio actually played (clamped to what was
received); nothing played, no truncate. Audio libraries load only when one of these is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from realtime_cli.audio import codecs
from realtime_cli.audio.takes import Takes
from realtime_cli.console.parse import parse_args
from realtime_cli.console.shell import Shell
from realtime_cli.errors import ConnectionLost, RtcError, UsageError
from realtime_cli.protocol import events
from realtime_cli.protocol.events import Client, Server
from realtime_cli.protocol.fields import count, text
from realtime_cli.protocol.tracker import ResponseState
from realtime_cli.session.client import Received

if TYPE_CHECKING:
    from realtime_cli.audio.capture import Mic, Opener
    from realtime_cli.audio.playback import Player

MIN_TURN_MS = 100  # shorter push-to-talk turns are dropped: the server refuses to commit them


@dataclass(frozen=True)
class VoiceOptions:
    """The console's voice options: ``--audio-out DIR``, ``--play``, ``--audio-device``."""

    audio_out: Path | None = None
    # None: play when the answers have audio, the audio extra is installed and a device opens
    # (the first audio delta tries, once, quietly); --play insists, --no-play never plays.
    play: bool | None = None
    device: str | None = None


class Voice:
    def __init__(
        self,
        shell: Shell,
        *,
        audio_out: Path | None = None,
        play: bool | None = False,
        device: str | None = None,
    ) -> None:
        self.shell = shell
        self.auto_play = play is None  # see VoiceOptions.play
        self.takes = Takes()
        self.audio_out = audio_out
        self.device = device
        self.player: Player | None = None
        self.sending: asyncio.Task[None] | None = None
        self.mic: Mic | None = None
        # Responses stopped by a barge-in: their late deltas must not start playing again.
        self._stopped: set[str] = set()
        self.mic_opener: Opener | None = None  # tests: a fake input device at the Mic's seam
        self._mic_queue: asyncio.Queue[bytes | None] | None = None
        shell.listeners.append(self.on_received)
        shell.voice = self
        if play:
            try:
                self.open_player()
            except RtcError as exc:  # no extra, no device: say so once, the rest works
                shell.say(f"rtc: {exc.message}", "yellow")

    @classmethod
    def of(cls, shell: Shell) -> Voice:
        return shell.voice if isinstance(shell.voice, Voice) else cls(shell)

    def open_player(self) -> Player:
        """The live player (``RtcError`` with the one-line hint without the extra or a device)."""
        if self.player is None:
            from realtime_cli.audio.playback import Player

            self.player = Player.open(self.device)
        return self.player

    # -- events ------------------------------------------------------------------------------

    def on_received(self, received: Received) -> None:
        event = received.event
        type_ = received.update.type
        take = self.takes.feed(event)
        if type_ == Server.response_output_audio_delta and take is not None:
            if self.auto_play:
                self.auto_play = False  # one try: no extra or no device is no error here
                with contextlib.suppress(RtcError):
                    self.open_player()
            self._play(take.response_id, event, take.format)
        elif type_ == Server.response_done and take is not None:
            if self.player is not None and self.player.buffer.response_id == take.response_id:
                self.player.buffer.end()
                self._note_played()
            if self.audio_out is not None and take.data:
                self._write(take.response_id, self.audio_out / f"{_safe(take.response_id)}.wav")
        elif type_ == Server.input_audio_buffer_speech_started:
            self.barge_in("speech_started")

    def _play(self, response_id: str, event: events.JSON, fmt: str) -> None:
        if self.player is None:
            return
        from realtime_cli.audio.playback import to_device

        buffer = self.player.buffer
        chunk = _delta_bytes(event)
        if chunk is None or response_id in self._stopped:
            return
        if buffer.response_id != response_id:
            self._note_played()  # the previous answer's meter: all it played before this one
            item_id = text(event.get("item_id")) or None
            buffer.start(response_id, item_id, count(event.get("content_index")))
        buffer.feed(to_device(chunk, fmt))

    def _note_played(self) -> None:
        """The response's meter: how much of its audio has been played so far (at its
        response.done, when the next answer starts playing, and when ``responses`` shows it)."""
        if self.player is None or self.shell.session is None:
            return
        buffer = self.player.buffer
        response = self.shell.session.tracker.responses.get(buffer.response_id or "")
        if response is not None:
            response.audio_played_ms = buffer.played_ms

    def barge_in(self, why: str) -> bool:
        """Stop playback now; cancel and truncate in the background. False if nothing played
        or was left to play."""
        if self.player is None or self.shell.session is None:
            return False
        buffer = self.player.buffer
        response_id, item_id, index = buffer.response_id, buffer.item_id, buffer.content_index
        tracker = self.shell.session.tracker
        response = tracker.responses.get(response_id or "")
        if response_id is None or (
            not buffer.playing and (response is None or not response.active)
        ):
            return False
        played = buffer.stop()  # at once: the rest of the buffered audio is dropped
        self._stopped.add(response_id)
        received = buffer.received_ms
        buffer.response_id = None
        if response is not None:
            response.audio_played_ms = played
        self.shell.say(
            f"barge-in ({why}): heard {played / 1000:.2f} s of {received / 1000:.2f} s received",
            "yellow",
        )
        self.shell.spawn(self._cut(response_id, item_id, index, played))
        return True

    async def _cut(self, response_id: str, item_id: str | None, index: int, played: int) -> None:
        session = self.shell.session
        if session is None:
            return
        response = session.tracker.responses.get(response_id)
        with contextlib.suppress(ConnectionLost, UsageError):
            if (
                response is not None
                and response.active
                and response_id not in self.shell.cancelling
            ):
                self.shell.cancelling.add(response_id)
                await self.shell.send(events.response_cancel(response_id), "barge-in")
            if played > 0 and item_id:
                truncate = {
                    "type": Client.conversation_item_truncate,
                    "item_id": item_id,
                    "content_index": index,
                    "audio_end_ms": played,
                }
                await self.shell.send(truncate, "barge-in")

    # -- the microphone ------------------------------------------------------------------------

    def status(self) -> str | None:
        """The toolbar's part: whether the mic is live, and its level."""
        if self.mic is None or not self.mic.live:
            return None
        return f"mic live {self.mic.level_db:.0f} dB"

    def toggle_mic(self) -> None:
        """Push-to-talk (Ctrl-T): start capturing, or stop and end the turn."""
        if self.mic is not None and self.mic.live:
            self.stop_mic()
        else:
            self.start_mic()

    def start_mic(self) -> None:
        """Stream the microphone as ``input_audio_buffer.append`` until ``stop_mic``; with
        server VAD the server takes the turns (hands-free), else stopping commits and asks for
        a response. ``RtcError`` (no extra, no device) is said in one line."""
        from realtime_cli.audio.capture import Mic
        from realtime_cli.session.audio_in import InputSetup

        session = self.shell.connected()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()

        def hand_over(chunk: bytes) -> None:  # the device's thread
            loop.call_soon_threadsafe(queue.put_nowait, chunk)

        mic = Mic(hand_over, self.device, self.mic_opener)
        try:
            mic.start()
        except RtcError as exc:
            raise UsageError(f"mic: {exc.message}") from None
        self.barge_in("push-to-talk")
        self.mic, self._mic_queue = mic, queue
        setup = InputSetup.of(session.tracker.session)
        how = "server VAD takes the turns" if setup.turn_detection else "Ctrl-T again to send"
        self.shell.say(f"mic live ({how})", "yellow")
        self.shell.spawn(self._stream_mic(queue, setup.format, setup.turn_detection is None))

    def stop_mic(self) -> None:
        if self.mic is not None:
            self.mic.stop()
        if self._mic_queue is not None:
            self._mic_queue.put_nowait(None)
            self._mic_queue = None
        self.shell.changed = True

    async def _stream_mic(self, queue: asyncio.Queue[bytes | None], fmt: str, commit: bool) -> None:
        from realtime_cli.audio.playback import RATE
        from realtime_cli.audio.resample import resample_stdlib
        from realtime_cli.session.audio_in import append_event

        session = self.shell.connected()
        sent_ms = 0.0
        with contextlib.suppress(ConnectionLost, UsageError):
            while (chunk := await queue.get()) is not None:
                if fmt != codecs.PCM:
                    chunk = codecs.encode(resample_stdlib(chunk, RATE, codecs.G711_RATE), fmt)
                await session.send(append_event(chunk), validate=False)
                sent_ms += codecs.duration_ms(len(chunk), fmt)
                self.shell.changed = True
            if not commit:
                return
            if sent_ms < MIN_TURN_MS:
                await self.shell.send({"type": Client.input_audio_buffer_clear}, "mic")
                self.shell.say(f"mic: {sent_ms:.0f} ms is too short to send; dropped", "yellow")
                return
            await self.shell.send({"type": Client.input_audio_buffer_commit}, "mic")
            await self.shell.send(events.response_create({}), "mic")

    # -- commands ----------------------------------------------------------------------------

    def _write(self, response_id: str, path: Path) -> None:
        from realtime_cli.audio.files import write_wav

        take = self.takes.get(response_id)
        if take is None or not take.data:
            raise UsageError(f"no audio kept for response {response_id!r}")
        try:
            write_wav(path, take.pcm16(), take.rate)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        self.shell.say(f"saved {path} ({take.ms / 1000:.2f} s, {take.rate} Hz)")


def _delta_bytes(event: events.JSON) -> bytes | None:
    import base64
    import binascii

    delta = event.get("delta")
    if not isinstance(delta, str):
        return None
    try:
        return base64.b64decode(delta, validate=True)
    except (binascii.Error, ValueError):
        return None


def _path(typed: str) -> Path:
    """A typed path, ``~`` expanded (os.path: no file system access, unlike Path.expanduser)."""
    return Path(os.path.expanduser(typed))


def _safe(response_id: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in response_id)


async def audio(shell: Shell, args: list[str], line: str) -> None:
    """``audio FILE [--fast]``: the file as the user's turn, streamed in real time."""
    from realtime_cli.audio.files import read_clip
    from realtime_cli.session.audio_in import InputSetup, send_turn

    values, rest = parse_args("audio", args)
    if not rest:
        raise UsageError("audio: which file? usage: audio FILE [--fast]")
    session = shell.connected()
    voice = Voice.of(shell)
    if voice.sending is not None and not voice.sending.done():
        raise UsageError("audio: a file is still being sent")
    clip = await asyncio.to_thread(read_clip, _path(rest[0]))
    setup = InputSetup.of(session.tracker.session)
    how = "then commit and respond" if setup.turn_detection is None else "server VAD decides"
    shell.say(f"sending {rest[0]} ({clip.ms / 1000:.2f} s) as {setup.format}; {how}")
    voice.barge_in("audio")

    async def send() -> None:
        with contextlib.suppress(ConnectionLost):
            await send_turn(session, clip, setup, fast=bool(values.get("--fast")))
            if setup.turn_detection is None:
                await shell.send(events.response_create({}), line)

    voice.sending = asyncio.ensure_future(send())
    shell.spawn(_wait(voice.sending))


async def _wait(task: asyncio.Task[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def save(shell: Shell, args: list[str], line: str) -> None:
    """``save RESPONSE_ID FILE.wav``: a finished response's audio as a WAV file."""
    _, rest = parse_args("save", args)
    if len(rest) != 2:
        raise UsageError("save: usage: save RESPONSE_ID FILE.wav")
    try:
        Voice.of(shell)._write(rest[0], _path(rest[1]))
    except UsageError as exc:
        raise UsageError(f"save: {exc.message}") from None


async def play(shell: Shell, args: list[str], line: str) -> None:
    """``play RESPONSE_ID``: play a response's audio again (needs the audio extra)."""
    from realtime_cli.audio.playback import to_device

    _, rest = parse_args("play", args)
    if not rest:
        raise UsageError("play: which response? usage: play RESPONSE_ID")
    voice = Voice.of(shell)
    take = voice.takes.get(rest[0])
    if take is None or not take.data:
        raise UsageError(f"play: no audio kept for response {rest[0]!r}")
    try:
        player = voice.open_player()
    except RtcError as exc:
        raise UsageError(f"play: {exc.message}") from None
    player.buffer.start(take.response_id, None)
    player.buffer.feed(to_device(bytes(take.data), take.format))
    player.buffer.end()
    shell.say(f"playing {take.response_id} ({take.ms / 1000:.2f} s)")


def meters(shell: Shell, responses: list[ResponseState]) -> None:
    """Under the ``responses`` table: the voice meters of responses that have them."""
    from realtime_cli.protocol.summary import voice_line
    from realtime_cli.render.panels import audio_seconds

    if isinstance(shell.voice, Voice):  # the answer playing now: what it has played so far
        shell.voice._note_played()
    for response in responses:
        line = voice_line(response, audio_seconds(response) * 1000)
        if line:
            shell.say(f"{response.id} · {line}")


async def mic(shell: Shell, args: list[str], line: str) -> None:
    """``mic [on|off]``: toggle (or set) the microphone; Ctrl-T does the same."""
    _, rest = parse_args("mic", args)
    voice = Voice.of(shell)
    live = voice.mic is not None and voice.mic.live
    wanted = rest[0] if rest else ("off" if live else "on")
    if wanted not in ("on", "off"):
        raise UsageError(f"mic: say on or off, not {wanted!r}")
    if wanted == "on" and not live:
        voice.start_mic()
    elif wanted == "off" and live:
        voice.stop_mic()
        shell.say("mic off")


HANDLERS = {"audio": audio, "save": save, "play": play, "mic": mic}
