"""The benchmark still runs (its numbers are read by people, never asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_runs_and_reports_every_row() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--quick"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    names = [line.split("  ")[0] for line in result.stdout.splitlines()]
    assert names == [
        "rtc --help start-up (median)",
        "track + fold 2,000 deltas",
        "create --json, 500-word reply",
        "create (streamed text + panel), 500 words",
        "pipe, 500-word reply",
        "pipe, 200 audio appends (1 MB JSON)",
    ]
