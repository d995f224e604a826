"""rtc's benchmark: measured here, never asserted in timed tests.

    python benchmarks/bench.py            # full run (about a minute)
    python benchmarks/bench.py --quick    # small sizes, to check it still runs

It measures what users feel: start-up time, the cost of tracking and rendering a burst of
deltas (the console must not render per event), and end-to-end throughput of `rtc create --json`
and `rtc pipe` against the built-in server with no token delay (so rtc, not the model, is the
bottleneck). Results are printed as a table; compare runs on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from realtime_cli.protocol.tracker import Tracker  # noqa: E402
from realtime_cli.render import EventRows, make_console  # noqa: E402
from realtime_cli.server.app import running  # noqa: E402

RTC = [sys.executable, "-m", "realtime_cli"]


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


@contextmanager
def local_server(token_delay_ms: float = 0) -> Iterator[str]:
    ready = threading.Event()
    url: list[str] = []
    stop: list[asyncio.Event] = []
    loop = asyncio.new_event_loop()

    async def main() -> None:
        stop.append(asyncio.Event())
        async with running(token_delay_ms=token_delay_ms) as server:
            url.append(server.url)
            ready.set()
            await stop[0].wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield url[0]
    finally:
        loop.call_soon_threadsafe(stop[0].set)
        thread.join(10)


def delta_burst(n: int) -> list[dict[str, object]]:
    base = {"response_id": "resp_1", "item_id": "item_1", "output_index": 0, "content_index": 0}
    created = {"type": "response.created", "response": {"id": "resp_1", "conversation_id": "c"}}
    deltas = [{"type": "response.output_text.delta", **base, "delta": "word "} for _ in range(n)]
    done = {"type": "response.done", "response": {"id": "resp_1", "status": "completed"}}
    return [created, *deltas, done]


def bench_track_and_render(n: int) -> float:
    stream = delta_burst(n)

    def work() -> None:
        tracker = Tracker()
        rows = EventRows(make_console(io.StringIO(), width=100, color_system=None))
        for t, event in enumerate(stream):
            tracker.feed(event, float(t))
            rows.server(event, float(t))
        rows.flush()

    return best_of(3, work)


def bench_cli(args: list[str], stdin: str | None = None) -> tuple[float, int]:
    start = time.perf_counter()
    result = subprocess.run(
        [*RTC, *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{args[0]} failed ({result.returncode}): {result.stderr.strip()}")
    return elapsed, len(result.stdout.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check it runs")
    quick = parser.parse_args().quick
    words = 500 if quick else 20_000
    burst = 2_000 if quick else 100_000
    rows: list[tuple[str, str]] = []

    startup = [bench_cli(["--help"])[0] for _ in range(3 if quick else 7)]
    rows.append(("rtc --help start-up (median)", f"{statistics.median(startup) * 1000:.0f} ms"))

    seconds = bench_track_and_render(burst)
    rows.append(
        (f"track + fold {burst:,} deltas", f"{seconds * 1000:.0f} ms ({burst / seconds:,.0f}/s)")
    )

    text = " ".join(f"w{i}" for i in range(words))
    with local_server(token_delay_ms=0) as url:
        elapsed, lines = bench_cli(
            ["create", "--url", url, "--instructions", text, "--modality", "text", "--json"]
        )
        rows.append(
            (
                f"create --json, {words:,}-word reply",
                f"{elapsed:.2f} s ({lines / elapsed:,.0f} events/s)",
            )
        )
        elapsed, _ = bench_cli(
            ["create", "--url", url, "--instructions", text, "--modality", "text"]
        )
        rows.append((f"create (streamed text + panel), {words:,} words", f"{elapsed:.2f} s"))
        events = [
            {
                "type": "response.create",
                "response": {"instructions": text, "output_modalities": ["text"]},
            }
        ]
        stdin = "\n".join(json.dumps(e) for e in events) + "\n"
        elapsed, lines = bench_cli(["pipe", "--url", url], stdin)
        rows.append(
            (f"pipe, {words:,}-word reply", f"{elapsed:.2f} s ({lines / elapsed:,.0f} events/s)")
        )
        appends = 200 if quick else 2_000
        audio = {"type": "input_audio_buffer.append", "audio": "A" * 6400}  # 4.8 KB of audio
        stdin = "\n".join(json.dumps(audio) for _ in range(appends)) + "\n"
        elapsed, _ = bench_cli(["pipe", "--url", url], stdin)
        mb = appends * 6400 / 1e6
        rows.append(
            (
                f"pipe, {appends:,} audio appends ({mb:.0f} MB JSON)",
                f"{elapsed:.2f} s ({mb / elapsed:.1f} MB/s)",
            )
        )

    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        sys.stdout.write(f"{name:<{width}}  {value}\n")


if __name__ == "__main__":
    main()
