"""``rtc replay FILE``: show a recording as the live session showed it.

The recorded events go through the same tracker and the same renderer as a live session (the
event rows of ``rtc create --events`` and the console's events view, an error line for every
``error``, a response panel at every ``response.done``), at the recorded pace (``--speed``,
``--instant``). Times are the recorded ones, so rows and panels show the live timings.
``--json`` prints the server events instead, one compact JSON object per line (at once, unless
``--speed`` asks for the pace), so a recording feeds ``jq`` like ``rtc pipe``'s output does.
Notices (skipped lines, a recording cut short) and the closing summary go to stderr.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from realtime_cli.closed_pipe import silence
from realtime_cli.errors import ExitCode, RtcError
from realtime_cli.protocol.events import encode
from realtime_cli.protocol.meters import measure, session_model
from realtime_cli.protocol.tracker import Tracker
from realtime_cli.render import EventRows, error_text, make_console, note, response_panel
from realtime_cli.safe_text import clean
from realtime_cli.session.recording import Entry, Header, Row, open_recording, read

MAX_PAUSE = 2.0  # seconds: the longest pause a replay makes


@dataclass
class ReplayJob:
    path: Path
    speed: float | None = None  # None: 1 for the rows, no pacing for --json
    instant: bool = False
    json_output: bool = False
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    sleep: Callable[[float], None] = time.sleep

    @property
    def pace(self) -> float | None:
        """The speed factor to sleep by, or None for no pacing."""
        if self.instant or (self.json_output and self.speed is None):
            return None
        return self.speed or 1.0


class _Player:
    def __init__(self, job: ReplayJob) -> None:
        self.job = job
        self.out = make_console(job.stdout)
        self.rows = EventRows(self.out)
        self.tracker = Tracker()
        self.pace = job.pace
        self.clock: float | None = None  # the recorded time of the last event shown
        self.counts = {"client": 0, "server": 0}
        self.headers = 0
        self.model: str | None = None  # the recording header's, for the meters

    def notice(self, message: str) -> None:
        self.job.stderr.write(clean(message) + "\n")  # it may name a recorded id or status
        self.job.stderr.flush()

    def play(self, row: Row) -> None:
        if isinstance(row, Header):
            self.header(row)
        else:
            self.wait_until(row.t)
            self.show(row)
            if self.pace is not None:
                self.job.stdout.flush()

    def header(self, header: Header) -> None:
        self.headers += 1
        model = header.fields.get("model")
        self.model = model if isinstance(model, str) else None
        name = self.job.path.name
        if self.headers == 1 and not any(self.counts.values()):
            self.notice(f"rtc: replaying {name}: {header.describe()}")
        elif not self.job.json_output:
            self.rows.flush()
            self.out.print(note(f"new connection: {header.describe()}"))
        if not header.audio:
            self.notice(f"rtc: {name} was recorded with --record-audio no: it holds no audio")

    def wait_until(self, t: float | None) -> None:
        if t is None:
            return
        if self.pace is not None and self.clock is not None and t > self.clock:
            # Long silences (someone thinking at the console) are shortened: the pace of the
            # events is what a replay is for.
            self.job.sleep(min((t - self.clock) / self.pace, MAX_PAUSE))
        self.clock = t

    def show(self, entry: Entry) -> None:
        self.counts[entry.direction] += 1
        t = entry.t if entry.t is not None else (self.clock or 0.0)
        event = entry.event
        if self.job.json_output:
            if entry.direction == "server":
                self.job.stdout.write(encode(event) + "\n")
            return
        # A mangled event is shown as far as it goes: the tracker and the renderer take any JSON.
        if entry.direction == "client":
            self.tracker.sent(event, t)
            self.rows.client(event, t)
            return
        update = self.tracker.feed(event, t)
        self.rows.server(event, t)
        if update.error:
            self.rows.flush()
            self.out.print(error_text(update.error), soft_wrap=True)  # one line, as live
        if update.finished and update.response:
            self.rows.flush()
            model = session_model(self.tracker.session, self.model)
            self.out.print(response_panel(update.response, measure(update.response, model)))

    def finish(self) -> None:
        if not self.job.json_output:
            self.rows.flush()
        self.job.stdout.flush()
        events = self.counts["client"] + self.counts["server"]
        if not events:
            raise RtcError(f"no events in {self.job.path}")
        if self.job.json_output:
            return
        statuses: dict[str, int] = {}
        for response in self.tracker.responses.values():
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.active:
                self.notice(f"rtc: {response.id} has no response.done in this recording")
        summary = f"rtc: replayed {_count(events, 'event')} ({self.counts['server']} server"
        summary += f", {self.counts['client']} client)"
        if statuses:
            each = ", ".join(f"{n} {status}" for status, n in statuses.items())
            summary += f" · {_count(len(self.tracker.responses), 'response')} ({each})"
        if self.tracker.errors:
            summary += f" · {_count(len(self.tracker.errors), 'error')}"
        self.notice(summary)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def run_replay(job: ReplayJob) -> ExitCode:
    """Replay ``job.path``. Exit 0 when it held events (skipped lines are notices, not failures);
    an unreadable file is a usage error (exit 2), a file with no event at all exit 1."""
    player = _Player(job)
    try:
        with open_recording(job.path) as file:
            for row in read(file, player.notice, job.path.name):
                player.play(row)
        player.finish()
    except BrokenPipeError:
        # The reader went away (`rtc replay f --json | head -1`): stop quietly, and keep Python
        # from reporting the broken pipe again when it flushes stdout at exit.
        silence(job.stdout)
    return ExitCode.OK
