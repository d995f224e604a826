"""Running the README's examples as a user would: bash blocks in a scratch directory, with the
installed `rtc` on PATH, against the built-in local server (no key, no network)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # where the `rtc` entry point was installed
_IDS = re.compile(r"\b(resp|conv|sess|item|call|event)_[A-Za-z0-9]{21}\b")


def section(first: str, end: str) -> str:
    """The README from the heading ``first`` up to the heading ``end``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(first + "\n")
    return text[start : text.index(end + "\n", start)]


def blocks(text: str, language: str = "bash") -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.M | re.S)


def expected_output(block: str) -> list[re.Pattern[str]]:
    """``# text`` lines are what the command above prints (``…`` or a real-looking id stands
    for any id); ``# word:`` lines are notes for the reader."""
    outputs = []
    for line in block.splitlines():
        if line.startswith("# ") and not re.match(r"# \w+:", line):
            pattern = re.escape(_IDS.sub(lambda m: m.group(1) + "_…", line[2:].rstrip()))
            pattern = pattern.replace("…", "[A-Za-z0-9]+")
            outputs.append(re.compile(pattern))
    return outputs


def shown_in_order(block: str, printed: str) -> str | None:
    """None when every ``# text`` line of ``block`` is a whole line of ``printed``, in the
    order shown (other lines may come between); else what is missing."""
    lines = printed.splitlines()
    at = 0
    for pattern in expected_output(block):
        while at < len(lines) and not pattern.fullmatch(lines[at].rstrip()):
            at += 1
        if at == len(lines):
            return f"no line {pattern.pattern!r} (in order) in:\n{printed}"
        at += 1
    return None


def run(
    script: str, cwd: Path, *, errexit: bool = True, merged: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in bash; ``merged``: stderr goes into stdout, in the order a terminal
    would show them."""
    env = {
        **os.environ,
        "HOME": str(cwd),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    options = ["-eo", "pipefail"] if errexit else ["-o", "pipefail"]
    return subprocess.run(
        ["bash", "--norc", "--noprofile", *options, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merged else subprocess.PIPE,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def normalise(text: str) -> str:
    """Ids, ports and timings vary from run to run; everything else must match."""
    text = _IDS.sub(lambda m: m.group(1) + "_ID", text)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"\b\d+(\.\d+)? tok/s\b", "N tok/s", text)
    # A timing is ms or, on a loaded machine, s; a panel pads its line to the border after it.
    text = re.sub(r"\d+(\.\d+)? (ms|s)\b", "N ms", text)
    return re.sub(r" +│$", " │", text, flags=re.M)
