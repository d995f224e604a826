"""What ``rtc doctor``'s checks are written against: the statuses, a ``Check`` row, the
``Report``, and the ``Probe`` that sends an event and waits for its answer.

Errors are matched to the check that caused them by the ``event_id`` doctor sent: an ``error``
naming no event (a server's notice, unsolicited) is not taken as the answer to the check in
flight (``Probe.error_for``). The checks themselves, and running them, are in ``doctor``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from realtime_cli.errors import ConnectError
from realtime_cli.protocol.events import JSON
from realtime_cli.protocol.tracker import ErrorInfo, ResponseState
from realtime_cli.session.client import Received, Session

PASS, FAIL, UNSUPPORTED, NOT_EXERCISED = "pass", "fail", "not supported", "not exercised"
NOT_RUN = "not run"
OK_STATUSES = (PASS, NOT_EXERCISED)


@dataclass
class Check:
    name: str
    status: str
    detail: str
    data: JSON = field(default_factory=dict)


@dataclass
class Report:
    endpoint: str
    model: str
    checks: list[Check] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # server event types, in order of first sight
    notes: list[str] = field(default_factory=list)  # why checks were not run
    error: ConnectError | None = None  # could not connect: the handshake row says why

    @property
    def ok(self) -> bool:
        return self.error is None and all(c.status in OK_STATUSES for c in self.checks)

    def as_json(self) -> JSON:
        return {
            "endpoint": self.endpoint,
            "model": self.model,
            "ok": self.ok,
            "checks": [
                {"name": c.name, "status": c.status, "detail": c.detail, "data": c.data}
                for c in self.checks
            ],
            "event_types": self.seen,
            "notes": self.notes,
        }


def whole_ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def error_text(error: ErrorInfo) -> str:
    param = f" ({error.param})" if error.param else ""
    return f"error {error.code or error.type or '?'}{param}: {error.message}"


class Probe:
    """Sends probe events and waits for their answers, remembering every event type seen."""

    def __init__(self, session: Session, timeout: float, report: Report) -> None:
        self.session = session
        self.timeout = timeout
        self.report = report

    def saw(self, received: Received) -> None:
        type_ = str(received.event.get("type"))
        if type_ not in self.report.seen:
            self.report.seen.append(type_)

    async def send(self, event: JSON, *, validate: bool = True) -> str:
        sent = await self.session.send(event, validate=validate)
        return str(sent["event_id"])

    async def until(
        self, done: Callable[[Received], bool], wait: float | None = None
    ) -> Received | None:
        """The first event for which ``done`` is true, or None after ``wait`` seconds."""
        try:
            async with asyncio.timeout(wait or self.timeout):
                while True:
                    received = await self.session.receive()
                    self.saw(received)
                    if done(received):
                        return received
        except TimeoutError:
            return None

    @staticmethod
    def error_for(received: Received, event_id: str) -> ErrorInfo | None:
        """An ``error`` that answers ``event_id``: one that names it. (An error naming no event
        may be about anything, so it does not answer the check in flight.)"""
        error = received.update.error
        return error if error is not None and error.event_id == event_id else None

    def response(self, event_id: str) -> ResponseState | None:
        return self.session.tracker.response_for_request(event_id)

    async def response_done(self, event_id: str) -> tuple[ResponseState | None, ErrorInfo | None]:
        """Wait for the ``response.done`` of the response that ``event_id`` created."""

        def finished(r: Received) -> bool:
            if self.error_for(r, event_id):
                return True
            resp = r.update.response
            return r.update.finished and resp is not None and resp.request_event_id == event_id

        received = await self.until(finished)
        if received is None:
            return self.response(event_id), None
        return self.response(event_id), self.error_for(received, event_id)
