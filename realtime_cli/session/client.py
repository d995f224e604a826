"""A connected Realtime session, shared by ``rtc create``, the console and pipe mode.

``open_session`` connects to the selected endpoint (starting the built-in server in this event
loop when no endpoint is configured), waits for the first server event, and turns a fatal first
answer (``invalid_api_key`` then close 3000, ``invalid_model`` then close 4000, ...) into a
``ConnectError``. ``Session`` then sends validated client events with an ``event_id`` filled in
and reads server events, feeding the tracker, so every ``error`` can be tied to its cause.

No secret leaves here: every ``RtcError`` out of ``open_session`` (a handshake error whose body
echoes the Authorization header, a close reason, ...) goes through ``Endpoint.scrub``, and the
observers of sent events (recording, the console's log) see MCP tokens redacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol

from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.errors import ConnectError, ConnectionLost, RtcError
from realtime_cli.protocol.events import (
    JSON,
    Client,
    FrameError,
    Server,
    encode,
    parse_server_frame,
)
from realtime_cli.protocol.redact import redact_tools
from realtime_cli.protocol.response_options import checked
from realtime_cli.protocol.tracker import Tracker, Update
from realtime_cli.session.transport import Transport


class Observer(Protocol):
    """What ``open_session(record=...)`` needs of a recorder: to be told of the new session
    (it hooks ``on_sent``/``on_frame``). A protocol, so this module does not import
    ``recording``, which reads and writes the files that record sessions of this module."""

    def attach(self, session: Session) -> None: ...


FATAL_CLOSE_CODES = (3000, 4000)
CANCEL_GRACE = 3.0  # how long Ctrl-C waits for a cancelled response's response.done
TIMED_OUT_CLOSE = 0.3  # the closing handshake's bound once --timeout has run out
RATE_LIMITS_GRACE = 0.5  # rate_limits.updated follows response.done by ~43 ms live
SESSION_EVENT_ID = "rtc_profile_session"  # the session.update of a profile's session settings
# After an error as the first event, how long to wait for what follows: the close of a fatal
# error (protocol.md §1.6) comes at once, and so does the session.created after a notice.
FIRST_ERROR_GRACE = 2.0


@dataclass
class Received:
    """One server frame: the text as it came, the parsed event, when, and what it changed."""

    text: str
    event: JSON
    t: float
    update: Update


class Session:
    """Sends and receives on one transport, keeping the tracker up to date.

    One task reads (``receive``) while others may send: websockets allows that.
    """

    def __init__(self, transport: Transport, endpoint: Endpoint, fill_ids: bool = True) -> None:
        self.transport = transport
        self.endpoint = endpoint
        self.tracker = Tracker()
        self.fill_ids = fill_ids
        self._started = time.monotonic()
        self._ids = itertools.count(1)
        # Every client event as sent and its text, a tool's authorization and headers redacted
        # (observers record and show it; the wire gets the event intact).
        self.on_sent: list[Callable[[JSON, str, float], None]] = []
        # Every server frame as received, with its parsed event (None if it is not one).
        self.on_frame: list[Callable[[str | bytes, JSON | None, float], None]] = []
        # Front ends replace this to show it; a bad frame never ends the session.
        self.on_bad_frame: Callable[[str], None] = lambda reason: None
        # How long the closing handshake may take; a front end out of time (--timeout) or
        # facing a stalled peer shortens it, so the close cannot overshoot the user's limit.
        self.close_timeout = 3.0

    def now(self) -> float:
        """Seconds since the connection opened: the clock of every timing rtc shows."""
        return time.monotonic() - self._started

    def next_event_id(self) -> str:
        return f"rtc_{next(self._ids)}"

    async def send(self, event: JSON, *, validate: bool = True) -> JSON:
        """Validate, fill in ``event_id``, send, and record. Returns the event as sent."""
        if validate:
            checked(event)  # first, so a rejected event does not use up an id
        if self.fill_ids and not event.get("event_id"):
            event = {**event, "event_id": self.next_event_id()}
        text = await self.transport.send(event)
        t = self.now()
        self.tracker.sent(event, t)
        # Only an event whose text names "tools" can hold one: the others are not walked.
        shown = redact_tools(event) if '"tools"' in text else event
        shown_text = text if shown is event else encode(shown)
        for hook in self.on_sent:
            hook(shown, shown_text, t)
        return event

    async def receive(self) -> Received:
        """The next server event. Frames that are not JSON objects are skipped with a notice
        through ``on_bad_frame``; a close raises ``ConnectionLost``."""
        while True:
            frame = await self.transport.recv()
            t = self.now()
            try:
                event = parse_server_frame(frame)
            except FrameError as exc:
                for frame_hook in self.on_frame:
                    frame_hook(frame, None, t)
                self.on_bad_frame(str(exc))
                continue
            for hook in self.on_frame:
                hook(frame, event, t)
            text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
            return Received(text, event, t, self.tracker.feed(event, t))

    async def close(self) -> None:
        await self.transport.close(1000, within=self.close_timeout)


async def _first_events(session: Session, wait: float) -> list[Received]:
    """The first server event; after an ``error``, every event up to the first that is not
    one. A close instead means the error was fatal: a ``ConnectError`` saying why."""
    where = session.endpoint.display
    try:
        async with asyncio.timeout(wait):
            received = [await session.receive()]
    except TimeoutError:
        raise ConnectError(f"{where}: no session.created within {wait:g}s") from None
    except ConnectionLost as exc:
        raise ConnectError(f"{where}: {exc.message}") from None
    if received[0].update.type != Server.error:
        return received
    # A fatal error comes right before the close (protocol.md §1.6): read on, through the
    # session (so what comes is tracked, recorded and shown), until the close says why or an
    # event that is not an error shows the session is alive.
    error = received[0].update.error
    message = f"{error.code or 'error'}: {error.message}" if error else "error"
    try:
        async with asyncio.timeout(min(FIRST_ERROR_GRACE, wait)):
            while received[-1].update.type == Server.error:
                received.append(await session.receive())
    except TimeoutError:
        pass  # errors and then quiet, but open: odd, yet the session is alive
    except ConnectionLost as exc:
        closed = f"close {exc.code}" if exc.code is not None else "closed without a close frame"
        raise ConnectError(f"{where}: {message} ({closed})") from None
    return received


async def _apply_session(session: Session, settings: JSON, wait: float) -> list[Received]:
    """Send a profile's default session settings and wait for ``session.updated``; the events
    received meanwhile are returned. A rejection ends the run: the user asked for them."""
    where = session.endpoint.display
    event = {"type": Client.session_update, "session": settings, "event_id": SESSION_EVENT_ID}
    await session.send(event)
    received: list[Received] = []
    try:
        async with asyncio.timeout(wait):
            while True:
                received.append(await session.receive())
                update = received[-1].update
                if update.type == Server.session_updated:
                    return received
                if update.error and update.error.event_id in (SESSION_EVENT_ID, None):
                    error = update.error
                    raise RtcError(
                        f"{where}: the server rejected the profile's session settings: "
                        f"{error.code or 'error'}"
                        + (f" ({error.param})" if error.param else "")
                        + f": {error.message}"
                    )
    except TimeoutError:
        raise ConnectError(f"{where}: no session.updated within {wait:g}s") from None
    except ConnectionLost as exc:
        raise ConnectError(f"{where}: {exc.message}") from None


@contextlib.asynccontextmanager
async def open_session(
    endpoint: Endpoint,
    *,
    announce: Callable[[str], None] = lambda line: None,
    on_first: Callable[[Received], None] = lambda received: None,
    token_delay_ms: float = 20,
    open_timeout: float = 15.0,
    fill_ids: bool = True,
    record: Observer | None = None,
) -> AsyncIterator[Session]:
    """Connect, wait for the first server event (handed to ``on_first``), yield the session.
    An endpoint with default session settings (a profile's ``session`` table) gets them as a
    ``session.update`` first; the events up to its ``session.updated`` go to ``on_first`` too.
    With ``record``, every event both ways is written to the recording from the first on.

    On exit the socket is closed with code 1000 (and the local server, if started, stopped).
    Every ``RtcError`` that leaves, connecting or later, has the endpoint's secrets scrubbed.
    """
    try:
        async with _opened(
            endpoint, announce, on_first, token_delay_ms, open_timeout, fill_ids, record
        ) as session:
            yield session
    except RtcError as exc:
        _scrub_error(exc, endpoint)
        raise  # the same exception (type, code, traceback), its text scrubbed


def _scrub_error(exc: RtcError, endpoint: Endpoint) -> None:
    """Scrub the endpoint's secrets from ``exc``'s message (and a close reason), in place: a
    server may echo the Authorization header in a handshake error or a close frame."""
    exc.message = endpoint.scrub(exc.message)
    exc.args = (exc.message,)
    if isinstance(exc, ConnectionLost):
        exc.reason = endpoint.scrub(exc.reason)


@contextlib.asynccontextmanager
async def _opened(
    endpoint: Endpoint,
    announce: Callable[[str], None],
    on_first: Callable[[Received], None],
    token_delay_ms: float,
    open_timeout: float,
    fill_ids: bool,
    record: Observer | None,
) -> AsyncIterator[Session]:
    async with contextlib.AsyncExitStack() as stack:
        if endpoint.url is None:
            # Imported here: commands that talk to a real endpoint never pay for the server.
            from realtime_cli.server.app import running

            server = await stack.enter_async_context(running(token_delay_ms=token_delay_ms))
            url = f"{server.url}?model={endpoint.model}"
            # Said whether chosen by default or by --local/a profile: the hint helps either way.
            announce(
                f"rtc: using the built-in local server at {server.url} "
                "(set OPENAI_API_KEY or --url for a real endpoint)"
            )
            endpoint = endpoint.with_url(url)
        assert endpoint.url is not None
        transport = await Transport.connect(
            endpoint.url,
            endpoint.headers,
            endpoint.subprotocols,
            open_timeout,
            endpoint.ping_interval,
            endpoint.ping_timeout,
        )
        session = Session(transport, endpoint, fill_ids)
        if record is not None:
            record.attach(session)
        stack.push_async_callback(session.close)
        for received in await _first_events(session, open_timeout):
            on_first(received)
        if endpoint.session:
            for received in await _apply_session(session, dict(endpoint.session), open_timeout):
                on_first(received)
        yield session
