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
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

from realtime_cli.closed_pipe import Guarded, StdoutClosed, silence
from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.errors import ConnectionLost, ExitCode
from realtime_cli.protocol import events
from realtime_cli.protocol.create_grammar import prompt_events
from realtime_cli.protocol.events import JSON, Server
from realtime_cli.protocol.response_options import checked, checked_sets
from realtime_cli.protocol.tracker import ErrorInfo, ResponseState
from realtime_cli.safe_text import clean
from realtime_cli.session.client import (
    CANCEL_GRACE,
    RATE_LIMITS_GRACE,
    Received,
    Session,
    open_session,
)
from realtime_cli.session.last_exchange import item_events, save
from realtime_cli.session.recording import Recorder

if TYPE_CHECKING:
    from realtime_cli.render import EventRows, RichConsole


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
    # None: the panel on stdout on a terminal, on stderr otherwise (stdout is the answer alone,
    # for `> file` and `$(...)`); "text": no panel at all; "panel": the panel on stdout always.
    output: str | None = None
    token_delay_ms: float = 20
    record: Recorder | None = None  # --record: every event both ways, as it happens
    history: list[JSON] = field(default_factory=list)  # -c: earlier messages, re-created first
    keep: Path | None = None  # where this exchange is kept for the next -c (None: nowhere)
    raw: bool = False  # --raw: send without validating (beta servers, newer fields)
    set_paths: list[str] = field(default_factory=list)  # what --set wrote (may be unknown)
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)

    def client_events(self) -> list[JSON]:
        """The events to send, validated before anything is connected (exit 2 if invalid)."""
        return self.checked_events()[0]

    def checked_events(self) -> tuple[list[JSON], list[str]]:
        """The events, and a warning for each field that ``--set`` wrote and rtc does not know
        (sent anyway); any other problem is a ``UsageError``. ``--raw`` checks nothing."""
        made = [*item_events(self.history)]
        made += prompt_events(self.prompt, self.response, self.event_id)
        if self.raw:
            return made, []
        warnings = []
        for event in made:
            if event["type"] == events.Client.response_create:
                warnings += checked_sets(event, self.set_paths)
            else:
                checked(event)
        return made, warnings

    def kept(self, answer: str) -> list[JSON]:
        """The conversation so far, plus this exchange: what the next ``-c`` re-creates."""
        added = [{"role": "user", "text": self.prompt}] if self.prompt is not None else []
        added += [{"role": "assistant", "text": answer}] if answer else []
        return [*self.history, *added]


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
    def __init__(self, job: CreateJob, session: Session, say: _Say) -> None:
        self.job = job
        self.session = session
        self.say = say
        self.out: RichConsole | None = None
        self.rows: EventRows | None = None
        self.panels: RichConsole | None = None  # where the final panel goes, if anywhere
        if not job.json_output:  # a person's view: only now is rich loaded
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

    def show(self, received: Received) -> None:
        if self.job.json_output:
            text = received.text if "\n" not in received.text else events.encode(received.event)
            self.job.stdout.write(text + "\n")
            self.job.stdout.flush()
            return
        if self.rows:
            self.rows.server(received.event, received.t)
        update = received.update
        if update.error:
            self.say.error(update.error)
        elif update.delta and not self.rows and update.response is self.response:
            text = clean(update.delta)
            self.job.stdout.write(text)
            self.job.stdout.flush()
            self.say.line.wrote(text)

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
            self.panels.print(response_panel(self.response, streamed=streamed))

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
            sent = await self.session.send(event, validate=False)  # checked_events did
            if sent["type"] == events.Client.response_create:
                self.request_id = str(sent["event_id"])
        # --cancel-after: a task this run owns. The finally below cancels it and waits for it,
        # whichever way the run ends (done first, timed out, or cancelled itself on Ctrl-C), so
        # it never outlives the run and an error in it is raised here, not lost.
        canceller = None
        if self.job.cancel_after is not None:
            canceller = asyncio.ensure_future(self._cancel_after(self.job.cancel_after))
        try:
            async with asyncio.timeout(self.job.timeout):
                await self.follow()
        except TimeoutError:
            self.say(f"rtc: timed out after {self.job.timeout:g}s waiting for response.done")
            await self.cancel()
            return ExitCode.FAILED
        finally:
            if canceller is not None:
                canceller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await canceller
        self.finish_panel()
        code = self.exit_code()
        if self.job.keep is not None and code == ExitCode.OK and self.response is not None:
            save(self.job.keep, self.job.kept(self.response.answer))
        return code

    async def _cancel_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.cancel()


async def run_create(job: CreateJob) -> ExitCode:
    """Run one ``rtc create``. Ctrl-C cancels the response, waits briefly, and exits 130. A
    stdout closed by its reader (``| head -1``) ends the run quietly, exit 0."""
    # Validate before connecting: nothing is sent for an invalid request.
    _, warnings = job.checked_events()
    for warning in warnings:
        job.stderr.write(f"rtc: warning: {warning}\n")
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
    async with open_session(
        job.endpoint,
        announce=lambda line: say(line, style="dim"),
        on_first=first.append,
        token_delay_ms=job.token_delay_ms,
        open_timeout=min(15.0, job.timeout or 15.0),
        record=job.record,
    ) as session:
        run = _Run(job, session, say)
        if run.rows is not None:  # --events: the events rtc sent get their rows too
            rows = run.rows
            session.on_sent.append(lambda event, _text, t: rows.client(event, t))
        session.on_bad_frame = lambda reason: say(f"rtc: skipped a server frame: {reason}")
        for received in first:
            run.show(received)
        task = asyncio.ensure_future(run.run())
        interrupted = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, interrupted.set)
        try:
            waiter = asyncio.ensure_future(interrupted.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if not interrupted.is_set():
                return task.result()
            # Ctrl-C is a user action: cancel the response and wait briefly for its done.
            say("rtc: interrupted: cancelling the response")
            await run.cancel()
            # The run prints the cancelled response's panel itself if its done arrives in time.
            with contextlib.suppress(TimeoutError, ConnectionLost, StdoutClosed):
                async with asyncio.timeout(CANCEL_GRACE):
                    await asyncio.shield(task)
            return ExitCode.INTERRUPTED
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionLost):
                    await task
