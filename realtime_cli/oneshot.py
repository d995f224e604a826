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
    Received,
    Session,
    open_session,
)
from realtime_cli.session.handlers import DEFAULT_TIMEOUT, Handlers
from realtime_cli.session.recording import Recorder

if TYPE_CHECKING:
    from realtime_cli.protocol.tool_loop import ToolCall
    from realtime_cli.render import EventRows, RichConsole
    from realtime_cli.render.tool_steps import StepLine
    from realtime_cli.session.tool_driver import Step, ToolDriver


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
    # The tool loop (--tool-handler): with handlers, calls are answered and followed up until a
    # response ends without calls; the exit code is the final response's.
    handlers: Handlers = field(default_factory=Handlers)
    max_tool_rounds: int = 10
    tool_timeout: float | None = DEFAULT_TIMEOUT
    tool_approve: bool = False
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
    def __init__(self, job: CreateJob, session: Session, say: _Say) -> None:
        self.job = job
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
        self.driver: ToolDriver | None = None
        self.loop_exceeded = False

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
        if self.out is None or self.response is None:  # --json: the events are the output
            return
        from realtime_cli.render import response_panel

        if self.rows:
            self.rows.flush()
        self.say.line.end()
        self.out.print(response_panel(self.response))

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
        tracker = self.session.tracker
        while self.response is None or self.response.active or self._loop_owes():
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
                    received = await self.session.receive()
                    self.show(received)
                    if received.update.type == Server.rate_limits_updated:
                        break

    def _loop_owes(self) -> bool:
        """The tool loop has calls of our response to answer, or a follow-up to send."""
        if self.driver is None or self.response is None:
            return False
        if self.driver.failure is not None:
            raise self.driver.failure
        return self.driver.busy

    def on_step(self, step: Step) -> None:
        from realtime_cli.render.tool_steps import step_text

        if step.kind == "exceeded":
            self.loop_exceeded = True
        if step.kind == "sent" and step.event and step.event.get("type") == "response.create":
            self.request_id = str(step.event.get("event_id"))
            self.response = None  # the follow-up's response is ours now
        if self.job.json_output and step.kind != "exceeded":
            return  # --json: the events on stdout show the loop
        line = step_text(step, max_rounds=self.job.max_tool_rounds)
        if line is not None:
            self.print_text(line)

    def print_text(self, line: StepLine) -> None:
        """A line of rtc's on stderr: styled for a person, plain with --json."""
        if self.say.console is not None:
            self.say.line.end()
            self.say.console.print(line)
        else:
            self.say(line.plain)

    async def approve(self, call: ToolCall) -> bool:
        """--tool-approve: ask on stderr, read y/N from stdin (a closed stdin declines)."""
        from realtime_cli.render.tool_steps import approval_text

        self.print_text(approval_text(call.name, call.arguments))
        answer = await asyncio.to_thread(_read_answer)
        return answer.strip().lower() in ("y", "yes")

    def start_tool_loop(self) -> None:
        if not self.job.handlers:
            return
        from realtime_cli.protocol.tool_loop import ToolLoop
        from realtime_cli.session.tool_driver import ToolDriver

        self.driver = ToolDriver(
            self.session,
            self.job.handlers,
            ToolLoop(self.job.max_tool_rounds),
            timeout=self.job.tool_timeout,
            approve=self.approve if self.job.tool_approve else None,
            report=self.on_step,
            answer_unhandled=True,
        )

    async def run(self) -> ExitCode:
        self.start_tool_loop()
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
            if self.driver is not None:  # Ctrl-C or a timeout: no handler outlives the run
                await self.driver.aclose()
        self.finish_panel()
        return self.exit_code()

    async def _cancel_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.cancel()


def _read_answer() -> str:
    """A line from stdin (``rtc create`` reads nothing else from it); at its end: no."""
    return sys.stdin.readline()


async def run_create(job: CreateJob) -> ExitCode:
    """Run one ``rtc create``. Ctrl-C cancels the response, waits briefly, and exits 130. A
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
    async with open_session(
        job.endpoint,
        announce=lambda line: say(line, style="dim"),
        on_first=first.append,
        token_delay_ms=job.token_delay_ms,
        open_timeout=min(15.0, job.timeout or 15.0),
        record=job.record,
    ) as session:
        run = _Run(job, session, say)
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
            if run.driver is not None and run.driver.busy:  # a handler at work: kill it now
                say("rtc: interrupted: stopping the tool handlers")
                await run.driver.stop()
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
