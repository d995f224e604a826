"""The Locust integration with a real master and two workers on 127.0.0.1 for a few seconds."""

from __future__ import annotations

import csv
import importlib.util
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_run import ROOT

# Only looked up, never imported here: importing locust monkey-patches this process (gevent).
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="the load extra: pip install '.[load]'"
)

LOCUSTFILE = ROOT / "examples" / "locustfile.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def locust(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )


def test_master_and_two_workers_report_realtime_timings(
    tmp_path: Path, local_server: Callable[..., str]
) -> None:
    url = local_server(token_delay_ms=5)
    port = str(free_port())
    master = locust(
        "--headless", "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
        "--expect-workers", "2", "-u", "4", "-r", "4", "-t", "3s", "--host", url,
        "--csv", str(tmp_path / "run"), "--only-summary",
    )  # fmt: skip
    workers = [
        locust("--worker", "--master-host", "127.0.0.1", "--master-port", port) for _ in range(2)
    ]
    try:
        out, _ = master.communicate(timeout=90)
        for worker in workers:
            worker.communicate(timeout=30)
    finally:
        for process in (master, *workers):
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert master.returncode == 0, out
    assert "to 2 ready workers" in out
    with (tmp_path / "run_stats.csv").open() as file:
        rows = {row["Name"]: row for row in csv.DictReader(file) if row["Type"] == "realtime"}
    assert set(rows) == {"connect", "first delta", "done"}, rows
    assert rows["connect"]["Request Count"] == "4"
    assert int(rows["done"]["Request Count"]) >= 4
    assert rows["done"]["Request Count"] == rows["first delta"]["Request Count"]
    assert all(row["Failure Count"] == "0" for row in rows.values())
    assert all(w.returncode == 0 for w in workers)
