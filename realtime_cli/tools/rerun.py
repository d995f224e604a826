"""``rtc rerun RECORDING``: send a recording's client events again, to any endpoint.

The plan comes from the recording alone (``plan``): each client event, and whether the recorded
session had every answer it was owed (pipe mode's end-of-work rule, the ``Ledger``) when it sent
it, and how long after the last event before it. The rerun sends each event when the new session
is in the same place: an event sent once everything was answered waits until the new session
has everything answered too, then the recorded pause; an event sent while answers were still
owed (a cancel mid-response, audio appends) waits only its recorded pause after the event before
it. ``--as-fast-as-possible`` drops the pauses, never the waits for answers (they are what keeps
one response from colliding with the next).

The ledger is handed in (``LedgerLike``): it lives in ``pipe``, a sibling layer this one does
not import; ``cli`` gives ``pipe.ledger.Ledger``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.errors import ConnectionLost, ExitCode, UsageError
from realtime_cli.protocol.events import JSON, Client
from realtime_cli.safe_text import clean
from realtime_cli.session.client import RATE_LIMITS_GRACE, open_session
from realtime_cli.session.recording import Entry, Recorder, open_recording, read

MAX_PAUSE = 5.0  # seconds: a long silence in the recording (someone thinking) is cut to this


class LedgerLike(Protocol):
    """What rerun needs of pipe mode's ``Ledger``."""

    @property
    def settled(self) -> bool: ...

    def sent(self, event: JSON, line: int | None = None) -> None: ...

    def received(self, event: JSON) -> bool: ...


@dataclass(frozen=True)
class Step:
    """One client event to send: after the answers settle (``settled``) or not, then ``pause``."""

    event: JSON
    line: int
    settled: bool
    pause: float


def plan(entries: list[Entry], ledger: LedgerLike) -> list[Step]:
    """The steps of a recording, read through ``ledger`` (a fresh one)."""
    steps: list[Step] = []
    last_t: float | None = None
    for entry in entries:
        t = entry.t
        if entry.direction == "server":
            ledger.received(entry.event)
        else:
            pause = 0.0 if t is None or last_t is None else max(0.0, t - last_t)
            steps.append(Step(entry.event, entry.line, ledger.settled, min(pause, MAX_PAUSE)))
            ledger.sent(entry.event, entry.line)
        if t is not None:
            last_t = t
    return steps


@dataclass
class RerunJob:
    path: Path
    endpoint: Endpoint
    new_ledger: Callable[[], LedgerLike]
    fast: bool = False  # --as-fast-as-possible
    timeout: float = 60.0  # for each wait for answers
    record: Recorder | None = None
    token_delay_ms: float = 20
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)


def load(job: RerunJob) -> list[Step]:
    def notice(line: str) -> None:
        job.stderr.write(clean(line) + "\n")

    with open_recording(job.path) as file:
        entries = [row for row in read(file, notice, job.path.name) if isinstance(row, Entry)]
    for entry in entries:
        event = entry.event
        if event.get("type") == Client.input_audio_buffer_append and "audio" not in event:
            raise UsageError(
                f"{job.path}: line {entry.line}: an audio append without its audio (recorded "
                "with --record-audio no): it cannot be re-sent"
            )
    steps = plan(entries, job.new_ledger())
    if not steps:
        raise UsageError(f"{job.path}: no client events to send")
    return steps


async def run_rerun(job: RerunJob) -> ExitCode:
    """Send the steps; exit 0 when every answer came, 1 when one did not (or an error did)."""
    steps = load(job)
    say = job.stderr

    def announce(line: str) -> None:
        say.write(clean(line) + "\n")

    ledger = job.new_ledger()
    errors = 0
    async with open_session(
        job.endpoint,
        announce=announce,
        token_delay_ms=job.token_delay_ms,
        record=job.record,
    ) as session:
        changed = asyncio.Event()

        async def receive() -> None:
            nonlocal errors
            while True:
                received = await session.receive()
                ledger.received(received.event)
                if received.update.error and not received.update.error.is_notice:
                    errors += 1
                changed.set()

        async def settle() -> bool:
            async with asyncio.timeout(job.timeout):
                while not ledger.settled:
                    changed.clear()
                    if receiver.done():
                        return False
                    await changed.wait()
            return True

        receiver = asyncio.ensure_future(receive())
        receiver.add_done_callback(lambda _: changed.set())
        try:
            for step in steps:
                if step.settled and not await settle():
                    break
                if step.pause and not job.fast:
                    await asyncio.sleep(step.pause)
                event = {k: v for k, v in step.event.items()}
                ledger.sent(await session.send(event, validate=False), step.line)
            done = await settle()
            with contextlib.suppress(TimeoutError):  # the last rate_limits.updated, for the record
                async with asyncio.timeout(RATE_LIMITS_GRACE):
                    await asyncio.shield(asyncio.wait({receiver}))
        except TimeoutError:
            say.write(f"rtc: rerun: no answer within {job.timeout:g}s\n")
            return ExitCode.FAILED
        finally:
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionLost):
                await receiver
        if receiver.done() and not receiver.cancelled() and receiver.exception() is not None:
            raise receiver.exception()  # type: ignore[misc]
    responses = session.tracker.responses.values()
    statuses: dict[str, int] = {}
    for response in responses:
        statuses[response.status] = statuses.get(response.status, 0) + 1
    each = ", ".join(f"{n} {s}" for s, n in statuses.items())
    say.write(
        f"rtc: rerun: sent {len(steps)} client events · {len(responses)} "
        + ("response" if len(responses) == 1 else "responses")
        + (f" ({each})" if each else "")
        + (f" · {errors} errors" if errors else "")
        + "\n"
    )
    return ExitCode.OK if done and not errors else ExitCode.FAILED
