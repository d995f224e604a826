"""``rtc doctor``: a short, safe probe of what an endpoint really supports.

One session, a handful of small text requests, each check a row: ``pass``, ``fail``, ``not
supported`` (the server answered our request with an error), ``not exercised`` (the check could
not be made, e.g. the response finished before the cancel landed) or ``not run`` (the connection
was lost before it; the report's one note says so). Nothing here prints: the report is data,
rendered by ``render`` or dumped as JSON. A failure to connect is a report too, with a failed
handshake row and the ``ConnectError`` in ``Report.error`` (exit 3).

Errors are matched to the check that caused them by the ``event_id`` doctor sent: an ``error``
naming no event (a server's notice, unsolicited) is not taken as the answer to the check in
flight, except where a check expects an error and the code is the one expected.

Cancelling an active response: the probe asks for a longer answer, waits for its
``response.created`` and sends ``response.cancel`` with its id at once. A real model takes
hundreds of milliseconds to answer; the built-in local server, started by doctor with 20 ms per
token, needs about half a second for it. If the response still completes first, the row says
"not exercised" instead of failing.

The statuses, the report and the ``Probe`` the checks send with are in ``doctor_probe``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.errors import ConnectError, ConnectionLost
from realtime_cli.protocol.events import (
    BETA_TO_GA,
    JSON,
    Client,
    Server,
    response_cancel,
    response_create,
    user_message,
)
from realtime_cli.protocol.fields import obj, text
from realtime_cli.protocol.summary import ms as _show_ms
from realtime_cli.protocol.tracker import ErrorInfo, ResponseState
from realtime_cli.session.client import Received, open_session
from realtime_cli.tools.doctor_probe import (
    FAIL,
    NOT_EXERCISED,
    NOT_RUN,
    PASS,
    UNSUPPORTED,
    Check,
    Probe,
    Report,
    error_text,
    whole_ms,
)

LOCAL_TOKEN_DELAY_MS = 20
INSTRUCTIONS = "You are being probed by rtc doctor. Answer in as few words as possible."
SHORT_PROMPT = "Reply with the single word OK."
LONG_PROMPT = (
    "Count slowly from one to forty in words, one number per line, with nothing else: "
    "one two three four five six seven eight nine ten eleven twelve"
)
UNKNOWN_TYPE = "rtc.doctor.unknown_event"
BETA_ONLY = frozenset({*BETA_TO_GA, "transcription_session.updated"})
GA_TYPES = frozenset(Server)
ERROR_WAIT = 5.0  # how long to wait for an error the protocol promises


async def _session_update(probe: Probe, name: str) -> Check:
    wanted: JSON = {"type": "realtime", "instructions": INSTRUCTIONS, "output_modalities": ["text"]}
    event_id = await probe.send({"type": Client.session_update, "session": wanted})
    received = await probe.until(
        lambda r: r.update.type == Server.session_updated or bool(probe.error_for(r, event_id))
    )
    if received is None:
        return Check(name, FAIL, f"no session.updated within {probe.timeout:g}s")
    error = probe.error_for(received, event_id)
    if error:
        return Check(name, UNSUPPORTED, error_text(error))
    return _reflected(name, received.event)


def _reflected(name: str, event: JSON) -> Check:
    """Whether a ``session.updated`` reflects what ``_session_update`` asked for."""
    session = obj(event.get("session"))
    modalities = session.get("output_modalities", session.get("modalities"))
    problems = []
    if session.get("instructions") != INSTRUCTIONS:
        problems.append("instructions not reflected")
    if modalities != ["text"]:
        problems.append(f"output_modalities is {modalities!r}")
    if problems:
        return Check(name, FAIL, "session.updated arrived but " + ", ".join(problems))
    return Check(name, PASS, "instructions and output_modalities [text] reflected")


def _timings(response: ResponseState) -> tuple[str, JSON]:
    start = response.t_request if response.t_request is not None else response.t_created
    created = response.t_created - start
    first = None if response.t_first_delta is None else response.t_first_delta - start
    done = None if response.t_done is None else response.t_done - start
    usage = response.usage or {}
    inp, out = usage.get("input_tokens"), usage.get("output_tokens")
    text = (
        f"created {_show_ms(created)} · first delta {_show_ms(first)} · done {_show_ms(done)}"
        + (f" · usage {inp} in/{out} out" if usage else " · no usage")
    )
    data = {
        "created_ms": whole_ms(created),
        "first_delta_ms": whole_ms(first),
        "done_ms": whole_ms(done),
        "usage": usage or None,
    }
    return text, data


async def _text_response(probe: Probe, name: str) -> Check:
    await probe.send({"type": Client.conversation_item_create, "item": user_message(SHORT_PROMPT)})
    event_id = await probe.send(
        response_create({"output_modalities": ["text"], "max_output_tokens": 64})
    )
    response, error = await probe.response_done(event_id)
    if error:
        return Check(name, UNSUPPORTED, error_text(error))
    if response is None or response.active:
        return Check(name, FAIL, f"no response.done within {probe.timeout:g}s")
    timings, data = _timings(response)
    data["status"] = response.status
    if response.status != "completed":
        reason = f" ({response.reason})" if response.reason else ""
        return Check(name, FAIL, f"status {response.status}{reason} · {timings}", data)
    if not response.answer:
        return Check(name, FAIL, f"completed without text · {timings}", data)
    return Check(name, PASS, timings, data)


async def _out_of_band(probe: Probe, name: str) -> Check:
    metadata = {"rtc_doctor": "oob"}
    params = {
        "conversation": "none",
        "metadata": metadata,
        "output_modalities": ["text"],
        "max_output_tokens": 64,
        "input": [user_message(SHORT_PROMPT)],
    }
    event_id = await probe.send(response_create(params))
    before = set(probe.session.tracker.items)
    response, error = await probe.response_done(event_id)
    if error:
        return Check(name, UNSUPPORTED, error_text(error))
    if response is None or response.active:
        return Check(name, FAIL, f"no response.done within {probe.timeout:g}s")
    problems = []
    if "conversation_id" not in response.raw:
        problems.append("no conversation_id field")
    elif response.raw["conversation_id"] is not None:
        problems.append(f"conversation_id is {response.raw['conversation_id']!r}, not null")
    if response.metadata != metadata:
        problems.append(f"metadata echoed as {response.metadata!r}")
    outputs = {str(i.get("id")) for i in response.output if isinstance(i, dict)}
    if outputs & (set(probe.session.tracker.items) - before):
        problems.append("its items were added to the conversation")
    if response.status != "completed":
        problems.append(f"status {response.status}")
    if problems:
        return Check(name, FAIL, "; ".join(problems))
    return Check(name, PASS, "conversation_id null, metadata echoed, conversation untouched")


async def _cancel_active(probe: Probe, name: str) -> Check:
    params = {"output_modalities": ["text"], "max_output_tokens": 200}
    event_id = await probe.send(response_create({**params, "input": [user_message(LONG_PROMPT)]}))

    def created_or_error(r: Received) -> bool:
        resp = r.update.response
        created = r.update.type == Server.response_created
        return bool(probe.error_for(r, event_id)) or (
            created and resp is not None and resp.request_event_id == event_id
        )

    received = await probe.until(created_or_error)
    if received is None:
        return Check(name, FAIL, f"no response.created within {probe.timeout:g}s")
    error = probe.error_for(received, event_id)
    if error is not None:
        return Check(name, UNSUPPORTED, "response.create: " + error_text(error))
    assert received.update.response is not None
    response_id = received.update.response.id
    cancel_id = await probe.send(response_cancel(response_id))
    cancel_error: ErrorInfo | None = None

    def done_or_cancel_error(r: Received) -> bool:
        nonlocal cancel_error
        if r.update.error is not None and r.update.error.event_id == cancel_id:
            cancel_error = r.update.error
        resp = r.update.response
        return r.update.finished and resp is not None and resp.id == response_id

    done = await probe.until(done_or_cancel_error)
    response = probe.session.tracker.responses.get(response_id)
    if done is None or response is None:
        return Check(name, FAIL, f"no response.done within {probe.timeout:g}s of the cancel")
    elapsed = (response.t_done or 0) - response.t_created
    data = {"status": response.status, "reason": response.reason, "done_ms": whole_ms(elapsed)}
    if response.status == "cancelled":
        reason = f" ({response.reason})" if response.reason else ""
        detail = f"status cancelled{reason} {_show_ms(elapsed)} after response.created"
        return Check(name, PASS, detail, data)
    if response.status == "completed":
        why = f" ({cancel_error.code})" if cancel_error else ""
        detail = f"the response completed before the cancel arrived{why}"
        return Check(name, NOT_EXERCISED, detail, data)
    if cancel_error is not None:
        return Check(name, UNSUPPORTED, error_text(cancel_error), data)
    return Check(name, FAIL, f"status {response.status}, expected cancelled", data)


async def _cancel_nothing(probe: Probe, name: str) -> Check:
    return await _expect_error(probe, name, response_cancel(), "response_cancel_not_active", None)


async def _unknown_event(probe: Probe, name: str) -> Check:
    return await _expect_error(probe, name, {"type": UNKNOWN_TYPE}, "invalid_value", "type")


async def _expect_error(
    probe: Probe, name: str, event: JSON, code: str, param: str | None
) -> Check:
    # Not validated: the unknown event is meant to be one the server must reject.
    event_id = await probe.send(event, validate=False)

    def answer(r: Received) -> ErrorInfo | None:
        # A server that does not echo event_id still answers, with the expected code.
        error = r.update.error
        unnamed = error is not None and error.event_id is None and error.code == code
        return probe.error_for(r, event_id) or (error if unnamed else None)

    received = await probe.until(lambda r: bool(answer(r)), wait=min(probe.timeout, ERROR_WAIT))
    if received is None:
        wait = min(probe.timeout, ERROR_WAIT)
        return Check(name, FAIL, f"no error within {wait:g}s (expected {code})")
    error = answer(received)
    assert error is not None
    data = {"code": error.code, "param": error.param, "event_id_echoed": error.event_id is not None}
    echoed = "event_id echoed" if error.event_id else "event_id not echoed"
    if error.code != code or (param is not None and error.param != param):
        expected = code + (f" ({param})" if param else "")
        return Check(name, FAIL, f"{error_text(error)}; expected {expected}", data)
    shown = code + (f" (param {error.param})" if error.param else "")
    return Check(name, PASS, f"error {shown}, {echoed}", data)


def _event_types(report: Report) -> Check:
    seen = report.seen
    beta = [t for t in seen if t in BETA_ONLY]
    unknown = [t for t in seen if t not in GA_TYPES and t not in BETA_ONLY]
    ga = [t for t in seen if t in GA_TYPES]
    data: JSON = {"ga": ga, "beta": beta, "unknown": unknown}
    detail = f"{len(ga)} GA: " + ", ".join(ga)
    if unknown:
        detail += " · unknown: " + ", ".join(unknown)
    if beta:
        detail = "beta names: " + ", ".join(beta) + " · " + detail
    return Check("GA event types", FAIL if beta else PASS, detail, data)


async def probe(
    endpoint: Endpoint,
    *,
    step_timeout: float = 15.0,
    announce: Callable[[str], None] = lambda line: None,
    token_delay_ms: float = LOCAL_TOKEN_DELAY_MS,
) -> Report:
    """Run every check against ``endpoint``. A failure to connect is a report with one failed
    handshake row and the ``ConnectError`` in ``error``."""
    report = Report(endpoint.display, endpoint.model)
    try:
        await _probe(endpoint, report, step_timeout, announce, token_delay_ms)
    except ConnectError as exc:
        report.error = exc
        report.checks = [Check("handshake", FAIL, exc.message)]
    return report


async def _probe(
    endpoint: Endpoint,
    report: Report,
    step_timeout: float,
    announce: Callable[[str], None],
    token_delay_ms: float,
) -> None:
    first: list[Received] = []
    started = time.monotonic()
    async with open_session(
        endpoint,
        announce=announce,
        on_first=first.append,
        token_delay_ms=token_delay_ms,
        open_timeout=step_timeout,
    ) as session:
        shown = session.endpoint.display
        report.endpoint = f"built-in local server at {shown}" if endpoint.local else shown
        handshake = time.monotonic() - started - session.now()
        report.checks.append(
            Check(
                "handshake", PASS, f"{_show_ms(handshake)} (HTTP 101)", {"ms": whole_ms(handshake)}
            )
        )
        run = Probe(session, step_timeout, report)
        for received in first:
            run.saw(received)
        report.checks.append(_session_created(first))
        lost: str | None = None
        during, not_run = "", 0
        for name, step in STEPS:
            if lost is not None:
                report.checks.append(Check(name, NOT_RUN, ""))
                not_run += 1
                continue
            try:
                report.checks.append(await step(run, name))
            except ConnectionLost as exc:
                lost = session.endpoint.scrub(exc.message)
                report.checks.append(Check(name, FAIL, lost))
                during = name
        if not_run:
            checks = "check was" if not_run == 1 else "checks were"
            report.notes.append(
                f"{not_run} {checks} not run: the connection was lost during {during!r}"
            )
        report.checks.append(_event_types(report))


STEPS: list[tuple[str, Callable[[Probe, str], Awaitable[Check]]]] = [
    ("session.update honoured", _session_update),
    ("text response", _text_response),
    ("out-of-band response", _out_of_band),
    ("response.cancel (active)", _cancel_active),
    ("response.cancel (nothing active)", _cancel_nothing),
    ("unknown event", _unknown_event),
]


def _session_created(first: list[Received]) -> Check:
    name = "session.created"
    if not first or first[0].update.type != Server.session_created:
        got = str(first[0].event.get("type")) if first else "nothing"
        return Check(name, FAIL, f"first event was {got}")
    received = first[0]
    session = obj(received.event.get("session"))
    bits = [text(session.get(k)) for k in ("id", "model") if session.get(k)]
    detail = f"after {_show_ms(received.t)}" + (" · " + " · ".join(bits) if bits else "")
    return Check(name, PASS, detail, {"ms": whole_ms(received.t)})
