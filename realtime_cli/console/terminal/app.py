"""The console's prompt-toolkit application: the input line, keys, the live region and the
toolbar, and the loops that run them (see the package's docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.enums import DEFAULT_BUFFER
from prompt_toolkit.filters import Condition, has_focus, is_searching
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import History
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.layout.controls import BufferControl
from prompt_toolkit.layout.dimension import Dimension
from prompt_toolkit.output import Output
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.shortcuts import clear
from prompt_toolkit.styles import Style

from realtime_cli.console import actions, reconnect
from realtime_cli.console.live_region import Fragments, Status, live_fragments, toolbar_fragments
from realtime_cli.console.parse import (
    json_unfinished,
)
from realtime_cli.console.shell import Action, Shell, host
from realtime_cli.console.terminal.completion import ConsoleCompleter
from realtime_cli.console.terminal.history import history_file, open_history
from realtime_cli.console.tool_calls import ConsoleTools, ToolSettings
from realtime_cli.console.voice import Voice, VoiceOptions
from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.errors import ConnectionLost, ExitCode, RtcError, UsageError
from realtime_cli.render import RichConsole, console_for_repl, note
from realtime_cli.session.client import Session
from realtime_cli.session.handlers import Handlers
from realtime_cli.session.recording import Recorder

REDRAW_INTERVAL = 0.08  # seconds: the most often streaming text is redrawn
DOUBLE_CTRL_C = 1.0  # seconds: a second Ctrl-C on an empty line within this leaves
PROMPT = "rtc> "
PLACEHOLDER = "a message, a command (help) or a {JSON} event"

STYLE = Style.from_dict(
    {
        "rtc-prompt": "bold",
        "placeholder": "#808080",
        "live.header": "bold #5fafd7",
        "live.more": "italic #808080",
        "bottom-toolbar": "noreverse bg:#262626 #bcbcbc",
        "toolbar.ok": "bold #5faf5f",
        "toolbar.bad": "bold #d75f5f",
        "toolbar.active": "#5fafd7",
        "toolbar.error": "#ff5f5f",
        "toolbar.notice": "#d7af5f",
        "toolbar.hint": "#808080",
        "toolbar.sep": "#606060",
    }
)


def _continuation(width: int, line_number: int, wrap_count: int) -> str:
    """``.... `` before each new line of a multi-line input; nothing before the rest of a long
    line the screen wraps (it is still one line)."""
    return "." * (width - 1) + " " if wrap_count == 0 else ""


class Repl:
    def __init__(
        self,
        shell: Shell,
        *,
        history: History,
        input: Input | None = None,
        output: Output | None = None,
    ) -> None:
        self.shell = shell
        self._last_ctrl_c = 0.0
        self.executed = 0  # lines run so far (tests wait on it)
        self._cache: tuple[tuple[int, int, str, str | None], Fragments, Fragments] | None = None
        self._tasks: asyncio.TaskGroup | None = None
        self._receiver: asyncio.Task[None] | None = None
        self._retrying: asyncio.Task[None] | None = None  # automatic reconnecting, if under way
        self.prompt: PromptSession[str] = PromptSession(
            message=self._message,
            bottom_toolbar=self._toolbar,
            prompt_continuation=_continuation,
            placeholder=self._placeholder,
            key_bindings=self._bindings(),
            completer=ConsoleCompleter(shell),
            complete_while_typing=False,
            history=history,
            style=STYLE,
            enable_suspend=True,
            input=input,
            output=output,
        )
        # A line taller than the screen (a big paste) would scroll the prompt's own drawing off
        # the top, where it can no longer be erased: copies of it and of the toolbar stayed in
        # the scrollback and the line itself was lost. The input scrolls inside a window that
        # fits instead, and such a line is printed whole into the scrollback once sent.
        self._tall_line = False
        for window in self.prompt.app.layout.find_all_windows():
            control = window.content
            if isinstance(control, BufferControl) and control.buffer is self.prompt.default_buffer:
                window.height = self._input_height
        accept = self.prompt.default_buffer.accept_handler
        assert accept is not None

        def accept_tall(buffer: Buffer) -> bool:
            if buffer.document.line_count > (self._input_height().max or 1):
                self._tall_line = True
                self.prompt.app.erase_when_done = True
            return accept(buffer)

        self.prompt.default_buffer.accept_handler = accept_tall

    def _input_height(self) -> Dimension:
        rows = self.prompt.app.output.get_size().rows
        live = sum(text.count("\n") for _, text in self._drawn()[0])
        return Dimension(max=max(1, rows - live - 2))

    # -- what is drawn ----------------------------------------------------------------------------

    def _drawn(self) -> tuple[Fragments, Fragments]:
        """The live region and the toolbar: computed again on each redraw tick (streaming),
        and at once when anything else changed (a response done, the width, the connection)."""
        size = self.prompt.app.output.get_size()
        voice = self.shell.voice
        mic = voice.status() if isinstance(voice, Voice) else None
        key = (size.columns, self.shell.generation, self.shell.state, mic)
        if self._cache is None or self._cache[0] != key:
            shell = self.shell
            session = shell.session
            now = session.now() if session else 0.0
            active = shell.active()
            connected = shell.state == "connected"
            live = live_fragments(active, now, size.columns, max(2, size.rows // 2 - 2))
            status = Status(
                state=shell.state,
                endpoint=host(session.endpoint if session else shell.endpoint),
                session_id=str((session.tracker.session or {}).get("id") or "") if session else "",
                expires_at=session.tracker.expires_at if session and connected else None,
                active=active,
                now=now,
                wall=time.time(),
                last_error=shell.last_error,
                mic=mic,
                totals=shell.totals.short() if shell.totals.responses else "",
            )
            toolbar = toolbar_fragments(status, size.columns - 1)
            self._cache = (key, live, toolbar)
        return self._cache[1], self._cache[2]

    def screen_text(self) -> str:
        """What is drawn around the input line, as plain text: the live region, the toolbar."""
        self._cache = None
        live, toolbar = self._drawn()
        return "".join(text for _, text in live) + "".join(text for _, text in toolbar)

    def _message(self) -> FormattedText:
        prompt = [("class:rtc-prompt", PROMPT)]
        if self.prompt.app.is_done:  # the line as it stays in the scrollback: no live region
            return FormattedText(prompt)
        return FormattedText(self._drawn()[0] + prompt)

    def _placeholder(self) -> FormattedText:
        shown = not self.prompt.app.is_done
        return FormattedText([("class:placeholder", PLACEHOLDER)] if shown else [])

    def _toolbar(self) -> FormattedText:
        return FormattedText(self._drawn()[1])

    async def _tick(self) -> None:
        """Coalesced redraws: streaming changes at most every REDRAW_INTERVAL, the clocks
        (elapsed, time left) once a second. Cancelled by ``run`` when the prompt loop ends."""
        last_clock = 0.0
        while True:
            await asyncio.sleep(REDRAW_INTERVAL)
            now = time.monotonic()
            if self.shell.changed or now - last_clock >= 1.0:
                self.shell.changed = False
                last_clock = now
                self._cache = None
                self.prompt.app.invalidate()

    # -- keys -------------------------------------------------------------------------------------

    def _bindings(self) -> KeyBindings:
        bindings = KeyBindings()
        in_input = has_focus(DEFAULT_BUFFER)

        @Condition
        def unfinished_json() -> bool:
            return json_unfinished(self.prompt.default_buffer.text)

        @bindings.add("enter", filter=in_input & unfinished_json)
        def _continue(event: KeyPressEvent) -> None:
            event.current_buffer.insert_text("\n")

        @bindings.add("escape", "enter", filter=in_input)
        def _newline(event: KeyPressEvent) -> None:
            event.current_buffer.insert_text("\n")

        @bindings.add("c-c", filter=~is_searching)
        def _ctrl_c(event: KeyPressEvent) -> None:
            self._ctrl_c(event)

        @bindings.add("c-t")
        def _push_to_talk(event: KeyPressEvent) -> None:
            try:
                Voice.of(self.shell).toggle_mic()
            except RtcError as exc:  # no extra, no device, not connected: one line
                self.shell.say(f"error: {exc.message}", "red")

        return bindings

    def _ctrl_c(self, event: KeyPressEvent) -> None:
        """Cancel what is streaming; else clear the line; twice on an empty line: leave."""
        # Only a press on an idle, empty prompt counts towards leaving: a Ctrl-C that cancelled
        # a response or cleared the line, pressed twice quickly, must not end the session.
        now = time.monotonic()
        if self._stop_retrying():
            self._last_ctrl_c = 0.0
            self.shell.state = "disconnected"
            self.shell.generation += 1
            self.shell.say("stopped reconnecting · type reconnect to try again", "bold red")
            return
        if self.shell.cancellable() or any(e.busy() for e in self.shell.extensions):
            self._last_ctrl_c = 0.0
            self.shell.spawn(actions.interrupt(self.shell))
            return
        if self.shell.voice is not None and self.shell.voice.barge_in("Ctrl-C"):
            self._last_ctrl_c = 0.0  # an answer done streaming but still playing: stop it
            return
        buffer = event.app.current_buffer
        if buffer.text:
            self._last_ctrl_c = 0.0
            buffer.reset()
            return
        previous, self._last_ctrl_c = self._last_ctrl_c, now
        if now - previous < DOUBLE_CTRL_C:
            event.app.exit(exception=KeyboardInterrupt())
            return
        self.shell.say("(Ctrl-C again to leave, or Ctrl-D)")

    # -- the loops --------------------------------------------------------------------------------

    async def run(self) -> int:
        """Connect, then read lines until quit. A failure to connect at start raises
        ``ConnectError`` (exit 3); later losses are shown and ``reconnect`` opens anew."""
        session = await self.shell.connect()
        self.shell.on_lost = self._on_lost
        try:
            async with asyncio.TaskGroup() as tasks:
                self._tasks = tasks
                # Receive loop: cancelled by the prompt loop on reconnect (then replaced) and
                # below when it ends; it also ends by itself when the connection closes.
                self._receiver = tasks.create_task(self.shell.receive_loop(session))
                # Redraw ticker: cancelled below when the prompt loop ends.
                ticker = tasks.create_task(self._tick())
                try:
                    return await self._prompt_loop()  # this task: reads lines, owns the socket
                finally:
                    ticker.cancel()
                    self._receiver.cancel()
                    self._stop_retrying()
        finally:
            await self.shell.disconnect()  # in the task that connected, as open_session needs
            if self.shell.totals.responses:
                self.shell.say(f"session totals: {self.shell.totals.line()}")

    async def _prompt_loop(self) -> int:
        while True:
            try:
                line = await self.prompt.prompt_async(set_exception_handler=False)
            except EOFError:  # Ctrl-D on an empty line
                return ExitCode.OK
            except KeyboardInterrupt:  # Ctrl-C twice on an empty line
                return ExitCode.INTERRUPTED
            if self._tall_line:  # its drawing was erased: the whole line goes in the scrollback
                self._tall_line = False
                self.prompt.app.erase_when_done = False
                self.shell.rows.flush()
                self.shell.out.print(note(PROMPT + line, "bold"), soft_wrap=True)
            action = await self.shell.execute(line)
            self.executed += 1
            if action is Action.QUIT:
                return ExitCode.OK
            if action is Action.RECONNECT:
                await self._reconnect()
            if action is Action.CLEAR:
                clear()  # as Ctrl-L, between prompts: the next prompt starts at the top

    async def _reconnect(self) -> None:
        assert self._tasks is not None and self._receiver is not None
        if self._stop_retrying():
            await asyncio.sleep(0)  # let the cancelled retries end
        self._receiver.cancel()
        await asyncio.wait([self._receiver])  # its end, without raising its cancellation
        if self.shell.session is not None and self.shell.state == "connected":
            self.shell.lose_active(self.shell.session)  # cut off by the reconnect
        reconnect.remember(self.shell)
        await self.shell.disconnect()
        self.shell.say("reconnecting…")
        try:
            session = await self.shell.connect()
        except RtcError as exc:
            self.shell.say(f"reconnect failed: {exc.message}", "bold red")
            return
        self._start_receiver(session)
        with contextlib.suppress(ConnectionLost):  # the receive loop says so
            await reconnect.after_reconnect(self.shell, session)

    def _start_receiver(self, session: Session) -> None:
        assert self._tasks is not None
        self._receiver = self._tasks.create_task(self.shell.receive_loop(session))

    def _on_lost(self, lost: ConnectionLost, session: Session) -> bool:
        """The connection closed: retry by itself when the close is recoverable."""
        if self._tasks is None or not reconnect.recoverable(lost, session.tracker):
            return False
        reconnect.remember(self.shell)
        self._stop_retrying()
        retry = reconnect.keep_trying(self.shell, lost, self._start_receiver)
        self._retrying = self._tasks.create_task(retry)
        return True

    def _stop_retrying(self) -> bool:
        """Cancel automatic reconnecting, if under way; True if it was."""
        retrying, self._retrying = self._retrying, None
        if retrying is None or retrying.done():
            return False
        retrying.cancel()
        return True


async def run_repl(
    endpoint: Endpoint,
    *,
    view: str = "events",
    console: RichConsole | None = None,
    input: Input | None = None,
    output: Output | None = None,
    history: Path | None = None,
    token_delay_ms: float = 20,
    record: Recorder | None = None,
    voice: VoiceOptions | None = None,
    tools: ToolSettings | None = None,
) -> int:
    """Run the console until the user leaves; returns the exit code (0, or 130 for Ctrl-C).

    ``console`` receives the scrollback (panels, rows, notes); by default a rich console on the
    terminal through ``patch_stdout``. ``input``/``output`` default to the prompt-toolkit app
    session's (tests use ``create_pipe_input`` and ``DummyOutput``).
    """
    path = history or history_file(os.environ)
    if console is None:
        if input is None and not sys.stdin.isatty():
            raise UsageError("rtc repl needs a terminal; for scripts use rtc create")
        if input is None and os.environ.get("TERM") == "dumb":  # no cursor movement: line mode
            from realtime_cli.console.dumb import run_dumb

            return await run_dumb(endpoint, view=view, token_delay_ms=token_delay_ms, record=record)
        with patch_stdout(raw=True):
            out = console_for_repl(sys.stdout)
            return await _run(
                endpoint, view, out, input, output, path, token_delay_ms, record, voice, tools
            )
    return await _run(
        endpoint, view, console, input, output, path, token_delay_ms, record, voice, tools
    )


async def _run(
    endpoint: Endpoint,
    view: str,
    out: RichConsole,
    input: Input | None,
    output: Output | None,
    path: Path,
    token_delay_ms: float,
    record: Recorder | None = None,
    voice: VoiceOptions | None = None,
    tools: ToolSettings | None = None,
) -> int:
    shell = Shell(
        endpoint,
        out,
        handlers=actions.HANDLERS,
        view=view,
        token_delay_ms=token_delay_ms,
        record=record,
    )
    # Always there: save and play work on any response's audio (kept within bounds).
    voice = voice or VoiceOptions()
    Voice(shell, audio_out=voice.audio_out, play=voice.play, device=voice.device)
    ConsoleTools(shell, tools or ToolSettings(Handlers()))  # the tool loop, as an extension
    history, problem = open_history(path, endpoint.secrets)
    if problem:
        shell.say(problem, "yellow")
    return await Repl(shell, history=history, input=input, output=output).run()
