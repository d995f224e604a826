"""``rtc bench``: many real Realtime sessions at once, each doing the same turn, measured.

Every session is a real session (``open_session``: handshake, ``session.created``), sending a
user message and a ``response.create`` per turn and waiting for its ``response.done``. Sessions
start at most ``concurrency`` at a time, the first ``concurrency`` spread over ``ramp`` seconds.
It is bounded: ``sessions × responses`` turns, at most ``duration`` seconds; when the time is up
or Ctrl-C comes, no new turn starts, running ones get ``STOP_GRACE`` seconds, and the figures so
far are reported. Refused connections (handshake failures) and lost ones (a close mid-turn) are
counted by what the failure said (``HTTP 503``, ``close 1011``); ``error`` events by their code.

The client's own CPU time (user + system, ``resource.getrusage``) is reported per response, so
a user can tell when the load generator is the bottleneck. With no endpoint, rtc starts its
local server as a separate process (``rtc serve``), so the figures are the client's alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import resource
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.errors import ConnectError, ConnectionLost, RtcError, UsageError
from realtime_cli.protocol import events
from realtime_cli.protocol.events import JSON
from realtime_cli.protocol.fields import count, obj
from realtime_cli.session.client import Session, open_session
from realtime_cli.session.recording import Recorder

LIMITS = {"sessions": 100_000, "responses": 10_000, "concurrency": 2_000, "duration": 86_400.0}
STOP_GRACE = 5.0  # seconds running turns get once the time is up or Ctrl-C came
TURN_TIMEOUT = 120.0  # a turn with no response.done by then counts as timed out
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")


@dataclass
class BenchJob:
    endpoint: Endpoint
    sessions: int = 10
    responses: int = 1
    concurrency: int = 10
    duration: float = 60.0
    ramp: float = 0.0
    prompt: str = "Say hello"
    modalities: tuple[str, ...] = ("text",)
    record_dir: Path | None = None

    def check(self) -> None:
        """Refuse settings that cannot be meant, before anything connects."""
        for name in ("sessions", "responses", "concurrency"):
            value = getattr(self, name)
            if not 1 <= value <= LIMITS[name]:
                raise UsageError(f"--{name} must be 1 to {LIMITS[name]:,}, got {value}")
        if not 0 < self.duration <= LIMITS["duration"]:
            raise UsageError("--duration must be more than 0 and at most 86400 s (a day)")
        if not 0 <= self.ramp < self.duration:
            raise UsageError("--ramp must be at least 0 and less than --duration")
        if self.record_dir is not None and not self.record_dir.is_dir():
            raise UsageError(f"--record: {self.record_dir} is not a directory")


def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least ``p``% of them at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Stats:
    """What the run has measured so far; updated once per turn, never per event."""

    started: float = field(default_factory=time.monotonic)
    cpu_start: float = field(default_factory=lambda: _cpu())
    sessions_started: int = 0
    sessions_done: int = 0
    running: int = 0
    first_delta: list[float] = field(default_factory=list)
    done: list[float] = field(default_factory=list)
    tokens_per_s: list[float] = field(default_factory=list)
    output_tokens: int = 0
    server_events: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # error events by code
    refused: dict[str, int] = field(default_factory=dict)  # handshakes that failed, by why
    lost: dict[str, int] = field(default_factory=dict)  # connections closed mid-turn, by why
    stopped_early: str | None = None  # "time" or "interrupted"

    @property
    def responses(self) -> int:
        return sum(self.by_status.values())

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def cpu(self) -> float:
        return _cpu() - self.cpu_start

    def as_json(self) -> JSON:
        def figures(values: list[float], scale: float = 1000) -> JSON:
            out: JSON = {"count": len(values)}
            for p in (50, 95, 99):
                v = percentile(values, p)
                out[f"p{p}"] = None if v is None else round(v * scale, 1)
            out["max"] = round(max(values) * scale, 1) if values else None
            return out

        elapsed, cpu, responses = self.elapsed(), self.cpu(), self.responses
        return {
            "elapsed_s": round(elapsed, 3),
            "sessions": {"started": self.sessions_started, "finished": self.sessions_done},
            "responses": {"total": responses, "by_status": dict(self.by_status)},
            "first_delta_ms": figures(self.first_delta),
            "done_ms": figures(self.done),
            "output_tokens_per_s": figures(self.tokens_per_s, 1),
            "output_tokens": self.output_tokens,
            "server_events": self.server_events,
            "server_events_per_s": round(self.server_events / elapsed, 1) if elapsed else None,
            "responses_per_s": round(responses / elapsed, 2) if elapsed else None,
            "errors": dict(self.errors),
            "connections_refused": dict(self.refused),
            "connections_lost": dict(self.lost),
            "client_cpu_s": round(cpu, 3),
            "client_cpu_percent": round(100 * cpu / elapsed, 1) if elapsed else None,
            "client_cpu_ms_per_response": round(1000 * cpu / responses, 3) if responses else None,
            "stopped_early": self.stopped_early,
        }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _add(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def _refusal(exc: ConnectError) -> str:
    status = _HTTP_STATUS.search(exc.message)
    if status:
        return f"HTTP {status[1]}"
    lowered = exc.message.lower()
    for word in ("refused", "timed out", "no session.created", "reset", "closed"):
        if word in lowered:
            return word
    return "other"


class Bench:
    def __init__(self, job: BenchJob) -> None:
        self.job = job
        self.stats = Stats()
        self.stop = asyncio.Event()  # no new turn: the time is up or Ctrl-C came

    async def run(self) -> Stats:
        job = self.job
        gate = asyncio.Semaphore(job.concurrency)
        step = job.ramp / job.concurrency if job.ramp else 0.0
        tasks = []
        for index in range(job.sessions):
            delay = index * step if index < job.concurrency else 0.0
            tasks.append(asyncio.ensure_future(self._slot(index, gate, delay)))
        timer = asyncio.get_running_loop().call_later(job.duration, self._time_up)
        try:
            await asyncio.gather(*tasks)
        finally:
            timer.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return self.stats

    def _time_up(self) -> None:
        self.interrupt("time")

    def interrupt(self, why: str) -> None:
        if not self.stop.is_set():
            self.stats.stopped_early = why
            self.stop.set()
            # Turns under way get a grace period, then are cut off (their sessions close).
            asyncio.get_running_loop().call_later(STOP_GRACE, self._cut_off)

    def _cut_off(self) -> None:
        for task in asyncio.all_tasks():
            if task.get_name().startswith("rtc-bench-session"):
                task.cancel()

    async def _slot(self, index: int, gate: asyncio.Semaphore, delay: float) -> None:
        if delay:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self.stop.wait()
        async with gate:
            if self.stop.is_set():
                return
            task = asyncio.current_task()
            if task is not None:
                task.set_name(f"rtc-bench-session-{index}")
            with contextlib.suppress(asyncio.CancelledError):
                await self._session(index)

    async def _session(self, index: int) -> None:
        stats, job = self.stats, self.job
        stats.sessions_started += 1
        stats.running += 1
        recorder = None
        if job.record_dir is not None:
            recorder = Recorder(path=job.record_dir / f"session-{index + 1:05d}.jsonl")
        try:
            async with open_session(job.endpoint, record=recorder) as session:
                try:
                    for _ in range(job.responses):
                        if self.stop.is_set():
                            break
                        await self._turn(session)
                finally:
                    stats.server_events += session.tracker.server_events
        except ConnectError as exc:
            _add(stats.refused, _refusal(exc))
        except ConnectionLost as exc:
            _add(stats.lost, f"close {exc.code}" if exc.code is not None else "no close frame")
        except RtcError as exc:
            _add(stats.errors, f"rtc: {exc.message[:40]}")
        finally:
            stats.running -= 1
            stats.sessions_done += 1
            if recorder is not None:
                recorder.close()

    async def _turn(self, session: Session) -> None:
        job, stats = self.job, self.stats
        await session.send(events.item_create(events.user_message(job.prompt)))
        response_body: JSON = {"output_modalities": list(job.modalities)}
        sent = await session.send(events.response_create(response_body, None))
        request = str(sent["event_id"])
        tracker = session.tracker
        try:
            async with asyncio.timeout(TURN_TIMEOUT):
                while True:
                    received = await session.receive()
                    error = received.update.error
                    if error is not None and not error.is_notice:
                        _add(stats.errors, error.code or error.type or "error")
                        if error.event_id == request:
                            _add(stats.by_status, "rejected")
                            return
                    response = received.update.response
                    finished = received.update.finished and response is not None
                    if finished and response.request_event_id == request:  # type: ignore[union-attr]
                        break
        except TimeoutError:
            _add(stats.by_status, "timed out")
            return
        response = tracker.response_for_request(request)
        assert response is not None and response.t_done is not None
        start = response.t_request if response.t_request is not None else response.t_created
        _add(stats.by_status, response.status)
        stats.done.append(response.t_done - start)
        tokens = count(obj(response.usage).get("output_tokens"))
        stats.output_tokens += tokens
        if response.t_first_delta is not None:
            stats.first_delta.append(response.t_first_delta - start)
            streaming = response.t_done - response.t_first_delta
            if streaming > 0 and tokens:
                stats.tokens_per_s.append(tokens / streaming)
        # The tracker keeps every response: a long session would grow; the bench needs none.
        tracker.responses.pop(response.id, None)
        tracker.items.clear()


def progress_line(stats: Stats, job: BenchJob) -> str:
    """The live line: sessions, turns, errors and the running p50s."""
    first, done = percentile(stats.first_delta, 50), percentile(stats.done, 50)
    failures = sum(stats.errors.values()) + sum(stats.refused.values()) + sum(stats.lost.values())
    elapsed = stats.elapsed()
    return (
        f"{elapsed:.1f}s · {stats.sessions_done}/{job.sessions} sessions, {stats.running} open"
        f" · {stats.responses}/{job.sessions * job.responses} responses"
        f" · p50 first/done {_ms(first)}/{_ms(done)} · {failures} failed"
        f" · CPU {100 * stats.cpu() / elapsed if elapsed else 0:.0f}%"
    )


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}ms"


async def run_bench(
    job: BenchJob, tick: Callable[[Stats], None] = lambda stats: None, every: float = 0.25
) -> Stats:
    """Run the bench; ``tick`` is called every ``every`` seconds (the live display)."""
    job.check()
    bench = Bench(job)
    loop = asyncio.get_running_loop()
    import signal

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, bench.interrupt, "interrupted")
    work = asyncio.ensure_future(bench.run())
    try:
        while not work.done():
            await asyncio.wait({work}, timeout=every)
            tick(bench.stats)
        return work.result()
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)


@contextlib.asynccontextmanager
async def local_server_process(token_delay_ms: float) -> AsyncIterator[str]:
    """``rtc serve --port 0`` as a child process (its CPU is not the client's); yields its URL."""
    import sys

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "realtime_cli",
        "serve",
        "--port",
        "0",
        "--token-delay-ms",
        str(token_delay_ms),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        stdin=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            line = (await process.stdout.readline()).decode().strip()
        if not line.startswith("ws://"):
            raise RtcError("the local server did not start")
        yield line
    finally:
        if process.returncode is None:
            process.terminate()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()
