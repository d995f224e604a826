"""A paste taller than the terminal (issue 15 #3), in a real pseudo-terminal with pyte keeping
the scrollback: the sent line is kept whole, once, and no stale copy of the prompt's drawing
or the toolbar is left behind."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import pexpect
import pyte

ROOT = Path(__file__).resolve().parents[2]
ROWS, COLUMNS = 12, 60


def test_a_paste_taller_than_the_screen_is_kept_once_and_whole(
    server_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "XDG_STATE_HOME": str(tmp_path),
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    child = pexpect.spawn(
        sys.executable, ["-m", "realtime_cli", "repl", "--url", server_url, "--view", "responses"],
        dimensions=(ROWS, COLUMNS), env=env, cwd=str(ROOT), encoding="utf-8",
    )  # fmt: skip
    screen = pyte.HistoryScreen(COLUMNS, ROWS, history=1000)
    stream = pyte.Stream(screen)

    def everything() -> list[str]:
        rows = ["".join(c.data for c in row.values()).rstrip() for row in screen.history.top]
        return rows + [line.rstrip() for line in screen.display]

    def wait_for(text: str) -> None:
        deadline = time.monotonic() + 20
        while not any(text in line for line in everything()):
            assert time.monotonic() < deadline, "\n".join(everything())
            with contextlib.suppress(pexpect.TIMEOUT):
                stream.feed(child.read_nonblocking(65536, timeout=0.05))

    try:
        wait_for("rtc> ")
        text = "create --modality text -i 'line0\n" + "\n".join(f"l{i}" for i in range(1, 30))
        child.send("\x1b[200~" + text + "'\x1b[201~")
        wait_for("l29'")
        child.send("\r")
        wait_for("╰──")
        wait_for("rtc> a message")  # the new, empty prompt
        lines = everything()
    finally:
        child.terminate(force=True)
    kept = [line for line in lines if "create --modality text -i 'line0" in line]
    assert kept == ["rtc> create --modality text -i 'line0"], "\n".join(lines)
    assert [line for line in lines if line in ("l1", "l15", "l29'")] == ["l1", "l15", "l29'"]
    toolbars = [line for line in lines if "● connected" in line]
    assert len(toolbars) <= 1, "\n".join(lines)  # at most the live one, at the bottom
