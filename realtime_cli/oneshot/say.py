"""Where ``rtc create`` writes for a person: the streamed answer's line on stdout, and notices
on stderr."""

from __future__ import annotations

import contextlib
from typing import IO, TYPE_CHECKING

from realtime_cli.closed_pipe import StdoutClosed
from realtime_cli.protocol.tracker import ErrorInfo
from realtime_cli.safe_text import clean

if TYPE_CHECKING:
    from realtime_cli.oneshot.job import CreateJob
    from realtime_cli.render import RichConsole


class Line:
    """Whether the answer streamed to stdout still awaits its newline. ``end`` gives it one, so
    whatever follows (a notice on stderr, the panel, ``cli.main``'s error line) starts on a line
    of its own instead of after ``partial answer``."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.open = False
        self.pending: list[str] = []  # streamed text not yet written (see run.Run)

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


class Say:
    """rtc's notices on stderr. With ``--json`` they are plain lines and rich is never loaded;
    otherwise a rich console prints them (styled, and errors the way the live views show them).
    A line of streamed answer on stdout is ended first."""

    def __init__(self, job: CreateJob, line: Line) -> None:
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
