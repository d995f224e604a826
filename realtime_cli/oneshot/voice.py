"""``rtc create`` with voice: audio in as the user's turn, live playback, audio out."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from realtime_cli.protocol import events
from realtime_cli.protocol.events import Server
from realtime_cli.protocol.tracker import ResponseState
from realtime_cli.session.client import (
    Received,
    Session,
)

if TYPE_CHECKING:
    from realtime_cli.audio.files import Clip
    from realtime_cli.audio.playback import Player
    from realtime_cli.audio.takes import Takes
    from realtime_cli.oneshot.job import CreateJob
    from realtime_cli.oneshot.say import Say
    from realtime_cli.session.audio_in import TurnWatch


# With server VAD, how long rtc waits after the audio (and its trailing silence) for the server
# to commit the turn before committing it itself.
VAD_COMMIT_GRACE = 2.0


class VoiceTurn:
    """The voice side of ``rtc create`` (a part of ``run.Run``): ``--audio-in`` sent as the
    user's turn (paced, with or without server VAD), ``--play`` and ``--audio-out``."""

    job: CreateJob
    session: Session
    say: Say
    response: ResponseState | None
    request_id: str
    clip: Clip | None
    watch: TurnWatch | None
    takes: Takes | None
    player: Player | None
    _next: asyncio.Future[Received] | None

    def show(self, received: Received) -> None:
        raise NotImplementedError  # run.Run shows what arrives

    def open_player(self) -> None:
        """--play: the device, or one line saying why not (the answer still streams)."""
        from realtime_cli.audio.playback import Player
        from realtime_cli.errors import RtcError

        try:
            self.player = Player.open(self.job.audio_device)
        except RtcError as exc:
            self.say(f"rtc: --play: {exc.message}", style="yellow")

    def _play(self, received: Received) -> None:
        from realtime_cli.audio.playback import to_device
        from realtime_cli.audio.takes import format_of

        assert self.player is not None
        event, response = received.event, received.update.response
        if response is None or (self.response is not None and response is not self.response):
            return
        if received.update.type == Server.response_output_audio_delta:
            delta = event.get("delta")
            buffer = self.player.buffer
            if buffer.response_id != response.id:
                buffer.start(response.id, None)
            if isinstance(delta, str):
                import base64

                fmt = format_of(response.raw) or "audio/pcm"
                buffer.feed(to_device(base64.b64decode(delta), fmt))
        elif received.update.finished:
            self.player.buffer.end()

    async def drain(self) -> None:
        """--play: let the audio play out (bounded by its length), then close the device."""
        if self.player is None:
            return
        buffer = self.player.buffer
        loop = asyncio.get_running_loop()
        deadline = loop.time() + buffer.received_ms / 1000 + 1.0
        # The device thread drains the buffer; polling it 20 times a second is enough here.
        while buffer.playing and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if self.response is not None and buffer.response_id == self.response.id:
            self.response.audio_played_ms = buffer.played_ms
        self.player.close()
        self.player = None

    def _our_response(self) -> ResponseState | None:
        if self.request_id or self.watch is None:
            return self.session.tracker.response_for_request(self.request_id)
        # Server VAD answered the turn itself: the response it started after its last commit.
        response_id = self.watch.auto_after_commit
        return self.session.tracker.responses.get(response_id) if response_id else None

    def _interrupted(self) -> bool:
        """Server VAD cancelled the response it started because the user spoke again: the
        turn goes on, and rtc follows the response to the next one."""
        response = self.response
        return (
            self.watch is not None
            and response is not None
            and not response.active
            and response.reason == "turn_detected"
        )

    async def _receive(self) -> Received:
        """The next server event; a receive the audio phase started is picked up, not lost."""
        pending, self._next = self._next, None
        if pending is not None:
            return await pending
        return await self.session.receive()

    async def _send_audio(self, clip: Clip) -> None:
        """Stream the --audio-in turn while showing what arrives, then end the turn. With server
        VAD that creates responses and no response options, the server decides: its VAD commits
        (rtc commits itself if it has not within VAD_COMMIT_GRACE) and rtc follows the response
        it starts for the last turn. Otherwise (no turn detection, response options given, or
        create_response off) the file is one turn: turn detection is switched off for this
        session, and rtc commits and sends its own response.create, so nothing races it."""
        from realtime_cli.session.audio_in import InputSetup, TurnWatch, send_turn

        setup = InputSetup.of(self.session.tracker.session)
        explicit = not setup.creates_response or bool(self.job.response)
        if setup.turn_detection is not None and explicit:
            update = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}
            await self.session.send({"type": events.Client.session_update, "session": update})
            setup = dataclasses.replace(setup, turn_detection=None)
        if not explicit:
            self.watch = TurnWatch()
        sender = asyncio.ensure_future(send_turn(self.session, clip, setup, fast=self.job.fast))
        try:
            await self._receive_while(sender)
        finally:
            if not sender.done():
                sender.cancel()
        sender.result()
        if self.watch is not None:
            grace = asyncio.ensure_future(asyncio.sleep(VAD_COMMIT_GRACE))
            watch = self.watch
            await self._receive_while(grace, until=lambda: watch.commits > 0 and not watch.speaking)
            if not grace.done():
                grace.cancel()
            elif watch.commits == 0 or watch.speaking:
                await self.session.send({"type": events.Client.input_audio_buffer_commit})
                explicit = True
        if explicit:
            sent = await self.session.send(events.response_create(self.job.response))
            self.request_id = str(sent["event_id"])

    async def _receive_while(
        self, task: asyncio.Future[None], until: Callable[[], bool] = lambda: False
    ) -> None:
        """Show server events until ``task`` ends or ``until()`` holds."""
        while not task.done() and not until():
            if self._next is None:
                self._next = asyncio.ensure_future(self.session.receive())
            waited: set[asyncio.Future[object]] = {task, self._next}  # type: ignore[arg-type]
            await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
            if self._next.done():
                received, self._next = self._next.result(), None
                self.show(received)

    def write_audio(self) -> bool:
        """--audio-out: the response's audio as a WAV file; False (after saying why) if not."""
        path = self.job.audio_out
        if path is None or self.takes is None or self.response is None:
            return True
        from realtime_cli.audio.files import write_wav

        take = self.takes.get(self.response.id)
        if take is None or not take.data:
            self.say(f"rtc: --audio-out: response {self.response.id} has no audio; nothing written")
            return False
        try:
            write_wav(path, take.pcm16(), take.rate)
        except OSError as exc:
            self.say(f"rtc: --audio-out: cannot write {path}: {exc.strerror or exc}")
            return False
        if not self.job.json_output:
            self.say(f"rtc: wrote {path} ({take.ms / 1000:.2f} s, {take.rate} Hz)", style="dim")
        return True
