"""``TERM=dumb rtc repl`` in a real pseudo-terminal (issue 15 #6): output on lines of its own,
and a prompt after it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parents[2]


def test_a_dumb_terminal_gets_output_on_its_own_lines_and_a_prompt_after(
    server_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "TERM": "dumb", "XDG_STATE_HOME": str(tmp_path)}
    child = pexpect.spawn(
        sys.executable, ["-m", "realtime_cli", "repl", "--url", server_url, "--view", "responses"],
        dimensions=(30, 80), env=env, cwd=str(ROOT), encoding="utf-8", timeout=20,
    )  # fmt: skip
    child.expect("type help")
    child.expect_exact("rtc> ")
    child.send("create -i hello --modality text\r")
    child.expect("╰─+╯")
    # The panel ended its line, and a new prompt follows it (nothing printed on the prompt's line).
    child.expect_exact("\r\nrtc> ")
    transcript = child.before + child.after
    child.send("items\r")
    child.expect(r"item_\w+ +message +assistant")
    child.expect_exact("\r\nrtc> ")
    child.send("quit\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "rtc> ╭" not in transcript and "\x1b[" not in transcript
