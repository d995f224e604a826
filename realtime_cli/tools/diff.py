"""``rtc diff A B``: two recordings compared response by response.

Each recording goes through the tracker (as ``replay`` and ``export`` do); the responses are
paired in the order they were created. For each pair: status and reason, the answer (text or
transcript, a word diff), function calls and their arguments, usage and estimated cost, and the
server event types of the response where their sequences differ. Timings (first delta, done)
are shown side by side and count as a difference only past ``--max-latency-regression``.
``--ignore`` leaves aspects out. Sans-terminal: ``compare`` returns data; ``cli`` prints it.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from realtime_cli.protocol.events import JSON, ga_type
from realtime_cli.protocol.fields import obj, text
from realtime_cli.protocol.meters import Meter, measure, session_model
from realtime_cli.protocol.summary import ms
from realtime_cli.protocol.tracker import ResponseState, Tracker
from realtime_cli.safe_text import clean
from realtime_cli.session.recording import Entry, Header, open_recording, read

ASPECTS = ("status", "text", "calls", "usage", "cost", "events", "latency")
_COLLAPSED = ("delta",)  # runs of *.delta events are one entry: their count varies with chunking


@dataclass
class Side:
    """One recording, read: its responses in order, the event types of each, its model."""

    name: str
    tracker: Tracker = field(default_factory=Tracker)
    order: list[str] = field(default_factory=list)
    types: dict[str, list[str]] = field(default_factory=dict)
    model: str | None = None

    def meter(self, response: ResponseState) -> Meter:
        return measure(response, session_model(self.tracker.session, self.model))


def load(path: Path) -> Side:
    side = Side(path.name)
    notices: list[str] = []
    with open_recording(path) as file:
        for row in read(file, notices.append, path.name):
            if isinstance(row, Header):
                model = row.fields.get("model")
                side.model = model if isinstance(model, str) else side.model
            elif isinstance(row, Entry):
                _feed(side, row)
    for line in notices:
        sys.stderr.write(clean(line) + "\n")
    return side


def _feed(side: Side, entry: Entry) -> None:
    t = entry.t or 0.0
    if entry.direction == "client":
        side.tracker.sent(entry.event, t)
        return
    update = side.tracker.feed(entry.event, t)
    response = update.response
    if response is None:
        return
    if response.id not in side.types:
        side.order.append(response.id)
        side.types[response.id] = []
    types = side.types[response.id]
    type_ = ga_type(text(entry.event.get("type")))
    if not (type_.endswith(_COLLAPSED) and types and types[-1] == type_):
        types.append(type_)


@dataclass
class Pair:
    index: int
    a: ResponseState | None
    b: ResponseState | None
    meters: tuple[Meter | None, Meter | None]
    differences: list[str] = field(default_factory=list)
    word_diff: str = ""


@dataclass
class Report:
    a: str
    b: str
    pairs: list[Pair]
    ignored: tuple[str, ...]
    max_latency_regression: float | None

    @property
    def match(self) -> bool:
        return not any(p.differences for p in self.pairs)

    def as_json(self) -> JSON:
        return {
            "a": self.a,
            "b": self.b,
            "match": self.match,
            "ignored": list(self.ignored),
            "max_latency_regression": self.max_latency_regression,
            "responses": [_pair_json(p) for p in self.pairs],
        }


def _side_json(response: ResponseState | None, meter: Meter | None) -> JSON | None:
    if response is None or meter is None:
        return None
    return {
        "id": response.id,
        "status": response.status,
        "reason": response.reason,
        "text": response.answer,
        "function_calls": [
            {"name": c.get("name"), "arguments": c.get("arguments")}
            for c in response.function_calls
        ],
        "usage": response.usage,
        "cost_usd": None if meter.cost is None else round(meter.cost, 8),
        "timings_ms": meter.as_json()["timings_ms"],
    }


def _pair_json(pair: Pair) -> JSON:
    return {
        "index": pair.index,
        "a": _side_json(pair.a, pair.meters[0]),
        "b": _side_json(pair.b, pair.meters[1]),
        "differences": pair.differences,
        "word_diff": pair.word_diff or None,
    }


def word_diff(a: str, b: str) -> str:
    """``the [-old-]{+new+} words``: the words of ``a`` turned into those of ``b``."""
    old, new = a.split(), b.split()
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            out += old[i1:i2]
            continue
        if i2 > i1:
            out.append("[-" + " ".join(old[i1:i2]) + "-]")
        if j2 > j1:
            out.append("{+" + " ".join(new[j1:j2]) + "+}")
    return " ".join(out)


def _calls(response: ResponseState) -> list[tuple[str, str]]:
    calls = []
    for call in response.function_calls:
        arguments = text(call.get("arguments"))
        with contextlib.suppress(ValueError):  # the same arguments however they are spaced
            arguments = json.dumps(json.loads(arguments), sort_keys=True)
        calls.append((text(call.get("name")), arguments))
    return calls


def _usage(response: ResponseState) -> tuple[int, int]:
    usage = obj(response.usage)
    return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))


def _compare(pair: Pair, a_side: Side, b_side: Side, report: Report) -> None:
    a, b = pair.a, pair.b
    diffs = pair.differences
    if a is None or b is None:
        diffs.append("only in " + (report.a if b is None else report.b))
        return
    ignored = report.ignored
    if "status" not in ignored and (a.status, a.reason) != (b.status, b.reason):
        diffs.append(f"status: {_status(a)} → {_status(b)}")
    if "text" not in ignored and a.answer.split() != b.answer.split():
        pair.word_diff = word_diff(a.answer, b.answer)
        diffs.append(f"text: {pair.word_diff}")
    if "calls" not in ignored and _calls(a) != _calls(b):
        diffs.append(f"function calls: {_calls(a)} → {_calls(b)}")
    if "usage" not in ignored and _usage(a) != _usage(b):
        (ai, ao), (bi, bo) = _usage(a), _usage(b)
        diffs.append(f"usage: {ai} in / {ao} out → {bi} in / {bo} out tokens")
    ma, mb = pair.meters
    if "cost" not in ignored and ma and mb and ma.cost_text() != mb.cost_text():
        diffs.append(f"cost: {ma.cost_text()} → {mb.cost_text()}")
    if "events" not in ignored and a_side.types[a.id] != b_side.types[b.id]:
        diffs.append("events: " + " ".join(_sequence_diff(a_side.types[a.id], b_side.types[b.id])))
    limit = report.max_latency_regression
    if limit is not None and "latency" not in ignored and ma and mb:
        for name in ("first_delta", "done"):
            before, after = getattr(ma, name), getattr(mb, name)
            if before is not None and after is not None and after > before * (1 + limit):
                grew = (after / before - 1) * 100 if before else float("inf")
                diffs.append(
                    f"latency: {name.replace('_', ' ')} {ms(before)} → {ms(after)}"
                    f" (+{grew:.0f}%, over {limit * 100:g}%)"
                )


def _status(response: ResponseState) -> str:
    return response.status + (f" ({response.reason})" if response.reason else "")


def _sequence_diff(a: list[str], b: list[str]) -> Iterable[str]:
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        if i2 > i1:
            yield "[-" + " ".join(a[i1:i2]) + "-]"
        if j2 > j1:
            yield "{+" + " ".join(b[j1:j2]) + "+}"


def compare(
    a_path: Path,
    b_path: Path,
    ignored: tuple[str, ...] = (),
    max_latency_regression: float | None = None,
) -> Report:
    a_side, b_side = load(a_path), load(b_path)
    report = Report(str(a_path), str(b_path), [], ignored, max_latency_regression)
    count = max(len(a_side.order), len(b_side.order))
    for index in range(count):
        a = a_side.tracker.responses[a_side.order[index]] if index < len(a_side.order) else None
        b = b_side.tracker.responses[b_side.order[index]] if index < len(b_side.order) else None
        meters = (a_side.meter(a) if a else None, b_side.meter(b) if b else None)
        pair = Pair(index + 1, a, b, meters)
        _compare(pair, a_side, b_side, report)
        report.pairs.append(pair)
    return report


def parse_percent(value: str) -> float:
    """``20%`` or ``0.2`` → 0.2; ``ValueError`` for anything else."""
    number = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    if not number >= 0 or number == float("inf"):
        raise ValueError(value)
    return number
