"""The README's "Meters, comparisons and load" section: every bash block runs in order against
the built-in local server and prints what the README shows (numbers masked: they are timings,
which tests never assert); its config.toml example is a valid configuration."""

from __future__ import annotations

import re
from pathlib import Path

from readme import ROOT, blocks, run

from realtime_cli.endpoint.profiles import parse

FIRST = "## Meters, comparisons and load\n"


def sections() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(FIRST)
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def masked(text: str) -> str:
    text = re.sub(r"\b(resp|conv|sess|item)_[A-Za-z0-9]{21}\b", r"\1_ID", text)
    text = re.sub(r"\d+(\.\d+)?", "N", text)
    return " ".join(text.split())


def shown(block: str) -> list[str]:
    return [line[2:] for line in block.splitlines() if line.startswith("# ")]


def test_every_bash_block_runs_and_prints_what_is_shown(tmp_path: Path) -> None:
    found = blocks(sections())
    assert len(found) == 5
    for block in found:
        result = run(block, tmp_path)
        assert result.returncode == 0, f"{block}\n--- stderr:\n{result.stderr}"
        out = [masked(line) for line in result.stdout.splitlines()]
        for line in shown(block):
            assert masked(line) in out, f"{line!r} not in:\n{result.stdout}"


def test_the_config_example_is_valid(tmp_path: Path) -> None:
    [toml] = blocks(sections(), "toml")
    text = toml + '[profiles.azure-eu]\nurl = "wss://example.com/openai/v1/realtime"\n'
    config = parse(text, tmp_path / "config.toml")
    assert config.profiles["azure-eu"].prices == {"text_input": 4.4, "text_output": 17.6}
