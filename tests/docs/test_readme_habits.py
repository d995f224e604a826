"""The README's "Habits from llm and httpie" block, run line by line as a user would."""

from __future__ import annotations

from pathlib import Path

from readme import blocks, expected_output, run, section


def test_habits_block_prints_what_is_shown(tmp_path: Path) -> None:
    [block] = blocks(section("### Habits from llm and httpie", "## Exit codes"))
    script = "\n".join(line for line in block.splitlines() if not line.startswith("# "))
    result = run(script, tmp_path)
    assert result.returncode == 0, result.stderr
    for pattern in expected_output(block):
        assert pattern.search(result.stdout), (pattern.pattern, result.stdout)
    assert "line one\nline two\n\nsummarise these notes\n" in result.stdout
    assert '{"type":"response.create","response":{"new_field":"1"}}' in result.stdout
