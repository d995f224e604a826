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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

from realtime_cli.closed_pipe import Guarded, StdoutClosed, silence
from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.errors import ConnectionLost, ExitCode, UsageError
from realtime_cli.protocol import events
from realtime_cli.protocol.create_grammar import prompt_events
from realtime_cli.protocol.events import JSON, Server
from realtime_cli.protocol.meters import Meter, measure, session_model
from realtime_cli.protocol.response_options import checked, checked_sets
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
from realtime_cli.session.handlers import DEFAULT_TIMEOUT, Handlers
from realtime_cli.session.last_exchange import item_events, save
from realtime_cli.session.recording import Recorder
from realtime_cli.session.stop import Stopped, on_stop_signals

if TYPE_CHECKING:
    from realtime_cli.audio.files import Clip
    from realtime_cli.audio.playback import Player
    from realtime_cli.audio.takes import Takes
    from realtime_cli.protocol.tool_loop import ToolCall
    from realtime_cli.render import EventRows, RichConsole
    from realtime_cli.session.audio_in import TurnWatch
    from realtime_cli.session.tool_driver import Step, ToolDriver

# With server VAD, how long rtc waits after the audio (and its trailing silence) for the server
# to commit the turn before committing it itself.
VAD_COMMIT_GRACE = 2.0

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
    # None: the panel on stdout on a terminal, on stderr otherwise (stdout is the answer alone,
    # for `> file` and `$(...)`); "text": no panel at all; "panel": the panel on stdout always.
    output: str | None = None
    token_delay_ms: float = 20
    record: Recorder | None = None  # --record: every event both ways, as it happens
    audio_in: Path | None = None  # --audio-in: the user's turn is this file, spoken
    audio_out: Path | None = None  # --audio-out: the response's audio as a WAV file
    fast: bool = False  # --audio-in without real-time pacing
    play: bool = False  # --play: live playback through the audio extra
    # The tool loop (--tool-handler): with handlers, calls are answered and followed up until a
    # response ends without calls; the exit code is the final response's.
    handlers: Handlers = field(default_factory=Handlers)
    max_tool_rounds: int = 10
    tool_timeout: float | None = DEFAULT_TIMEOUT
    tool_approve: bool = False
    summary_json: bool = False  # --summary-json: stdout is one JSON object, at the end
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

    def clip(self) -> Clip | None:
        """The --audio-in file read whole, before anything is connected (exit 2 if it cannot
        be); --audio-out's folder checked too."""
        if self.audio_out is not None and not self.audio_out.parent.is_dir():
            parent = self.audio_out.parent
            raise UsageError(f"--audio-out: {parent} is not a directory")
        if self.audio_in is None:
            return None
        from realtime_cli.audio.files import read_clip

        return read_clip(self.audio_in)


class _Line:
    """Whether the answer streamed to stdout still awaits its newline. ``end`` gives it one, so
    whatever follows (a notice on stderr, the panel, ``cli.main``'s error line) starts on a line
    of its own instead of after ``partial answer``."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.open = False
        self.pending: list[str] = []  # streamed text not yet written (see _Run.flush)

    def wrote(self, text: str) -> None:
        if text:
            self.open = not text.endswith("\n")

    def write_pending(self) -> None:
        """Write the text streamed since the last write: one write (and one ``clean``) per
        burst of deltas instead of one per delta."""
        if self.pending:
            text = clean("".join(self.pending))
            self.pending.clear()
            self.stream.write(text)
            self.wrote(text)

    def end(self) -> None:
        with contextlib.suppress(StdoutClosed, OSError, ValueError):
            self.write_pending()
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
        if not job.json_output and not job.summary_json:
            from realtime_cli.render import make_console

            self.console = make_console(job.stderr, stderr=True)

    def __call__(self, line: str, style: str | None = None) -> None:
        self.line.end()
        if self.console is not None:
            self.console.print(line, style=style, markup=False)  # file names may hold [ ]
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
        self._flush_scheduled = False
        self._closed: StdoutClosed | None = None
        self.noted: set[str] = set()  # causes of events set aside, each said once
        self.player: Player | None = None
        self.driver: ToolDriver | None = None
        self.loop_exceeded = False

    def _written(self) -> None:
        """Flush once the loop has nothing more at hand, not once per event: a burst of queued
        events costs one write, yet a pause shows everything that came before it."""
        if self._closed is not None:
            raise self._closed
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._flush_scheduled = False
        try:
            self.say.line.write_pending()
            self.job.stdout.flush()
        except StdoutClosed as exc:  # raised by the next write, in the run
            self._closed = exc
        except (OSError, ValueError):
            pass

    def open_player(self) -> None:
        """--play: the device, or one line saying why not (the answer still streams)."""
        from realtime_cli.audio.playback import Player
        from realtime_cli.errors import RtcError

        try:
            self.player = Player.open()
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
        if self.job.summary_json:  # one object at the end; errors as notices meanwhile
            error = received.update.error
            if error is not None:
                self.say(f"rtc: {error.code or 'error'}: {error.message}")
            return
        if self.job.json_output:
            text = received.text if "\n" not in received.text else events.encode(received.event)
            self.job.stdout.write(text + "\n")
            self._written()
            return
        if self.rows:
            self.rows.server(received.event, received.t)
        update = received.update
        self.odd(received)
        if update.error:
            self.say.error(update.error)
        elif update.delta and not self.rows and update.response is self.response:
            self.say.line.pending.append(update.delta)
            self._written()

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
            if self.say.console is not None:
                self.say.line.end()
                self.say.console.print(line)
            else:
                self.say(line.plain)

    async def approve(self, call: ToolCall) -> bool:
        """--tool-approve: ask on stderr, read the answer from the terminal (or stdin)."""
        self.say(f"rtc: run the handler for {call.name} with {call.arguments}? [y/N]")
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
        self.flush()
        if self._closed is not None:
            raise self._closed
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


def _read_answer() -> str:
    """A line from the terminal when there is one (stdin may carry something else)."""
    try:
        with open("/dev/tty", encoding="utf-8") as tty:
            return tty.readline()
    except OSError:
        return sys.stdin.readline()


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
    say = _Say(job, _Line(job.stdout))
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


async def _create(job: CreateJob, say: _Say, clip: Clip | None = None) -> ExitCode:
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
                    code = task.result()
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
