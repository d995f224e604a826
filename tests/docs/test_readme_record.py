"""The README's Recording and replay, Export and Completions sections: every bash block runs as
written (against the built-in local server, in a scratch directory and home) and prints what the
README says it prints."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from readme import ROOT, blocks, run, section, shown_in_order

FIRST, END = "## Recording and replay", "## Development"


def sections() -> str:
    return section(FIRST, END)


def test_the_sections_have_the_blocks_this_test_runs() -> None:
    found = blocks(sections())
    assert len(found) == 5
    assert any("rtc replay session.jsonl --json | jq" in b for b in found)
    assert any("--format wav --out audio/" in b for b in found)


def test_every_bash_block_runs_in_order(tmp_path: Path) -> None:
    assert shutil.which("jq"), "the README's examples use jq: apt-get install jq"
    for block in blocks(sections()):  # in order: later blocks use the files earlier ones recorded
        result = run(block, tmp_path)
        assert result.returncode == 0, f"{block}\n--- stderr:\n{result.stderr}"
        missing = shown_in_order(block, result.stdout)
        assert missing is None, f"{block}\n--- {missing}"
    assert (tmp_path / "session.md").read_text().startswith("# Transcript: session.jsonl\n")
    assert (tmp_path / ".config/fish/completions/rtc.fish").read_text().startswith("complete ")
    for name in ("rtc.bash", "_rtc", "rtc.fish"):
        fresh = (tmp_path / "completions" / name).read_text()
        assert fresh == (ROOT / "completions" / name).read_text()


@pytest.mark.parametrize("command", ["rtc --install-completion"])
def test_inline_commands_run(command: str, tmp_path: Path) -> None:
    assert f"`{command}`" in sections()
    # "; true" keeps bash as rtc's parent (bash would exec a lone command), since the shell rtc
    # detects and installs for is its parent process's.
    result = run(command + "; true", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "bash completion installed in" in result.stdout
    assert (tmp_path / ".bash_completions" / "rtc.sh").exists()
