"""The console without its terminal: the connection, the event log, what arrives and what each
typed line does. ``repl.py`` wraps it in prompt-toolkit; tests drive it directly too.

Output goes to the injected rich console (scrollback). Nothing here renders per delta: a text
delta only updates the tracker and sets ``changed``, which the console's coalesced redraw reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from realtime_cli.console.event_log import LOG_SIZE, EventLog
from realtime_cli.console.extensions import BargeIn, Extension
from realtime_cli.console.parse import Chat, Command, RawEvents, classify
from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.errors import ConnectionLost, UsageError
from realtime_cli.protocol import events
from realtime_cli.protocol.events import DELTA_TYPES, JSON, Client, Server
from realtime_cli.protocol.fields import obj, seq, text
from realtime_cli.protocol.meters import Meter, Totals, measure, session_model
from realtime_cli.protocol.response_options import checked
from realtime_cli.protocol.tracker import ErrorInfo, ResponseState
from realtime_cli.render import (
    EventRows,
    RichConsole,
    error_line,
    note,
    print_json,
    print_row,
    response_panel,
)
from realtime_cli.session.client import Received, Session, open_session
from realtime_cli.session.recording import Recorder

# Answers that mean "what you sent worked": after one, the toolbar's last error is history.
_SUCCESSES = frozenset(
    {
        Server.response_created,
        Server.session_updated,
        Server.conversation_item_added,
        Server.conversation_item_deleted,
        Server.conversation_item_retrieved,
    }
)
PENDING_GRACE = 5.0  # how long a sent response.create counts as "about to be active"
PANEL_WIDTH = 120  # wider panels are mostly empty lines and long lines are hard to read
YIELD_EVERY = 50  # during a burst, let keystrokes and redraws in every this many events


def _bug(doing: str, exc: Exception) -> str:
    """The one line a bug in rtc gets in the console (no repr, no traceback): what failed."""
    return f"rtc: internal error while {doing} ({type(exc).__name__}); please report it"


def host(endpoint: Endpoint) -> str:
    """Where an endpoint is, in short and without secrets: its host and port."""
    return urlsplit(endpoint.display).netloc or endpoint.display


class Action(Enum):
    NONE = "none"
    QUIT = "quit"
    RECONNECT = "reconnect"
    CLEAR = "clear"


# A console command: the shell, the words after the command name, the line as typed.
Handler = Callable[["Shell", list[str], str], Awaitable[None]]


class Shell:
    """State and behaviour of one console. The command handlers live in ``actions`` (above
    this module: they use a ``Shell``) and are handed in as ``handlers``."""

    def __init__(
        self,
        endpoint: Endpoint,
        out: RichConsole,
        *,
        handlers: Mapping[str, Handler],
        view: str = "events",
        token_delay_ms: float = 20,
        log_size: int = LOG_SIZE,
        record: Recorder | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.handlers = handlers
        self.record = record  # --record: kept across reconnects, in one file
        # The scrollback minus the endpoint's secrets: whatever a server echoes or a user types,
        # no key reaches the screen (one choke point instead of every print).
        out.file = endpoint.scrubbed(out.file)
        self.out = out
        self.view = view
        self.token_delay_ms = token_delay_ms
        self.session: Session | None = None
        self.state = "disconnected"
        self.log = EventLog(log_size)
        self.rows = EventRows(out)
        self.last_error: ErrorInfo | None = None
        self.sent_since_error = False  # a later success clears the toolbar's last error
        self.lines: dict[str, str] = {}  # event_id → the console line that sent it
        self.cancelling: set[str] = set()
        self.pending_default: dict[str, float] = {}  # response.create event_id → when sent
        # What the screen around the prompt shows has changed: ``changed`` for streaming (redrawn
        # on the next tick), ``generation`` for everything else (redrawn at once).
        self.changed = True
        self.generation = 0
        self.closed_code: int | None = None
        self.totals = Totals()  # every finished response, across reconnects (protocol.meters)
        self._stack: contextlib.AsyncExitStack | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        # Voice (console/voice.py): told of every server event; the Voice object itself.
        self.listeners: list[Callable[[Received], None]] = []
        self.voice: BargeIn | None = None
        self.extensions: list[Extension] = []  # the tool loop (tool_calls.py)
        # Reconnecting (console/reconnect.py): the hook told of a lost connection (True: it
        # retries by itself), the first backoff delay, every session setting the user sent
        # (merged, sent again on a new session), the earlier session's text messages.
        self.on_lost: Callable[[ConnectionLost, Session], bool] | None = None
        self.reconnect_base = 0.5
        self.session_changes: JSON = {}
        self.earlier_items: list[tuple[str, str]] = []

    # -- output ---------------------------------------------------------------------------------

    def say(self, message: str, style: str = "dim") -> None:
        self.rows.flush()
        self.out.print(note(self.endpoint.scrub(message), style))

    def show_error(self, error: ErrorInfo) -> None:
        if not error.is_notice:
            self.last_error = error
            self.sent_since_error = False
        self.rows.flush()
        shown = dataclasses.replace(error, message=self.endpoint.scrub(error.message))
        self.out.print(error_line(shown, self.lines.get(error.event_id or "")))

    # -- connection -----------------------------------------------------------------------------

    async def connect(self) -> Session:
        """Open a session. The task that connects must be the one that calls ``disconnect``
        (``open_session`` is a context manager that may own the built-in server)."""
        self.state = "connecting"
        self.changed = True
        stack = contextlib.AsyncExitStack()
        first: list[Received] = []
        try:
            session = await stack.enter_async_context(
                open_session(
                    self.endpoint,
                    announce=self.say,
                    on_first=first.append,
                    token_delay_ms=self.token_delay_ms,
                    record=self.record,
                )
            )
        except BaseException:
            self.state = "disconnected"
            await stack.aclose()
            raise
        self._stack, self.session, self.state = stack, session, "connected"
        self.last_error = None  # the toolbar's last error was the old session's
        self.cancelling.clear()
        self.pending_default.clear()
        session.on_sent.append(self.on_sent)
        session.on_bad_frame = lambda why: self.say(f"skipped a server frame: {why}", "yellow")
        for extension in self.extensions:
            extension.connected(session)
        for received in first:
            self.on_received(received)
        self.rows.flush()
        print_row(self.out, note(self.banner(session), "bold"))
        return session

    def banner(self, session: Session) -> str:
        state = session.tracker.session or {}
        model = text(state.get("model")) or self.endpoint.model
        session_id = text(state.get("id")) or "no session id"
        return f"connected to {host(session.endpoint)} · {model} · type help · {session_id}"

    async def disconnect(self) -> None:
        """Close the socket with code 1000 (and stop the built-in server). Safe to repeat."""
        for task in list(self._tasks):
            task.cancel()
        for extension in self.extensions:
            await extension.disconnected()
        stack, self._stack = self._stack, None
        session = self.session
        if stack is not None:
            await stack.aclose()
        if session is not None:
            self.closed_code = session.transport.close_code
        self.state = "disconnected"
        self.changed = True

    async def receive_loop(self, session: Session) -> None:
        """Show server events until the connection closes. The console cancels this task on
        ``reconnect`` and on quit; that is safe (``Transport.recv`` loses no frame)."""
        count = 0
        try:
            while True:
                received = await session.receive()
                try:
                    self.on_received(received)
                except Exception as exc:  # last resort: a bug in rtc must not end the session
                    self.say(_bug(f"showing {received.update.type}", exc), "red")
                count += 1
                if count % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
        except ConnectionLost as exc:
            if self.session is not session:
                return
            # Every frame that came before the close has been shown: what is still active
            # now will never get its response.done.
            self.lose_active(session)
            said = self.state != "connected"  # already said by a send that failed (``execute``)
            self.state = "disconnected"
            self.changed = True
            # The terminal retries a recoverable close by itself (console/reconnect.py).
            retrying = self.on_lost is not None and self.on_lost(exc, session)
            if not said:
                offer = "" if retrying else " · type reconnect for a new session"
                self.say(
                    f"{exc.message} · responses, events and show still work{offer}", "bold red"
                )

    def lose_active(self, session: Session) -> None:
        """The connection is gone: its active responses end as ``lost``, each with a panel of
        the text it got so far (and ``responses`` says so)."""
        lost = session.tracker.lost(session.now())
        self.pending_default.clear()
        if lost:
            self.generation += 1
            self.changed = True
        for response in lost:
            self.cancelling.discard(response.id)
            self.print_panel(response)

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run a short job (a scheduled cancel) tied to this connection; cancelled on close."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- events both ways -----------------------------------------------------------------------

    def on_sent(self, event: JSON, text: str, t: float) -> None:
        self.log.append(t, "→", event, len(text))
        if self.view == "events":
            self.rows.client(event, t)

    def on_received(self, received: Received) -> None:
        try:
            self._on_received(received)
        finally:
            for extension in self.extensions:
                extension.received(received)

    def _on_received(self, received: Received) -> None:
        self.log.append(received.t, "←", received.event, len(received.text))
        for listener in self.listeners:
            listener(received)
        self.changed = True
        update = received.update
        if update.type not in DELTA_TYPES:
            self.generation += 1
        if update.error is not None:
            self.show_error(update.error)
            return
        if self.sent_since_error and update.type in _SUCCESSES:
            self.last_error = None  # what was typed after the error worked
        if self.view == "events":
            self.rows.server(received.event, received.t)  # render cleans every server string
        if update.finished and update.response is not None:
            self.cancelling.discard(update.response.id)
            meter = self.meter(update.response)
            self.totals.add(meter)
            self.print_panel(update.response, meter)
        elif update.type == Server.conversation_item_retrieved:
            self.rows.flush()
            print_json(self.out, received.event.get("item"))
        elif self.view == "responses":
            self._acknowledge(received.event, update.type)

    def meter(self, response: ResponseState) -> Meter:
        session = self.session
        model = session_model(session.tracker.session if session else None, self.endpoint.model)
        return measure(response, model, self.endpoint.prices)

    def print_panel(self, response: ResponseState, meter: Meter | None = None) -> None:
        """The panel of a response that ended (not in the quiet view)."""
        if self.view != "quiet":
            self.rows.flush()
            panel = response_panel(response, meter)
            self.out.print(panel, width=min(self.out.width, PANEL_WIDTH))

    def _acknowledge(self, event: JSON, type_: str) -> None:
        """In the responses view, a line for the answers to the console's own commands."""
        if type_ == Server.conversation_item_deleted:
            self.say(f"deleted {event.get('item_id')}")
        elif type_ == Server.session_updated:
            session = obj(event.get("session"))
            modalities = ",".join(text(m) for m in seq(session.get("output_modalities")))
            self.say(f"session updated · modalities={modalities}")

    # -- state the screen shows -----------------------------------------------------------------

    def active(self) -> list[ResponseState]:
        if self.session is None or self.state != "connected":
            return []
        return self.session.tracker.active

    def busy_default(self) -> str | None:
        """What keeps a new default-conversation response from starting, if anything."""
        if self.session is None:
            return None
        tracker = self.session.tracker
        response = tracker.active_default()
        if response is not None:
            return response.id
        now = time.monotonic()
        for event_id, t in list(self.pending_default.items()):
            answered = tracker.response_for_request(event_id) or tracker.error_for(event_id)
            if answered or now - t > PENDING_GRACE:
                del self.pending_default[event_id]
        return "a response just requested" if self.pending_default else None

    def cancellable(self) -> list[ResponseState]:
        return [r for r in self.active() if r.id not in self.cancelling]

    # -- typed lines ----------------------------------------------------------------------------

    async def execute(self, line: str) -> Action:
        """Do what one typed line says. Mistakes become one line of error, never a traceback."""
        try:
            for extension in self.extensions:
                if await extension.intercept(line):
                    return Action.NONE
            parsed = classify(line)
            if isinstance(parsed, Chat):
                await self.chat(parsed.text, line)
            elif isinstance(parsed, RawEvents):
                await self.send_all(parsed.events, line)
            elif isinstance(parsed, Command):
                if parsed.name == "quit":
                    return Action.QUIT
                if parsed.name == "reconnect":
                    return Action.RECONNECT
                if parsed.name == "clear":
                    return Action.CLEAR
                await self.handlers[parsed.name](self, parsed.args, line)
        except UsageError as exc:
            self.say(f"error: {exc.message}", "red")
        except ConnectionLost as exc:
            self.state = "disconnected"
            self.say(f"{exc.message}: type reconnect for a new session", "bold red")
        except Exception as exc:  # last resort: a bug in rtc must not end the console
            self.say(_bug("running that line", exc), "bold red")
        return Action.NONE

    def connected(self) -> Session:
        if self.session is None or self.state != "connected":
            raise UsageError("not connected: type reconnect to open a new session")
        return self.session

    async def send(self, event: JSON, line: str, *, validate: bool = True) -> JSON:
        """Validate, send, and remember which line sent it (errors name the line)."""
        sent = await self.connected().send(event, validate=validate)
        self.sent_since_error = self.last_error is not None
        if sent.get("type") == Client.session_update and isinstance(sent.get("session"), dict):
            merge_settings(self.session_changes, sent["session"])
        event_id = str(sent.get("event_id") or "")
        if event_id:
            self.lines[event_id] = line.strip()
            while len(self.lines) > LOG_SIZE:
                del self.lines[next(iter(self.lines))]
        if sent["type"] == events.Client.response_create:
            response = sent.get("response") or {}
            if response.get("conversation") != "none":
                self.pending_default[event_id] = time.monotonic()
        elif sent["type"] == events.Client.response_cancel and sent.get("response_id"):
            self.cancelling.add(str(sent["response_id"]))
        return sent

    async def send_all(self, to_send: list[JSON], line: str) -> None:
        """Raw events typed or pasted together: all valid before any is sent, then in order."""
        self.connected()
        for number, event in enumerate(to_send, 1):
            try:
                checked(event)
            except UsageError as exc:
                which = f"event {number}: " if len(to_send) > 1 else ""
                raise UsageError(which + exc.message) from None
        for event in to_send:
            await self.send(event, line)

    def guard(self, how: str) -> None:
        """One response at a time may write to the conversation (protocol.md §2.9). Not
        connected comes first: a response cut off by a lost connection answers nothing."""
        self.connected()
        busy = self.busy_default()
        if busy:
            raise UsageError(
                f"not sent: {busy} is still answering in the conversation; type cancel, or {how}"
            )

    async def chat(self, text: str, line: str) -> None:
        if self.voice is not None:
            self.voice.barge_in("message")  # a new message interrupts what is playing
        self.guard("use create '...' --conversation none (out-of-band) or --force")
        item = events.item_create(events.user_message(text))
        for event in (item, events.response_create()):
            await self.send(event, line)


def merge_settings(into: JSON, change: JSON) -> None:
    """A ``session.update``'s ``session`` merged into the settings so far (objects merged by
    key, anything else replaced), as the server applies an update."""
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge_settings(into[key], value)
        else:
            into[key] = copy.deepcopy(value)
