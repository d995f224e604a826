"""What ``rtc pipe`` writes: server events on stdout (JSON lines, or rows and panels for a
person), notes and errors on stderr, each response's audio with ``--audio-out``, and the tool
loop's steps. A part of ``run._Run``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from realtime_cli.errors import ExitCode
from realtime_cli.pipe.ledger import (
    Ledger,
)
from realtime_cli.protocol.events import (
    JSON,
    encode,
)
from realtime_cli.protocol.tracker import ErrorInfo
from realtime_cli.safe_text import clean
from realtime_cli.session.client import (
    Received,
    Session,
)
from realtime_cli.session.tool_driver import Step

if TYPE_CHECKING:
    from realtime_cli.audio.takes import Takes
    from realtime_cli.pipe.job import PipeJob
    from realtime_cli.render import EventRows


class Output:
    job: PipeJob
    session: Session
    loop: asyncio.AbstractEventLoop
    ledger: Ledger
    origins: dict[str, tuple[int, str]]
    rows: EventRows | None
    codes: set[ExitCode]
    ended: asyncio.Event
    broken_pipe: bool
    takes: Takes | None
    _flush_scheduled: bool

    def _wake(self) -> None:
        raise NotImplementedError  # run._Run wakes its waiters

    def on_tool_step(self, step: Step) -> None:
        """A step of the tool loop: its sends are owed answers like the input's; a person's
        view shows every step, JSON output only failures (on stderr)."""
        if step.kind == "sent" and step.event is not None:
            self.ledger.sent(step.event)
        if step.kind == "exceeded":
            self.codes.add(ExitCode.FAILED)
        from realtime_cli.render.tool_steps import step_text

        line = step_text(step, max_rounds=self.job.max_tool_rounds)
        if line is not None and self.rows is not None:
            self.rows.flush()
            self.rows.console.print(line)
        elif line is not None and (step.kind == "exceeded" or (step.result and not step.result.ok)):
            self.note(line.plain if step.kind == "exceeded" else f"rtc: {line.plain}")
        self._wake()

    def note(self, line: str) -> None:
        # Lines may quote the server (error codes, messages): shown, never obeyed (safe_text).
        self.job.stderr.write(clean(self.session.endpoint.scrub(line)) + "\n")
        self.job.stderr.flush()

    def show(self, received: Received) -> None:
        try:
            if self.rows is None:
                text = received.text
                text = text if "\n" not in text else encode(received.event)
                self.job.stdout.write(text + "\n")
            else:
                self.rows.server(received.event, received.t)
                if received.update.finished and received.update.response:
                    from realtime_cli.protocol.meters import measure, session_model
                    from realtime_cli.render import response_panel

                    response, endpoint = received.update.response, self.session.endpoint
                    model = session_model(self.session.tracker.session, endpoint.model)
                    meter = measure(response, model, endpoint.prices)
                    self.rows.flush()
                    self.rows.console.print(response_panel(response, meter))
        except BrokenPipeError:
            self._broken()
        if not self._flush_scheduled:
            # Runs once the receive loop waits for the network: a burst of queued events is
            # written with one flush, yet `rtc pipe | jq` shows each event as it arrives.
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _keep_audio(self, event: JSON, finished: bool) -> None:
        """--audio-out DIR: a finished response's audio to DIR/<response id>.wav."""
        from realtime_cli.audio.takes import save

        assert self.takes is not None and self.job.audio_out is not None
        take = self.takes.feed(event)
        if finished and take is not None and take.data:
            try:
                path = save(take, self.job.audio_out)
            except OSError as exc:
                self.note(f"rtc: --audio-out: {exc.strerror or exc}")
                self.codes.add(ExitCode.FAILED)
                return
            self.note(f"rtc: wrote {path} ({take.ms / 1000:.2f} s, {take.rate} Hz)")

    def _flush(self) -> None:
        self._flush_scheduled = False
        try:
            self.job.stdout.flush()
        except BrokenPipeError:
            self._broken()

    def _broken(self) -> None:
        self.broken_pipe = True  # the reader of stdout went away (`| head -1`): stop quietly
        self.ended.set()

    def report_error(self, error: ErrorInfo) -> None:
        kind = "notice" if error.is_notice else "error"
        head = f"{kind} {error.code or error.type or 'error'}"
        head += f" ({error.param})" if error.param else ""
        where = f"{error.event_id}: " if error.event_id else ""
        if error.event_id in self.origins:
            line, type_ = self.origins[error.event_id]
            where = f"line {line} ({type_} {error.event_id}): "
        self.note(f"rtc: {where}{head}: {error.message}")
        if not error.is_notice:
            self.codes.add(ExitCode.FAILED)
