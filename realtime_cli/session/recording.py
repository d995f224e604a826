"""Recordings: a session written as JSON Lines while it happens, and read back for replay/export.

The format (one JSON object per line)::

    {"rtc": "recording", "format": 1, "version": "0.1.0", "endpoint": "wss://…?model=…",
     "model": "gpt-realtime", "started": "2026-11-02T10:00:00.123+00:00", "audio": true}
    {"t": 0.0041, "dir": "server", "event": {"type": "session.created", …}}
    {"t": 0.0107, "dir": "client", "event": {"type": "response.create", "event_id": "rtc_1"}}
    {"t": 0.2, "dir": "server", "raw": "<a frame that was not a JSON event>"}

``t`` is seconds since the connection opened (``Session.now()``, the clock the tracker and the
live screen use, so a replay shows the same timings). A reconnect in the console writes another
header line carrying ``t``, and times stay counted from the first connection. The endpoint is the
redacted ``Endpoint.display``; headers are never written, every line goes through
``Endpoint.scrub`` as well, and a tool's ``authorization`` and ``headers`` values (an MCP
server's token, in ``session.update``, ``response.create`` or a server's echo of them) are
written redacted (``config.redact_tools``). Each line is flushed as it is written: a crash or a
dropped connection loses nothing already seen. ``audio: false`` (``--record-audio no``) means
output audio deltas were left out and ``input_audio_buffer.append`` events were written without
their ``audio``.

``read`` accepts these recordings and also plain JSON Lines of server events (GA or beta names),
or rows that wrap an event under ``event`` (like the conformance corpus); rows that hold no
usable event are skipped with a one-line notice naming the line, and a last line cut short (the
recorder was killed mid-write) ends the reading with a notice.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from realtime_cli import __version__
from realtime_cli.errors import UsageError
from realtime_cli.protocol.events import JSON, Client, Refused, Server, encode, ga_type, loads
from realtime_cli.protocol.redact import redact_tools

if TYPE_CHECKING:
    from realtime_cli.session.client import Session

FORMAT = 1
HEADER_KEY = "rtc"
HEADER_VALUE = "recording"
AUDIO_DROPPED_NOTE = (
    "audio not recorded (--record-audio no): output audio deltas were left out and "
    "input_audio_buffer.append events were written without their audio"
)
# A frame is written as received unless it spans lines (pretty JSON from some servers).
_NEWLINES = ("\n", "\r")


def _same(text: str) -> str:
    return text


def _warn_stderr(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class Recorder:
    """Writes one session (or several, across console reconnects) to a JSON Lines file.

    Attach it with ``open_session(..., record=recorder)``: it hooks ``Session.on_sent`` and
    ``Session.on_frame``, so every front end records the same way. A write that fails (disk
    full) stops the recording with one warning; the session itself goes on.

    Made with ``open(path)``, the file is created (or truncated) by the first line written, the
    header ``attach`` writes once connected: a run that ends before its session starts (a usage
    error, a failed connection) leaves an existing file as it was.
    """

    def __init__(
        self,
        file: IO[str] | None = None,
        *,
        audio: bool = True,
        warn: Callable[[str], None] = _warn_stderr,
        name: str = "the recording",
        path: Path | None = None,
    ) -> None:
        if file is None and path is None:
            raise ValueError("a Recorder needs a file or a path")
        self.file = file
        self.path = path  # opened at the first write, when ``file`` is None
        self.audio = audio
        self.warn = warn
        self.name = name
        self.lines = 0
        self.failed = False
        self._origin: float | None = None  # time.monotonic() at the first connection

    @classmethod
    def open(cls, path: Path, *, audio: bool = True) -> Recorder:
        """A recording into ``path``, created (or truncated) once the session starts. A path
        that cannot be written is a usage error now, before anything is connected."""
        problem = _unwritable(path)
        if problem:
            raise UsageError(f"--record: cannot write {path}: {problem}")
        return cls(audio=audio, name=str(path), path=path)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file. Never raises: a write that failed has been reported already (and
        closing would only fail again, flushing what it could not write), and any other
        failure here is one warning line."""
        if self.file is None or self.file.closed:
            return
        try:
            self.file.close()
        except (OSError, ValueError) as exc:
            if not self.failed:
                self.failed = True
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                self.warn(f"rtc: recording stopped: cannot write {self.name}: {reason}")

    # -- attaching to a session ------------------------------------------------------------------

    def attach(self, session: Session) -> None:
        """Write the header and record every event of ``session`` from now on."""
        elapsed = session.now()
        connected = time.monotonic() - elapsed
        if self._origin is None:
            self._origin = connected
        offset = connected - self._origin
        started = datetime.now(UTC) - timedelta(seconds=elapsed)
        header: JSON = {
            HEADER_KEY: HEADER_VALUE,
            "format": FORMAT,
            "version": __version__,
            "endpoint": session.endpoint.display,
            "model": session.endpoint.model,
            "started": started.isoformat(timespec="milliseconds"),
            "audio": self.audio,
        }
        if not self.audio:
            header["note"] = AUDIO_DROPPED_NOTE
        if self.lines:
            header["t"] = offset  # a new connection within the same recording
        scrub = session.endpoint.scrub
        self._write(json.dumps(header, ensure_ascii=False), scrub)

        def sent(event: JSON, text: str, t: float) -> None:
            self.client(event, text, t + offset, scrub)

        def received(frame: str | bytes, event: JSON | None, t: float) -> None:
            self.server(frame, event, t + offset, scrub)

        session.on_sent.append(sent)
        session.on_frame.append(received)

    # -- lines -----------------------------------------------------------------------------------

    def client(self, event: JSON, text: str, t: float, scrub: Callable[[str], str] = _same) -> None:
        if not self.audio and event.get("type") == Client.input_audio_buffer_append:
            event = {k: v for k, v in event.items() if k != "audio"}
            text = encode(event)
        shown = redact_tools(event)
        if shown is not event:  # the text as sent holds a tool's token
            event, text = shown, encode(shown)
        self._write(_envelope(t, "client", "event", _one_line(text, event)), scrub)

    def server(
        self, frame: str | bytes, event: JSON | None, t: float, scrub: Callable[[str], str] = _same
    ) -> None:
        if event is None:  # not a JSON event: kept as text, for the record
            raw = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
            self._write(_envelope(t, "server", "raw", json.dumps(raw, ensure_ascii=False)), scrub)
            return
        if not self.audio and ga_type(str(event["type"])) == Server.response_output_audio_delta:
            return
        text = frame if isinstance(frame, str) else encode(event)
        shown = redact_tools(event)
        if shown is not event:  # a server echoing a tool's token
            event, text = shown, encode(shown)
        self._write(_envelope(t, "server", "event", _one_line(text, event)), scrub)

    def _write(self, line: str, scrub: Callable[[str], str]) -> None:
        if self.failed:
            return
        try:
            if self.file is None:  # the first line: only now is the file created or emptied
                assert self.path is not None
                self.file = _create(self.path)
            self.file.write(scrub(line) + "\n")
            self.file.flush()
        except (OSError, ValueError) as exc:  # ValueError: the file was closed under us
            self.failed = True
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.warn(f"rtc: recording stopped: cannot write {self.name}: {reason}")
            return
        self.lines += 1


def _create(path: Path) -> IO[str]:
    """``path`` opened for writing, emptied; created with mode 0600 (owner only), since a
    recording holds the conversation. An existing file keeps its mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        return open(fd, "w", encoding="utf-8", newline="\n")
    except BaseException:
        os.close(fd)
        raise


def _unwritable(path: Path) -> str | None:
    """Why ``open(path, "w")`` would fail (as the system words it), or None. Nothing is
    created: the check for a file that does not exist yet is on its directory."""
    try:
        if path.is_dir():
            return os.strerror(errno.EISDIR)
        if path.exists():
            return None if os.access(path, os.W_OK) else os.strerror(errno.EACCES)
        directory = path.parent
        if not directory.exists():
            return os.strerror(errno.ENOENT)
        if not directory.is_dir():
            return os.strerror(errno.ENOTDIR)
        writable = os.access(directory, os.W_OK | os.X_OK)
        return None if writable else os.strerror(errno.EACCES)
    except OSError as exc:  # a name too long, a loop of links
        return exc.strerror or str(exc)


def _one_line(text: str, event: JSON) -> str:
    """The event's JSON as one line: the frame as received when it is one line already."""
    return encode(event) if any(n in text for n in _NEWLINES) else text.strip()


def _envelope(t: float, direction: str, key: str, value_json: str) -> str:
    return f'{{"t":{json.dumps(t)},"dir":"{direction}","{key}":{value_json}}}'


# -- reading ---------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One event of a recording: which line, when (None if the file has no times), which way."""

    line: int
    t: float | None
    direction: str  # "client" or "server"
    event: JSON


@dataclass
class Header:
    line: int
    fields: JSON

    @property
    def audio(self) -> bool:
        return self.fields.get("audio") is not False

    def describe(self) -> str:
        f = self.fields
        bits = [f"recorded {f.get('started', '?')}", str(f.get("endpoint", "?"))]
        bits += [str(f["model"])] if f.get("model") else []
        bits += [f"rtc {f['version']}"] if f.get("version") else []
        return " · ".join(bits)


Row = Entry | Header


def open_recording(path: Path) -> IO[str]:
    """Open a recording for reading; a missing or unreadable file is a usage error."""
    try:
        return path.open("r", encoding="utf-8", errors="replace", newline="\n")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def read(file: IO[str], notice: Callable[[str], None], name: str = "") -> Iterator[Row]:
    """The headers and events of a recording, in order; anything else gets one notice."""
    where = f"{name}: " if name else ""
    pending: tuple[int, str] | None = None
    for number, text in enumerate(file, 1):
        if pending is not None:
            yield from _row(*pending, notice, where)
        pending = (number, text)
    if pending is None:
        return
    number, text = pending
    if not text.endswith("\n") and not _parses(text):
        notice(f"rtc: {where}line {number}: cut short (the recording ended mid-line): ignored")
        return
    yield from _row(number, text, notice, where)


def _parses(text: str) -> bool:
    try:
        loads(text)
    except Refused:  # complete, but refused (NaN, nested too deeply): the row notice says why
        return True
    except ValueError:
        return False
    return True


def _row(number: int, text: str, notice: Callable[[str], None], where: str) -> Iterator[Row]:
    if not text.strip():
        return
    skip = f"rtc: {where}line {number}: skipped: "
    try:
        row: Any = loads(text)
    except Refused as exc:  # NaN, Infinity, 1e999, nested too deeply
        notice(skip + exc.reason)
        return
    except ValueError as exc:
        notice(skip + f"not JSON ({exc})")
        return
    if not isinstance(row, dict):
        notice(skip + "not a JSON object")
        return
    if row.get(HEADER_KEY) == HEADER_VALUE:
        yield Header(number, row)
        return
    t = row.get("t")
    t = float(t) if isinstance(t, int | float) and not isinstance(t, bool) else None
    if "dir" in row or "direction" in row or "event" in row:
        direction = row.get("dir", row.get("direction", "server"))
        if direction not in ("client", "server"):
            notice(skip + f"unknown direction {direction!r}")
            return
        if "event" not in row and "raw" in row:
            notice(skip + "a frame that was not a JSON event (kept as raw text)")
            return
        event = row.get("event")
    else:
        event, direction = row, "server"
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        notice(skip + ("no event" if event is None else "not an event with a string 'type'"))
        return
    if '"[Object]"' in text:
        notice(
            f'rtc: {where}line {number}: {event["type"]} holds "[Object]" placeholders '
            "(elided where it was captured): shown as far as it goes"
        )
    yield Entry(number, t, direction, event)
