"""Pipe mode: ``cat events.jsonl | rtc pipe | jq ...``.

Client events are read from stdin as they arrive, validated as ``rtc create`` does, and sent at
once, in order; directives (``{"rtc": "wait", ...}``) pause the input. stdout carries every server
event exactly as received, one per line, or with ``--pretty`` event rows and response panels.
When stdin ends, rtc waits until nothing is owed an answer (``pipecore.Ledger``), or the server
stays quiet for ``--idle-timeout``, then closes with code 1000. Parsing and rules live in
``pipecore`` (no I/O); this module owns stdin, the socket, stdout and the clock.

Exit codes, the highest that applies: 0 all good; 1 an ``error`` event (but the
``response_cancel_not_active`` race), a response ended other than ``completed`` (``cancelled``
is fine after a ``response.cancel`` in the input), a wait or timeout ran out; 2 some input was
rejected; 3 connect/auth failure (``ConnectError``); 4 connection lost mid-work; 130 Ctrl-C,
143 SIGTERM, 129 SIGHUP (each after cancelling the active responses).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from realtime_cli.closed_pipe import silence
from realtime_cli.errors import ConnectionLost, ExitCode, UsageError
from realtime_cli.pipe.job import PipeJob
from realtime_cli.pipe.ledger import (
    SERVER_TYPES,
    Ledger,
    Sleep,
    Wait,
    parse_directive,
    substitute,
)
from realtime_cli.pipe.output import Output
from realtime_cli.pipe.stdin_reader import StdinReader
from realtime_cli.protocol.events import (
    DELTA_TYPES,
    JSON,
    Server,
    ga_type,
    response_cancel,
)
from realtime_cli.protocol.json_reader import Bad, JsonStream
from realtime_cli.protocol.redact import redact_tools
from realtime_cli.protocol.schema import type_name
from realtime_cli.protocol.tool_loop import ToolLoop
from realtime_cli.protocol.validate import validate
from realtime_cli.session.client import (
    CANCEL_GRACE,
    RATE_LIMITS_GRACE,
    TIMED_OUT_CLOSE,
    Received,
    Session,
    open_session,
)
from realtime_cli.session.stop import Stopped, on_stop_signals
from realtime_cli.session.tool_driver import ToolDriver

if TYPE_CHECKING:
    from realtime_cli.audio.takes import Takes
    from realtime_cli.render import EventRows

# During a burst (events buffered faster than they are handled), let the other tasks and the
# timers run every this many events: websockets hands over buffered frames without yielding,
# and a loop that never cycles fires --idle-timeout late, or falsely, with answers queued.
YIELD_EVERY = 50
ORIGINS_KEPT = 10_000  # sent events whose input line an error can still name (the newest)
WINDOW_KEPT = 10_000  # deltas kept for a wait once this many events wait (others always are)


class _Run(Output):
    def __init__(self, job: PipeJob, session: Session, started: float) -> None:
        self.job, self.session = job, session
        self.loop = asyncio.get_running_loop()
        self.started = started  # loop time before connecting: --timeout counts from there
        self.ledger = Ledger()
        self.origins: dict[str, tuple[int, str]] = {}  # event_id -> input line, event type
        isatty = getattr(job.stdout, "isatty", lambda: False)()
        self.rows: EventRows | None = None
        if job.pretty or (job.pretty is None and isatty):  # a person's view: only now load rich
            from realtime_cli.render import EventRows, make_console

            self.rows = EventRows(make_console(job.stdout))
        # Server events since the last send, or since the one that satisfied the last wait.
        self.window: list[JSON] = []
        self.last_response: str | None = None
        self.dollars = False  # the input has had a "$" (or an escape): "$last_response" may come
        self.last_type = ""
        self.codes = {ExitCode.OK}
        self.input_done = asyncio.Event()  # the input loop ended (stdin's end, or cancelled)
        self.stdin_ended = False  # stdin really reached its end: all input was handled
        self.ended = asyncio.Event()
        self.lost: ConnectionLost | None = None
        self.until_hit = self.interrupted = self.broken_pipe = False
        self.stopped = Stopped()  # which stop signal (SIGINT, SIGTERM, SIGHUP) ended the run
        self._tick: asyncio.Future[None] = self.loop.create_future()
        self._flush_scheduled = False
        self.takes: Takes | None = None
        if job.audio_out is not None:
            from realtime_cli.audio.takes import Takes

            self.takes = Takes()
        self.tools: ToolDriver | None = None
        if job.handlers:
            self.tools = ToolDriver(
                session,
                job.handlers,
                ToolLoop(job.max_tool_rounds),
                timeout=job.tool_timeout,
                report=self.on_tool_step,
                answer_unhandled=True,
            )

    @property
    def settled(self) -> bool:
        """Nothing owed: no answer from the server, and no call of the tool loop."""
        return self.ledger.settled and not (self.tools is not None and self.tools.busy)

    # -- receiving ------------------------------------------------------------------------------

    def on_event(self, received: Received) -> None:
        if self.until_hit:  # nothing after the --until event reaches stdout
            return
        event, update = received.event, received.update
        self.show(received)
        if self.takes is not None:
            self._keep_audio(event, update.finished)
        unexpected = self.ledger.received(event)
        if update.error:
            self.report_error(update.error)
        if update.type == Server.response_created and update.response:
            self.last_response = update.response.id
        if unexpected and update.response:
            line = self.ledger.lines.get(update.response.id)
            where = f"line {line}: " if line else ""
            reason = f" ({update.response.reason})" if update.response.reason else ""
            self.note(f"rtc: {where}{update.response.id} ended {update.response.status}{reason}")
            self.codes.add(ExitCode.FAILED)
        # Kept for a wait in the input: bounded (a million deltas would not be), yet a wait for
        # what ends a response (anything but a delta) still finds it.
        window_full = len(self.window) >= WINDOW_KEPT and update.type in DELTA_TYPES
        if not self.input_done.is_set() and not window_full:
            self.window.append(event)
        self.last_type = update.type
        if self.job.until and update.type == ga_type(self.job.until):
            self.until_hit = True
            self.ended.set()
        if self.tools is not None:
            self.tools.feed(received)
        self._wake()

    def _wake(self) -> None:
        tick, self._tick = self._tick, self.loop.create_future()
        tick.set_result(None)

    @property
    def idle(self) -> float | None:
        """--idle-timeout in seconds; 0 means no limit (wait as long as work is owed)."""
        return self.job.idle_timeout or None

    async def arrival(self, seconds: float | None) -> bool:
        """Wait for the next server event; False if ``seconds`` pass first."""
        tick = self._tick
        try:
            async with asyncio.timeout(seconds):
                await asyncio.shield(tick)
        except TimeoutError:
            return tick.done()  # an event came in the same loop cycle as the deadline
        return True

    async def receive_loop(self) -> None:
        count = 0
        try:
            # Stops at the --until event itself: frames already queued behind it are never
            # printed, however late the main task wakes to end the run.
            while not self.until_hit:
                self.on_event(await self.session.receive())
                count += 1
                if count % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
        except ConnectionLost as exc:
            self.lost = exc
            self.ended.set()

    # -- sending --------------------------------------------------------------------------------

    def reject(self, line: int, column: int, reason: str) -> bool:
        self.note(f"rtc: line {line}, column {column}: {reason}")
        self.codes.add(ExitCode.USAGE)
        return not self.job.strict

    async def handle(self, item: Any) -> bool:
        """Send one input event or run one directive; False to stop reading (--strict)."""
        if isinstance(item, Bad):
            return self.reject(item.line, item.column, item.reason)
        line, column, value = item.line, item.column, item.value
        if not isinstance(value, dict):
            kind = type_name(value)
            return self.reject(line, column, f"expected a client event (an object), got {kind}")
        try:
            # Only input that may say "$last_response" is walked for it (see input_loop).
            value = substitute(value, self.last_response) if self.dollars else value
            directive = parse_directive(value) if "rtc" in value else None
        except (LookupError, ValueError) as exc:
            return self.reject(line, column, str(exc))
        if isinstance(directive, Sleep):
            await asyncio.sleep(directive.seconds)
            return True
        if isinstance(directive, Wait):
            return await self.wait(directive, line)
        problem = validate(value)
        if problem:
            return self.reject(line, column, f"invalid {value.get('type', 'event')}: {problem}")
        # Cleared before sending: an answer may arrive while send() is still awaiting.
        self.window.clear()
        sent = await self.session.send(value, validate=False)
        if isinstance(sent.get("event_id"), str):
            self.origins[sent["event_id"]] = (line, str(sent["type"]))
            if len(self.origins) > ORIGINS_KEPT:
                del self.origins[next(iter(self.origins))]
        self.ledger.sent(sent, line)
        if self.rows:
            self.rows.client(redact_tools(sent), self.session.now())  # no MCP token shown
        return True

    async def wait(self, wait: Wait, line: int) -> bool:
        deadline = None if wait.timeout is None else self.loop.time() + wait.timeout
        scanned = 0
        while True:
            for index in range(scanned, len(self.window)):
                if wait.matches(self.window[index]):
                    del self.window[: index + 1]
                    return True
            scanned = len(self.window)
            # Without a timeout the wait fails when the server stays silent for --idle-timeout.
            left = self.idle if deadline is None else deadline - self.loop.time()
            if (left is not None and left <= 0) or not await self.arrival(left):
                limit = self.job.idle_timeout if wait.timeout is None else wait.timeout
                self.note(f"rtc: line {line}: no {wait.describe()} within {limit:g}s")
                self.codes.add(ExitCode.FAILED)
                return not self.job.strict

    async def input_loop(self, reader: StdinReader) -> None:
        stream = JsonStream()
        count = 0
        try:
            while True:
                text = await reader.get()
                # "$" written as a JSON escape is "\u0024": either may start a "$last_response".
                if text is not None and ("$" in text or "\\u" in text):
                    self.dollars = True
                for item in stream.feed(text) if text is not None else stream.close():
                    if not await self.handle(item):
                        return
                    count += 1
                    if count % YIELD_EVERY == 0:  # the answers are read while input pours in
                        await asyncio.sleep(0)
                if text is None:
                    self.stdin_ended = True
                    if reader.error:
                        self.note(f"rtc: {reader.error}")
                        self.codes.add(ExitCode.USAGE)
                    return
        except ConnectionLost as exc:
            self.lost = exc
            self.ended.set()
        finally:
            self.input_done.set()
            self.window.clear()

    # -- ending ---------------------------------------------------------------------------------

    def owed(self) -> str:
        waiting = self.ledger.describe()
        return f"; still owed: {', '.join(waiting)}" if waiting else ""

    async def finish(self) -> None:
        """Once stdin has ended: wait until nothing is owed, or the server goes quiet."""
        await self.input_done.wait()
        while not self.settled:
            # A running handler has its own --tool-timeout: the server is not idle meanwhile.
            running = self.tools is not None and self.tools.busy and self.ledger.settled
            if not await self.arrival(None if running else self.idle):
                idle = self.job.idle_timeout
                self.note(f"rtc: nothing from the server for {idle:g}s{self.owed()}")
                self.codes.add(ExitCode.FAILED)
                self.ended.set()
                return
        if self.last_type == Server.response_done:  # keep the turn's rate_limits.updated
            deadline = self.loop.time() + RATE_LIMITS_GRACE
            while self.last_type != Server.rate_limits_updated:
                left = deadline - self.loop.time()
                if left <= 0 or not await self.arrival(left):
                    break
        self.ended.set()

    async def interrupt(self) -> None:
        """Ctrl-C is a user action: cancel what is running, wait briefly for it to end."""
        active = len(self.ledger.active)
        word = self.stopped.word
        self.note(f"rtc: {word}{f': cancelling {active} response(s)' if active else ''}")
        for response_id in list(self.ledger.active):
            with contextlib.suppress(ConnectionLost):
                self.ledger.sent(await self.session.send(response_cancel(response_id)))
        deadline = self.loop.time() + CANCEL_GRACE
        while self.ledger.active and self.lost is None:
            left = deadline - self.loop.time()
            if left <= 0 or not await self.arrival(left):
                break

    async def run(self, first: list[Received], reader: StdinReader) -> ExitCode:
        """Three sibling tasks, all cancelled here at the end (each is safe to cancel: receiving
        loses no frame, and a send cut short is followed by the close anyway)."""
        tasks: list[asyncio.Future[None]] = []
        # Before any output; a signal during the shutdown below just ends it the same way.
        with on_stop_signals(self.loop, self.stopped, self._on_stop):
            try:
                for received in first:
                    self.on_event(received)
                for work in (self.receive_loop(), self.input_loop(reader), self.finish()):
                    tasks.append(asyncio.ensure_future(work))
                    tasks[-1].add_done_callback(
                        self._on_task_done
                    )  # a bug ends the run, raised below
                timeout = self.job.timeout
                async with asyncio.timeout_at(None if timeout is None else self.started + timeout):
                    await self.ended.wait()
            except TimeoutError:
                self.note(f"rtc: timed out after {self.job.timeout:g}s{self.owed()}")
                self.session.close_timeout = TIMED_OUT_CLOSE  # a stalled peer must not add 3 s
                self.codes.add(ExitCode.FAILED)
            finally:
                if len(tasks) > 1:
                    tasks[1].cancel()  # the input loop first: send nothing more
                if self.tools is not None:
                    await self.tools.aclose()  # no handler outlives the run
                if self.interrupted:
                    await self.interrupt()
                for task in tasks:
                    task.cancel()
                results = await asyncio.gather(*tasks, return_exceptions=True)
                reader.stop()
                if self.rows:
                    self.rows.flush()
                self._flush()
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result
        # The input loop is also "done" when cancelled at shutdown: only stdin's real end counts.
        finished = self.until_hit or (self.stdin_ended and self.settled)
        if self.lost is not None and not (finished or self.interrupted or self.broken_pipe):
            self.note(f"rtc: {self.lost.message}{self.owed()}")
            self.codes.add(ExitCode.LOST)
        return self.stopped.code if self.interrupted else max(self.codes)

    def _on_task_done(self, task: asyncio.Future[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.ended.set()

    def _on_stop(self) -> None:
        self.interrupted = True
        self.ended.set()


async def run_pipe(job: PipeJob) -> ExitCode:
    """Run pipe mode. Connect/auth failures raise ``ConnectError`` (exit 3, via ``cli.main``)."""
    if job.until is not None and job.until not in SERVER_TYPES:
        raise UsageError(f"--until: unknown server event type {job.until!r}")
    # One choke point for what rtc prints: whatever a server echoes (an error event naming the
    # key), no secret of the endpoint reaches stdout or stderr.
    scrubbed = job.endpoint.scrubbed
    job = dataclasses.replace(job, stdout=scrubbed(job.stdout), stderr=scrubbed(job.stderr))
    first: list[Received] = []
    started = asyncio.get_running_loop().time()

    def say(prefix: str) -> Callable[[str], None]:
        return lambda text: print(prefix + text, file=job.stderr)

    async with open_session(
        job.endpoint,
        announce=say(""),
        on_first=first.append,
        token_delay_ms=job.token_delay_ms,
        open_timeout=min(15.0, job.timeout or 15.0),
        fill_ids=job.event_ids,
        record=job.record,
    ) as session:
        session.on_bad_frame = say("rtc: skipped a server frame: ")
        reader = StdinReader(job.stdin)
        reader.start()
        run = _Run(job, session, started)
        code = await run.run(first, reader)
    if run.broken_pipe:
        silence(job.stdout)  # Python would report the broken pipe again at exit
    return code
