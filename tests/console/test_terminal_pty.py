"""``rtc repl`` in a real pseudo-terminal: pexpect types, pyte keeps the screen we read."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pyte
import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS, COLUMNS = 40, 120


class _AnsweringScreen(pyte.Screen):
    """A screen that answers the cursor position requests, as a real terminal does."""

    def __init__(self, columns: int, lines: int, answer: Callable[[str], object]) -> None:
        super().__init__(columns, lines)
        self.answer = answer

    def write_process_input(self, data: str) -> None:
        self.answer(data)


class Terminal:
    def __init__(self, args: list[str], state: Path, cpr: bool = False) -> None:
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "XDG_STATE_HOME": str(state),
        }
        env.pop("NO_COLOR", None)
        if not cpr:
            env["PROMPT_TOOLKIT_NO_CPR"] = "1"
        self.screen = _AnsweringScreen(COLUMNS, ROWS, lambda data: self.child.send(data))
        self.stream = pyte.Stream(self.screen)
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "realtime_cli", *args],
            dimensions=(ROWS, COLUMNS),
            env=env,
            cwd=str(ROOT),
            encoding="utf-8",
        )
        self.raw = ""

    def pump(self) -> None:
        while True:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.05)
            except (pexpect.TIMEOUT, pexpect.EOF):
                return
            self.raw += data
            self.stream.feed(data)

    @property
    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(self, check: str | Callable[[str], bool], timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            screen = self.text
            if check(screen) if callable(check) else check in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {check!r}; screen:\n{screen}")

    def send(self, keys: str) -> None:
        self.child.send(keys)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    started: list[Terminal] = []

    def start(*args: str, cpr: bool = False) -> Terminal:
        term = Terminal(list(args), tmp_path / "state", cpr)
        started.append(term)
        return term

    yield start
    for term in started:
        if term.child.isalive():
            term.child.terminate(force=True)


def test_the_console_in_a_real_terminal(
    local_server: Callable[..., str], terminal: Callable[..., Terminal]
) -> None:
    term = terminal("repl", "--url", local_server(token_delay_ms=100))
    screen = term.wait_for(lambda s: "type help" in s and "rtc> " in s)
    assert re.search(r"connected to 127\.0\.0\.1:\d+ · gpt-realtime · type help · sess_\w+", screen)

    term.send("create --instructions hello --modality text\r")
    screen = term.wait_for("· completed ─")
    assert "│ hello" in screen
    assert re.search(r"│ status +completed", screen)

    # A slow answer streams in the live region above the prompt; Ctrl-C cancels it.
    words = " ".join(f"w{i}" for i in range(300))
    term.send(f"create --modality text -i '{words}'\r")

    def streaming(screen: str) -> bool:
        lines = screen.splitlines()
        for i, line in enumerate(lines[:-1]):
            if line.startswith("▸ resp_") and lines[i + 1].startswith("w0 w1 w2 w3"):
                return "in_progress" in line
        return False

    screen = term.wait_for(streaming)  # the streamed text under its header, above the prompt
    assert screen.index("▸ resp_") < screen.rindex("rtc> ")
    term.send("\x03")
    screen = term.wait_for("· cancelled ─")
    assert re.search(r"│ status +cancelled \(client_cancelled\)", screen)
    assert "cancelling resp_" in screen
    term.wait_for(lambda s: "▸ resp_" not in s)

    term.send("cancel\r")
    screen = term.wait_for("notice: response_cancel_not_active")

    for junk in ("\x1b", "[0m", "^[", "[?"):
        assert junk not in screen  # every escape sequence was understood, none shows

    term.send("\x04")  # Ctrl-D
    term.child.expect(pexpect.EOF, timeout=10)
    term.child.close()
    assert term.child.exitstatus == 0


def test_toolbar_and_leaving_with_ctrl_c_twice(
    server_url: str, terminal: Callable[..., Terminal]
) -> None:
    # prompt-toolkit draws the bottom toolbar once it knows the rows below the cursor: here
    # the screen answers its cursor position requests, as terminals do.
    term = terminal("repl", "--url", server_url, "--view", "responses", cpr=True)
    screen = term.wait_for(lambda s: s.splitlines()[-1].startswith(" ● connected"))
    toolbar = screen.splitlines()[-1]
    assert re.fullmatch(
        r" ● connected · 127\.0\.0\.1:\d+ · sess_\w+ · 59:\d\d left · help · Tab · Ctrl-D quits",
        toolbar,
    )
    term.send("{bad json\r")
    screen = term.wait_for("error: not JSON")
    assert "last error" not in screen.splitlines()[-1]  # a typing mistake is not a server error
    term.send("\x03")
    term.wait_for("(Ctrl-C again to leave, or Ctrl-D)")
    term.send("\x03")
    term.child.expect(pexpect.EOF, timeout=10)
    term.child.close()
    assert term.child.exitstatus == 130


def test_only_a_real_new_line_gets_the_continuation_prompt(
    server_url: str, terminal: Callable[..., Terminal]
) -> None:
    term = terminal("repl", "--url", server_url, "--view", "responses")
    term.wait_for(lambda s: "type help" in s and "rtc> " in s)
    long = " ".join(f"word{i}" for i in range(30))  # wider than the terminal: the screen wraps it
    term.send(long)
    screen = term.wait_for("word29")
    rows = screen.splitlines()
    first = next(i for i, row in enumerate(rows) if row.startswith("rtc> word0"))
    assert "word29" in rows[first + 1] and "...." not in screen  # the wrapped rest, bare
    term.send("\x1b\r" + "second")  # Alt-Enter: a new line of the same input
    screen = term.wait_for(".... second")
    term.send("\x03\x04")  # clear the line, leave
    term.child.expect(pexpect.EOF, timeout=10)


def test_tool_handler_in_a_real_terminal_asks_runs_and_stops_on_ctrl_c(
    server_url: str, terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    slow = tmp_path / "slow.py"
    slow.write_text("import time\ntime.sleep(60)\n")
    term = terminal(
        "repl", "--url", server_url, "--tool-handler", f"lookup={sys.executable} {slow}"
    )
    term.wait_for(lambda s: "type help" in s and "rtc> " in s)
    term.send("create 'please lookup' --tool 'lookup(q: string)' --modality text\r")
    screen = term.wait_for("y/n")
    assert "for lookup" in " ".join(screen.split())
    term.send("y\r")
    term.send("calls\r")  # the prompt is live while the handler runs
    term.wait_for("handler running")
    term.send("\x03")  # Ctrl-C stops the handler; the call stays pending
    term.wait_for("stopping 1 tool handler(s)")
    term.send("calls\r")
    screen = term.wait_for("needs tool-output")
    call = re.search(r"call_\w{21}", screen)
    assert call is not None
    term.send(f"tool-output {call.group(0)} found it\r")
    screen = term.wait_for("│ found it")
    term.send("\x04")
    term.child.expect(pexpect.EOF, timeout=10)
    term.child.close()
    assert term.child.exitstatus == 0
