"""The README's Voice section: its bash block runs as written (espeak-ng speaks, rtc sends it to
the built-in local server and writes the reply) and prints what the README says."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

from readme import blocks, expected_output, run, section


def test_voice_block_runs(tmp_path: Path) -> None:
    assert shutil.which("espeak-ng"), (
        "the Voice example speaks with espeak-ng (.ci/run installs it)"
    )
    [block] = blocks(section("## Voice", "## Recording and replay"))
    result = run(block, tmp_path)
    assert result.returncode == 0, f"{block}\n--- stderr:\n{result.stderr}"
    printed = result.stdout + result.stderr
    for pattern in expected_output(block):
        assert pattern.search(printed), f"{block}\n--- printed:\n{printed}"
    with wave.open(str(tmp_path / "reply.wav")) as reply:
        assert reply.getframerate() == 24_000 and reply.getnframes() > 0
