"""rtc bench end to end at small sizes: a healthy server, one refusing sessions, one dropping
connections, a time limit, absurd settings."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cli_run import ROOT, RTC, rtc
from proxy import serving
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response


def bench(*args: str) -> tuple[int, dict[str, Any], str]:
    result = rtc("bench", "--json", *args, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def test_a_small_run_against_the_local_server(
    tmp_path: Path, local_server: Callable[..., str]
) -> None:
    url = local_server(token_delay_ms=1)
    (tmp_path / "runs").mkdir()
    code, figures, _ = bench(
        "--url", url, "--sessions", "4", "--concurrency", "2", "--responses", "2",
        "--record", str(tmp_path / "runs"),
    )  # fmt: skip
    assert code == 0
    assert figures["responses"] == {"total": 8, "by_status": {"completed": 8}}
    assert figures["first_delta_ms"]["count"] == 8 and figures["done_ms"]["count"] == 8
    assert figures["first_delta_ms"]["p50"] <= figures["first_delta_ms"]["max"]
    assert figures["errors"] == {} and figures["connections_lost"] == {}
    assert figures["client_cpu_ms_per_response"] > 0
    assert figures["server_events"] > 8 * 5
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        f"session-0000{i}.jsonl" for i in range(1, 5)
    ]


def _relay(upstream: str, drop_every: int | None = None) -> Callable[..., Any]:
    """A relay to ``upstream``; every ``drop_every``-th connection is cut after a few frames."""
    numbers = itertools.count(1)

    async def handle(client: ServerConnection) -> None:
        number = next(numbers)
        async with connect(upstream) as server:

            async def up() -> None:
                async for frame in client:
                    await server.send(frame)

            async def down() -> None:
                frames = 0
                async for frame in server:
                    await client.send(frame)
                    frames += 1
                    if drop_every and number % drop_every == 0 and frames >= 4:
                        await client.close(1011, "dropped by the test")
                        return

            tasks = [asyncio.ensure_future(up()), asyncio.ensure_future(down())]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    return handle


def test_refused_sessions_are_counted_by_status(local_server: Callable[..., str]) -> None:
    upstream = local_server(token_delay_ms=1)
    handshakes = itertools.count(1)

    def refuse_every_other(connection: ServerConnection, request: Request) -> Response | None:
        if next(handshakes) % 2 == 0:
            return connection.respond(503, "busy\n")
        return None

    with serving(_relay(upstream), process_request=refuse_every_other) as url:
        code, figures, _ = bench("--url", url, "--sessions", "6", "--concurrency", "3")
    assert code == 1
    assert figures["connections_refused"] == {"HTTP 503": 3}
    assert figures["responses"]["by_status"] == {"completed": 3}


def test_dropped_connections_are_counted_and_nothing_hangs(
    local_server: Callable[..., str],
) -> None:
    upstream = local_server(token_delay_ms=5)
    with serving(_relay(upstream, drop_every=2)) as url:
        code, figures, _ = bench(
            "--url", url, "--sessions", "6", "--concurrency", "6", "--prompt", "one two three four"
        )
    assert code == 1
    assert figures["connections_lost"] == {"close 1011": 3}
    assert figures["responses"]["by_status"] == {"completed": 3}
    assert figures["sessions"] == {"started": 6, "finished": 6}


def test_the_duration_bounds_the_run(local_server: Callable[..., str]) -> None:
    url = local_server(token_delay_ms=50)
    code, figures, _ = bench(
        "--url", url, "--sessions", "2", "--responses", "1000", "--duration", "1",
        "--prompt", "a b c",
    )  # fmt: skip
    assert code == 0
    assert figures["stopped_early"] == "time"
    assert 2 <= figures["responses"]["total"] < 2000


def test_absurd_settings_are_refused_before_connecting() -> None:
    for args, message in (
        (("--concurrency", "0"), "--concurrency must be 1 to 2,000, got 0"),
        (("--sessions", "1000000000"), "--sessions must be 1 to 100,000"),
        (("--duration", "0"), "--duration must be more than 0"),
        (("--ramp", "10", "--duration", "5"), "--ramp must be at least 0 and less than"),
    ):
        result = rtc("bench", "--url", "ws://127.0.0.1:9/v1/realtime", *args)
        assert result.returncode == 2, result.stderr
        assert result.stderr == f"rtc: error: {message}" + result.stderr.split(message, 1)[1]
        assert len(result.stderr.splitlines()) == 1


def test_ctrl_c_stops_new_work_and_prints_what_it_has(
    tmp_path: Path, local_server: Callable[..., str]
) -> None:
    url = local_server(token_delay_ms=20)
    runs = tmp_path / "runs"
    runs.mkdir()
    args = ["bench", "--json", "--url", url, "--sessions", "3", "--responses", "1000"]
    process = subprocess.Popen(
        [*RTC, *args, "--record", str(runs), "--prompt", "a b c d e"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while not any('"response.done"' in p.read_text() for p in runs.iterdir()):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    figures = json.loads(stdout)
    assert figures["stopped_early"] == "interrupted"
    assert figures["responses"]["total"] >= 1
    assert "Traceback" not in stderr


def test_percentiles_and_the_progress_line() -> None:
    from realtime_cli.endpoint.endpoint import Endpoint
    from realtime_cli.tools.bench import BenchJob, Stats, percentile, progress_line

    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, p) for p in (50, 95, 99, 100)] == [50.0, 95.0, 99.0, 100.0]
    assert percentile([], 50) is None
    stats = Stats(first_delta=[0.02, 0.04], done=[0.2, 0.3], by_status={"completed": 2})
    stats.sessions_done, stats.running = 1, 1
    line = progress_line(stats, BenchJob(Endpoint(None), sessions=2, responses=2))
    assert "1/2 sessions, 1 open · 2/4 responses · p50 first/done 20ms/200ms · 0 failed" in line
