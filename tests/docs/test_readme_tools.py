"""The README's tool-loop section: every bash block runs as written, in order, against the
built-in local server, and prints what the README says it prints."""

from __future__ import annotations

import shutil
from pathlib import Path

from readme import blocks, expected_output, run, section

FIRST, END = "## Tools: the function-call loop", "## The interactive console: `rtc`"


def test_the_section_has_the_blocks_this_test_runs() -> None:
    found = blocks(section(FIRST, END))
    assert len(found) == 2
    assert "--tool-handler 'get_weather=python3 weather.py' --json" in found[0]


def test_every_bash_block_runs_in_order(tmp_path: Path) -> None:
    assert shutil.which("jq"), "the README's examples use jq: apt-get install jq"
    for block in blocks(section(FIRST, END)):  # the second uses the handler the first wrote
        result = run(block, tmp_path)
        assert result.returncode == 0, f"{block}\n--- stderr:\n{result.stderr}"
        patterns = expected_output(block)
        assert patterns
        for pattern in patterns:
            assert pattern.search(result.stdout), f"{block}\n--- stdout:\n{result.stdout}"
