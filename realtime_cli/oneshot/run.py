"""``rtc create``: send one ``response.create``, follow it to ``response.done``, exit with a code
scripts can trust (see ``errors.ExitCode`` and the README's table).

Output: in ``--json`` mode stdout carries every server frame as received, one per line, and
nothing else. Otherwise the answer streams to stdout as it arrives and a panel follows at
``response.done``; ``--events`` prints a compact row per server event instead of the stream.
Human messages (notices, errors) always go to stderr. ``--json`` never loads rich: the renderers
are imported only where a person's view is built."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import IO, TYPE_CHECKING, cast

from realtime_cli.closed_pipe import Batched, Guarded, StdoutClosed, silence
from realtime_cli.errors import ConnectionLost, ExitCode
from realtime_cli.protocol import events
from realtime_cli.protocol.events import JSON, Server
from realtime_cli.protocol.meters import Meter, measure, session_model
from realtime_cli.protocol.tracker import ResponseState
from realtime_cli.safe_text import clean
from realtime_cli.session.client import (
    CANCEL_GRACE,
    RATE_LIMITS_GRACE,
    TIMED_OUT_CLOSE,
    Received,
    Session,
    open_session,
)
from realtime_cli.session.last_exchange import save
from realtime_cli.session.stop import Stopped, on_stop_signals

if TYPE_CHECKING:
    from realtime_cli.audio.files import Clip
    from realtime_cli.audio.playback import Player
    from realtime_cli.audio.takes import Takes
    from realtime_cli.oneshot.job import CreateJob
    from realtime_cli.oneshot.say import Say
    from realtime_cli.render import EventRows, RichConsole
    from realtime_cli.session.audio_in import TurnWatch
    from realtime_cli.session.tool_driver import ToolDriver

from realtime_cli.oneshot.job import CreateJob
from realtime_cli.oneshot.say import Line, Say
from realtime_cli.oneshot.tool_loop import ToolSteps
from realtime_cli.oneshot.voice import VoiceTurn

_KNOWN = frozenset(Server)
_TEXT_DELTAS = (Server.response_output_text_delta, Server.response_output_audio_transcript_delta)


class Run(VoiceTurn, ToolSteps):
    def __init__(self, job: CreateJob, session: Session, say: Say, started: float) -> None:
        self.job = job
        self.started = started  # loop time before connecting
        self.session = session
        self.say = say
        self.out: RichConsole | None = None
        self.rows: EventRows | None = None
        self.panels: RichConsole | None = None  # where the final panel goes, if anywhere
        if not job.json_output and not job.summary_json:  # a person's view: rich loaded now
            from realtime_cli.render import EventRows, make_console

            self.out = make_console(job.stdout)
            self.rows = EventRows(self.out) if job.show_events else None
            self.panels = self.out
            if job.output == "text" and not job.show_events:
                self.panels = None
            elif job.output is None and not job.show_events and not self.out.is_terminal:
                self.panels = make_console(job.stderr, soft_wrap=False)
        self.request_id = ""
        self.response: ResponseState | None = None
        self.we_cancelled = False
        self.answered_with_error = False
        self.clip: Clip | None = None
        self.watch: TurnWatch | None = None  # --audio-in with server VAD: what the server did
        self.takes: Takes | None = None
        if job.audio_out is not None:
            from realtime_cli.audio.takes import Takes

            self.takes = Takes()
        self._next: asyncio.Future[Received] | None = None
        self.batched = Batched(job.stdout, say.line.write_pending)
        self.noted: set[str] = set()  # causes of events set aside, each said once
        self.player: Player | None = None
        self.driver: ToolDriver | None = None
        self.loop_exceeded = False

    def show(self, received: Received) -> None:
        if self.player is not None:
            self._play(received)
        if self.takes is not None:
            self.takes.feed(received.event)
        if self.watch is not None:
            requested = received.update.response is not None and bool(
                received.update.response.request_event_id
            )
            self.watch.feed(received.event, received.t, requested)
            if self.response is None or self._interrupted():  # its answer streams as it comes
                self.response = self._our_response()
        if self.job.summary_json:  # one object at the end; errors as notices meanwhile
            error = received.update.error
            if error is not None:
                self.say(f"rtc: {error.code or 'error'}: {error.message}")
            return
        if self.job.json_output:
            text = received.text if "\n" not in received.text else events.encode(received.event)
            self.job.stdout.write(text + "\n")
            self.batched.written()
            return
        if self.rows:
            self.rows.server(received.event, received.t)
        update = received.update
        self.odd(received)
        if update.error:
            self.say.error(update.error)
        elif update.delta and not self.rows and update.response is self.response:
            self.say.line.pending.append(update.delta)
            self.batched.written()

    def odd(self, received: Received) -> None:
        """One line, once per cause, for a server event rtc set aside: a delta for a response
        that is done or was never announced, an event of a type rtc does not know."""
        type_ = received.update.type
        event = received.event
        if type_ not in _KNOWN:
            cause = f"unknown server event type {type_!r}"
        elif type_ in _TEXT_DELTAS and received.update.response is None:
            response_id = event.get("response_id")
            if not isinstance(response_id, str):
                cause = f"{type_} without a response_id"
            elif response_id in self.session.tracker.responses:
                cause = f"{type_} for {response_id} after its response.done"
            else:
                cause = f"{type_} for {response_id}, a response never announced"
        else:
            return
        if cause not in self.noted:
            self.noted.add(cause)
            self.say(f"rtc: ignored {clean(cause)}")

    def unfinished(self) -> str:
        """What a lost connection left undone, for its one line."""
        if self.response is None:
            return "; the response.create was sent, no response.created came"
        received = len(self.response.answer)
        return f"; {self.response.id} unfinished ({received} characters received)"

    def finish_panel(self) -> None:
        if self.response is None or self.out is None:  # --json: the events are the output
            return
        from realtime_cli.render import response_panel

        if self.rows:
            self.rows.flush()
        self.say.line.end()
        if self.panels is not None:
            # On one screen the streamed answer is right above: a long one is not repeated.
            streamed = self.rows is None and (self.panels is self.out or self.panels.is_terminal)
            self.panels.print(response_panel(self.response, self.meter(), streamed=streamed))

    def meter(self) -> Meter | None:
        if self.response is None:
            return None
        tracker, endpoint = self.session.tracker, self.session.endpoint
        model = session_model(tracker.session, endpoint.model)
        return measure(self.response, model, endpoint.prices)

    def write_summary(self, code: ExitCode) -> None:
        """``--summary-json``: one JSON object on stdout (status, timings, usage, cost)."""
        if not self.job.summary_json:
            return
        meter, response = self.meter(), self.response
        summary: JSON = {"exit_code": int(code)}
        if meter is None or response is None:
            errors = self.session.tracker.errors
            summary |= {"status": "error", "error": errors[-1].raw if errors else None}
        else:
            summary |= meter.as_json()
            summary |= {"reason": response.reason, "usage": response.usage}
            summary["text"] = response.answer
        self.job.stdout.write(events.encode(summary) + "\n")
        self.job.stdout.flush()

    def exit_code(self) -> ExitCode:
        response = self.response
        if self.answered_with_error or response is None or self.loop_exceeded:
            return ExitCode.FAILED
        if response.status == "completed":
            return ExitCode.OK
        if response.status == "cancelled" and self.we_cancelled:
            return ExitCode.OK
        return ExitCode.FAILED

    async def cancel(self) -> None:
        response_id = self.response.id if self.response else None
        if self.response is None or self.response.active:
            self.we_cancelled = True
            with contextlib.suppress(ConnectionLost):
                await self.session.send(events.response_cancel(response_id))

    async def follow(self) -> None:
        """Read events until our response is done (and its rate_limits.updated, briefly). With
        handlers, "our response" moves along the chain of follow-ups until one ends without
        calls (or the loop stops at --max-tool-rounds)."""
        if self.response is None:  # paced --audio-in: it may have come while audio was sent
            self.response = self._our_response()
        while (
            self.response is None
            or self.response.active
            or self._interrupted()
            or self._loop_owes()
        ):
            received = await self._receive()
            if self.response is None or self._interrupted():
                self.response = self._our_response()
            update = received.update
            if update.error and update.error.event_id and update.error.cause:
                self.answered_with_error = True
                if update.error.event_id == self.request_id:
                    self.show(received)
                    return  # the response.create was rejected: no response will come
            self.show(received)
            if self.driver is not None:
                finished = update.finished and update.response is self.response
                if finished and self.response is not None and self.response.function_calls:
                    self.finish_panel()  # each response of the chain gets its panel
                self.driver.feed(received)
                if self.loop_exceeded:
                    return
        with contextlib.suppress(TimeoutError, ConnectionLost):
            async with asyncio.timeout(RATE_LIMITS_GRACE):
                while True:
                    received = await self._receive()
                    self.show(received)
                    if received.update.type == Server.rate_limits_updated:
                        break

    async def run(self) -> ExitCode:
        self.start_tool_loop()
        made = self.job.client_events()
        if self.clip is not None:
            # All but the response.create, which follows the audio turn (_send_audio).
            for event in made[:-1]:
                await self.session.send(event, validate=False)
            await self._send_audio(self.clip)
            made = []
        for event in made:
            sent = await self.session.send(event, validate=False)  # checked_events did
            if sent["type"] == events.Client.response_create:
                self.request_id = str(sent["event_id"])
        # --cancel-after: a task this run owns. The finally below cancels it and waits for it,
        # whichever way the run ends (done first, timed out, or cancelled itself on Ctrl-C), so
        # it never outlives the run and an error in it is raised here, not lost.
        canceller = None
        if self.job.cancel_after is not None:
            canceller = asyncio.ensure_future(self._cancel_after(self.job.cancel_after))
        timeout = self.job.timeout
        try:
            # --timeout bounds the whole run, connecting included: counted from the start.
            async with asyncio.timeout_at(None if timeout is None else self.started + timeout):
                await self.follow()
        except TimeoutError:
            self.say(f"rtc: timed out after {timeout:g}s waiting for response.done")
            self.session.close_timeout = TIMED_OUT_CLOSE  # a stalled peer must not add 3 s
            await self.cancel()
            return ExitCode.FAILED
        finally:
            if canceller is not None:
                canceller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await canceller
            if self._next is not None:
                self._next.cancel()
            if self.driver is not None:  # Ctrl-C or a timeout: no handler outlives the run
                await self.driver.aclose()
        self.batched.flush()
        self.batched.check()
        await self.drain()
        self.finish_panel()
        written = self.write_audio()
        code = self.exit_code()
        if self.job.keep is not None and code == ExitCode.OK and self.response is not None:
            save(self.job.keep, self.job.kept(self.response.answer))
        return code if written or code != ExitCode.OK else ExitCode.FAILED

    async def _cancel_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.cancel()


async def run_create(job: CreateJob) -> ExitCode:
    """Run one ``rtc create``. Ctrl-C cancels the response, waits briefly, and exits 130
    (SIGTERM: 143, SIGHUP: 129). A
    stdout closed by its reader (``| head -1``) ends the run quietly, exit 0."""
    # Validate before connecting: nothing is sent for an invalid request.
    _, warnings = job.checked_events()
    for warning in warnings:
        job.stderr.write(f"rtc: warning: {warning}\n")
    clip = job.clip()  # the --audio-in file read whole, or nothing is sent
    # One choke point for what rtc prints: whatever a server echoes (an error event naming the
    # key), no secret of the endpoint reaches stdout or stderr.
    scrubbed = job.endpoint.scrubbed
    stdout = Guarded(scrubbed(job.stdout))
    job = dataclasses.replace(job, stdout=cast(IO[str], stdout), stderr=scrubbed(job.stderr))
    say = Say(job, Line(job.stdout))
    try:
        return await _create(job, say, clip)
    except StdoutClosed:
        return ExitCode.OK
    except BaseException:  # ConnectionLost, say: cli.main's line must not follow the answer
        say.line.end()
        raise
    finally:
        if stdout.closed_by_reader:
            silence(stdout)


async def _create(job: CreateJob, say: Say, clip: Clip | None = None) -> ExitCode:
    first: list[Received] = []
    started = asyncio.get_running_loop().time()
    async with open_session(
        job.endpoint,
        announce=lambda line: say(line, style="dim"),
        on_first=first.append,
        token_delay_ms=job.token_delay_ms,
        open_timeout=min(15.0, job.timeout or 15.0),
        record=job.record,
    ) as session:
        run = Run(job, session, say, started)
        run.clip = clip
        if job.play:
            run.open_player()
        if run.rows is not None:  # --events: the events rtc sent get their rows too
            rows = run.rows
            session.on_sent.append(lambda event, _text, t: rows.client(event, t))
        session.on_bad_frame = lambda reason: say(f"rtc: skipped a server frame: {reason}")
        for received in first:
            run.show(received)
        task = asyncio.ensure_future(run.run())
        interrupted = asyncio.Event()
        stopped = Stopped()
        with on_stop_signals(asyncio.get_running_loop(), stopped, interrupted.set):
            try:
                waiter = asyncio.ensure_future(interrupted.wait())
                await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if not interrupted.is_set():
                    try:
                        code = task.result()
                    except ConnectionLost as exc:  # no silent reconnect: say what is unfinished
                        message = exc.message + run.unfinished()
                        raise ConnectionLost(message, exc.code, exc.reason) from None
                    run.write_summary(code)
                    return code
                # Ctrl-C (or SIGTERM, SIGHUP) is a user action: cancel the response and wait
                # briefly for its done.
                if run.player is not None:  # playback stops at once
                    run.player.buffer.stop()
                if run.driver is not None and run.driver.busy:  # a handler at work: kill it
                    say(f"rtc: {stopped.word}: stopping the tool handlers")
                    await run.driver.stop()
                say(f"rtc: {stopped.word}: cancelling the response")
                await run.cancel()
                # The run prints the cancelled response's panel itself if its done arrives in
                # time.
                with contextlib.suppress(TimeoutError, ConnectionLost, StdoutClosed):
                    async with asyncio.timeout(CANCEL_GRACE):
                        await asyncio.shield(task)
                run.write_summary(stopped.code)
                return stopped.code
            finally:
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, ConnectionLost):
                        await task
