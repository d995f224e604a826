"""``rtc create``: send one ``response.create``, follow it to ``response.done``, exit with a code
scripts can trust (see ``errors.ExitCode`` and the README's table).

Output: in ``--json`` mode stdout carries every server frame as received, one per line, and
nothing else. Otherwise the answer streams to stdout as it arrives and a panel follows at
``response.done``; ``--events`` prints a compact row per server event instead of the stream.
Human messages (notices, errors) always go to stderr. ``--json`` never loads rich: the renderers
are imported only where a person's view is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, cast

from realtime_cli.closed_pipe import Guarded, StdoutClosed, silence
from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.errors import ConnectionLost, ExitCode
from realtime_cli.protocol import events
from realtime_cli.protocol.events import JSON, Server
from realtime_cli.protocol.response_options import checked
from realtime_cli.protocol.tracker import ErrorInfo, ResponseState
from realtime_cli.safe_text import clean
from realtime_cli.session.client import (
    CANCEL_GRACE,
    RATE_LIMITS_GRACE,
    TIMED_OUT_CLOSE,
    Received,
    Session,
    open_session,
)
from realtime_cli.session.recording import Recorder
from realtime_cli.session.stop import Stopped, on_stop_signals

if TYPE_CHECKING:
    from realtime_cli.render import EventRows, RichConsole

_KNOWN = frozenset(Server)
_TEXT_DELTAS = (Server.response_output_text_delta, Server.response_output_audio_transcript_delta)


@dataclass
class CreateJob:
    endpoint: Endpoint
    response: JSON
    prompt: str | None = None
    event_id: str | None = None
    cancel_after: float | None = None
    timeout: float | None = None
    json_output: bool = False
    show_events: bool = False
    token_delay_ms: float = 20
    record: Recorder | None = None  # --record: every event both ways, as it happens
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)

    def client_events(self) -> list[JSON]:
        """The events to send, validated before anything is connected (exit 2 if invalid)."""
        sent = []
        if self.prompt is not None:
            sent.append(checked(events.item_create(events.user_message(self.prompt))))
        sent.append(checked(events.response_create(self.response, self.event_id)))
        return sent


class _Line:
    """Whether the answer streamed to stdout still awaits its newline. ``end`` gives it one, so
    whatever follows (a notice on stderr, the panel, ``cli.main``'s error line) starts on a line
    of its own instead of after ``partial answer``."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.open = False

    def wrote(self, text: str) -> None:
        if text:
            self.open = not text.endswith("\n")

    def end(self) -> None:
        if self.open:
            self.open = False
            with contextlib.suppress(StdoutClosed, OSError, ValueError):
                self.stream.write("\n")
                self.stream.flush()


class _Say:
    """rtc's notices on stderr. With ``--json`` they are plain lines and rich is never loaded;
    otherwise a rich console prints them (styled, and errors the way the live views show them).
    A line of streamed answer on stdout is ended first."""

    def __init__(self, job: CreateJob, line: _Line) -> None:
        self.line = line
        self.stream = job.stderr
        self.console: RichConsole | None = None
        if not job.json_output:
            from realtime_cli.render import make_console

            self.console = make_console(job.stderr, stderr=True)

    def __call__(self, line: str, style: str | None = None) -> None:
        self.line.end()
        if self.console is not None:
            self.console.print(line, style=style)
        else:
            self.stream.write(line + "\n")
            self.stream.flush()

    def error(self, error: ErrorInfo) -> None:
        if self.console is None:  # --json shows errors as the events they are, on stdout
            return
        from realtime_cli.render import error_text

        self.line.end()
        self.console.print(error_text(error))


class _Run:
    def __init__(self, job: CreateJob, session: Session, say: _Say, started: float) -> None:
        self.job = job
        self.started = started  # loop time before connecting
        self.session = session
        self.say = say
        self.out: RichConsole | None = None
        self.rows: EventRows | None = None
        if not job.json_output:  # a person's view: only now is rich loaded
            from realtime_cli.render import EventRows, make_console

            self.out = make_console(job.stdout)
            self.rows = EventRows(self.out) if job.show_events else None
        self.request_id = ""
        self.response: ResponseState | None = None
        self.we_cancelled = False
        self.answered_with_error = False
        self.noted: set[str] = set()  # causes of events set aside, each said once

    def show(self, received: Received) -> None:
        if self.job.json_output:
            text = received.text if "\n" not in received.text else events.encode(received.event)
            self.job.stdout.write(text + "\n")
            self.job.stdout.flush()
            return
        if self.rows:
            self.rows.server(received.event, received.t)
        update = received.update
        self.odd(received)
        if update.error:
            self.say.error(update.error)
        elif update.delta and not self.rows and update.response is self.response:
            text = clean(update.delta)
            self.job.stdout.write(text)
            self.job.stdout.flush()
            self.say.line.wrote(text)

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
        if self.out is None or self.response is None:  # --json: the events are the output
            return
        from realtime_cli.render import response_panel

        if self.rows:
            self.rows.flush()
        self.say.line.end()
        self.out.print(response_panel(self.response))

    def exit_code(self) -> ExitCode:
        response = self.response
        if self.answered_with_error or response is None:
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
        """Read events until our response is done (and its rate_limits.updated, briefly)."""
        tracker = self.session.tracker
        while self.response is None or self.response.active:
            received = await self.session.receive()
            if self.response is None:
                self.response = tracker.response_for_request(self.request_id)
            update = received.update
            if update.error and update.error.event_id and update.error.cause:
                self.answered_with_error = True
                if update.error.event_id == self.request_id:
                    self.show(received)
                    return  # the response.create was rejected: no response will come
            self.show(received)
        with contextlib.suppress(TimeoutError, ConnectionLost):
            async with asyncio.timeout(RATE_LIMITS_GRACE):
                while True:
                    received = await self.session.receive()
                    self.show(received)
                    if received.update.type == Server.rate_limits_updated:
                        break

    async def run(self) -> ExitCode:
        for event in self.job.client_events():
            sent = await self.session.send(event)
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
        self.finish_panel()
        return self.exit_code()

    async def _cancel_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.cancel()


async def run_create(job: CreateJob) -> ExitCode:
    """Run one ``rtc create``. Ctrl-C cancels the response, waits briefly, and exits 130
    (SIGTERM: 143, SIGHUP: 129). A
    stdout closed by its reader (``| head -1``) ends the run quietly, exit 0."""
    job.client_events()  # validate before connecting: nothing is sent for an invalid request
    # One choke point for what rtc prints: whatever a server echoes (an error event naming the
    # key), no secret of the endpoint reaches stdout or stderr.
    scrubbed = job.endpoint.scrubbed
    stdout = Guarded(scrubbed(job.stdout))
    job = dataclasses.replace(job, stdout=cast(IO[str], stdout), stderr=scrubbed(job.stderr))
    say = _Say(job, _Line(job.stdout))
    try:
        return await _create(job, say)
    except StdoutClosed:
        return ExitCode.OK
    except BaseException:  # ConnectionLost, say: cli.main's line must not follow the answer
        say.line.end()
        raise
    finally:
        if stdout.closed_by_reader:
            silence(stdout)


async def _create(job: CreateJob, say: _Say) -> ExitCode:
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
        run = _Run(job, session, say, started)
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
                        return task.result()
                    except ConnectionLost as exc:  # no silent reconnect: say what is unfinished
                        message = exc.message + run.unfinished()
                        raise ConnectionLost(message, exc.code, exc.reason) from None
                # Ctrl-C (or SIGTERM, SIGHUP) is a user action: cancel the response and wait
                # briefly for its done.
                say(f"rtc: {stopped.word}: cancelling the response")
                await run.cancel()
                # The run prints the cancelled response's panel itself if its done arrives in
                # time.
                with contextlib.suppress(TimeoutError, ConnectionLost, StdoutClosed):
                    async with asyncio.timeout(CANCEL_GRACE):
                        await asyncio.shield(task)
                return stopped.code
            finally:
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, ConnectionLost):
                        await task
