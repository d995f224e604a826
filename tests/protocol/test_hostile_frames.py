"""Bad input is normal input: a server (or a recording) that puts the wrong type, rich markup,
escape sequences or bidi overrides in any field never crashes rtc, and nothing it sends drives
the terminal.

Every event of the conformance corpus is taken apart field by field (top level and nested), each
field swapped for hostile values, and the result fed through everything that shows server data:
the tracker, event rows, the console's log rows, response panels, error lines, the console's
tables and JSON blocks, the Markdown export and doctor's session checks. Then a tiny hostile
server, end to end: ``rtc create --events`` and ``rtc pipe --pretty`` against it.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cli_run import rtc
from corpus import CORPUS, events
from proxy import serving
from rich.console import Console
from websockets.asyncio.server import ServerConnection

from realtime_cli.protocol.events import Client
from realtime_cli.protocol.tracker import ResponseState, Tracker
from realtime_cli.render import (
    EventRows,
    doctor_table,
    error_line,
    error_text,
    items_table,
    json_block,
    log_row,
    make_console,
    response_panel,
    responses_table,
)
from realtime_cli.session.client import Received
from realtime_cli.session.recording import Entry
from realtime_cli.tools.doctor import _reflected, _session_created
from realtime_cli.tools.export import export_markdown

ESC = "\x1b"
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
CLIENT_TYPES = frozenset(Client)


def nested(depth: int, leaf: Any) -> Any:
    for level in range(depth):
        leaf = [leaf] if level % 2 else {"x": leaf}
    return leaf


# Markup that would crash rich ("[/]") or restyle ("[blink]"), an erase-screen and a set-title
# sequence, an 8-bit CSI, and bidi overrides ("trojan source").
SHOUT = "[/][blink]x\x1b[2J\x1b]0;pwned\x07\x9b31m evil\u202etxt.exe\u2066"
HOSTILE: list[Any] = [
    SHOUT,  # a string (also where a number, object or array belongs)
    5,
    [SHOUT, 1],
    None,
    {"id": SHOUT, "status": "[/]", "type": 7},
    nested(120, SHOUT),  # as deep as a frame may be (events.MAX_DEPTH), objects and arrays
]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every field and array element, top level first, then nested."""
    children = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in children:
        yield (*prefix, key)
        if isinstance(child, dict | list):
            yield from paths(child, (*prefix, key))


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with the field at ``path`` set to ``new`` (only the path is copied)."""
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy


def corpus_events() -> dict[str, list[dict[str, Any]]]:
    """The corpus's events by file, one of each shape (the same type with the same fields)."""
    seen: set[Any] = set()
    files: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(CORPUS.glob("*.jsonl")):
        for event in events(path.name):
            shape = (event.get("type"), tuple(paths(event)))
            if shape not in seen:
                seen.add(shape)
                files.setdefault(path.name, []).append(event)
    return files


CORPUS_EVENTS = corpus_events()


def mutations(event: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    for path in paths(event):
        for value in HOSTILE:
            yield path, replaced(event, path, value)


def primed(event: dict[str, Any]) -> Tracker:
    """A tracker that knows the response and the request the event refers to, so mangled deltas
    and dones reach a response (and its panel), and errors reach their cause."""
    tracker = Tracker()
    tracker.sent({"type": "response.create", "event_id": "evt_1"}, 0.0)
    response = event.get("response")
    ids = [event.get("response_id"), response.get("id") if isinstance(response, dict) else None]
    for response_id in ids:
        if isinstance(response_id, str):
            tracker.feed({"type": "response.created", "response": {"id": response_id}}, 0.1)
    return tracker


@dataclass
class Shown:
    """What the mutations of one event left, drawn as one table each (layout takes the time)."""

    responses: list[ResponseState] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)


def show_everything(event: dict[str, Any], out: Console, shown: Shown) -> str:
    """Feed one event through everything that shows server data; the Markdown it exports.
    The responses and items it leaves are added to ``shown``, for one table of each."""
    tracker = primed(event)
    rows = EventRows(out)
    client = isinstance(event.get("type"), str) and event["type"] in CLIENT_TYPES
    if client:
        tracker.sent(event, 0.2)
        rows.client(event, 0.2)
        out.print(log_row(0.2, "→", event))
    else:
        update = tracker.feed(event, 0.2)
        rows.server(event, 0.2)
        out.print(log_row(0.2, "←", event))
        if update.error is not None:
            out.print(error_text(update.error))
            out.print(error_line(update.error, "create '\x1b[2J'"))
        if update.response is not None:
            out.print(response_panel(update.response))
    rows.flush()
    shown.responses += tracker.responses.values()
    shown.items += tracker.items.values()
    entry = Entry(1, 0.2, "client" if client else "server", event)
    return export_markdown([entry], lambda line: None, "hostile.jsonl")


def doctor_details(session: Any) -> list[tuple[str, str, str]]:
    """What ``rtc doctor`` says of a session.created and a session.updated holding ``session``."""
    created = {"type": "session.created", "session": session}
    update = Tracker().feed(created, 0.1)
    checks = [_session_created([Received(json.dumps(created), created, 0.1, update)])]
    checks.append(_reflected("session.update honoured", {**created, "type": "session.updated"}))
    return [(c.name, c.status, c.detail) for c in checks]


def assert_inert(text: str, what: str) -> None:
    assert ESC not in text and "\x9b" not in text, f"{what}: an escape sequence got through"
    assert not BIDI.search(text), f"{what}: a bidi override got through"


@pytest.mark.parametrize("name", sorted(CORPUS_EVENTS))
def test_every_corpus_event_with_every_field_mangled(name: str) -> None:
    buffer = io.StringIO()
    out = make_console(buffer, width=100, color_system=None)
    markdown: list[str] = []
    count = 0
    for original in CORPUS_EVENTS[name]:
        first = next(paths(original))
        doctor: list[tuple[str, str, str]] = []
        shown = Shown()
        for path, event in mutations(original):
            count += 1
            markdown.append(show_everything(event, out, shown))
            if path == first:  # the JSON view of an event (``show``): once per hostile value
                out.print(json_block(event))
            if path[0] == "session":
                doctor += doctor_details(event["session"])
        out.print(doctor_table(doctor))
        out.print(responses_table(shown.responses))
        out.print(items_table(shown.items))
        assert_inert(buffer.getvalue(), f"{name}: {original.get('type')}")
        buffer.seek(0)
        buffer.truncate()
    assert count >= 5 * len(CORPUS_EVENTS[name])
    assert_inert("".join(markdown), f"{name}: markdown")


def test_markup_in_ids_is_shown_as_text_not_obeyed() -> None:
    tracker = Tracker()
    response = {
        "id": "resp_[/][blink]",
        "status": "[bold]completed",
        "conversation_id": "conv_[/]",
        "metadata": {"k": "[red]v"},
        "usage": {"input_tokens": "5", "output_tokens": 3, "total_tokens": [1]},
        "output": 5,
    }
    tracker.feed({"type": "response.done", "response": response}, 1.0)
    buffer = io.StringIO()
    out = make_console(buffer, width=60, color_system=None)
    out.print(response_panel(tracker.responses["resp_[/][blink]"]))
    assert buffer.getvalue() == (
        "╭─ resp_[/][blink] · [bold]completed ──────────────────────╮\n"
        "│ (no output)                                              │\n"
        "│                                                          │\n"
        "│ status        [bold]completed                            │\n"
        "│ usage         3 total · 0 in · 3 out                     │\n"
        "│ timing        total 0 ms                                 │\n"
        "│ metadata      k=[red]v                                   │\n"
        "│ conversation  conv_[/]                                   │\n"
        "╰──────────────────────────────────────────────────────────╯\n"
    )


def test_a_sent_audio_chunk_is_not_kept_and_sent_events_are_bounded() -> None:
    tracker = Tracker()
    chunk = "A" * 400_000
    tracker.sent({"type": "input_audio_buffer.append", "event_id": "a1", "audio": chunk}, 0.0)
    assert tracker.sent_events["a1"] == {"type": "input_audio_buffer.append", "event_id": "a1"}
    error = {"type": "error", "error": {"code": "x", "message": "m", "event_id": "a1"}}
    update = tracker.feed(error, 0.1)
    assert update.error is not None and update.error.cause is not None
    assert error_text(update.error).plain.endswith("← answers a1 (input_audio_buffer.append)")
    for n in range(10_050):
        tracker.sent({"type": "response.cancel", "event_id": f"c{n}"}, 0.0)
    assert len(tracker.sent_events) == 10_000
    assert "c10049" in tracker.sent_events and "a1" not in tracker.sent_events


# -- end to end: a hostile server ----------------------------------------------------------------

HOSTILE_ID = "resp_[/]\x1b[31m"


def hostile_frames() -> list[Any]:
    """What the server says after the client's response.create: malformed all the way."""
    base = {"response_id": HOSTILE_ID, "item_id": [1], "output_index": 0, "content_index": "0"}
    return [
        {"type": "response.created", "response": {"id": HOSTILE_ID, "status": ["x"]}},
        {"type": "response.output_item.added", "item": {"id": 5, "role": {"r": "\x1b[2J"}}},
        {"type": "conversation.item.added", "item": {"id": "i\x1b[2J", "content": 5}},
        {"type": "response.output_text.delta", **base, "delta": "hello \x1b]0;pwned\x07"},
        {"type": "response.output_text.delta", **base, "delta": "there\u202e [blink]"},
        {"type": "response.output_audio.delta", **base, "delta": 7},
        {"type": "rate_limits.updated", "rate_limits": 5},
        {"type": "rate_limits.updated", "rate_limits": [{"name": "\x1b[2J", "remaining": []}]},
        {"type": "[blink]new.event\x1b[5m", "payload": nested(100, "\x1b[2J")},
        {"type": "error", "error": 5},
        {
            "type": "error",
            "error": {"code": "\x1b[2J", "message": "bad \x1b]0;x\x07", "param": [1]},
        },
        {"type": "session.updated", "session": "x"},
        {
            "type": "response.done",
            "response": {
                "id": HOSTILE_ID,
                "status": "completed",
                "status_details": {"reason": "\x1b[2J"},
                "conversation_id": ["c"],
                "metadata": {"k": "[blink]v\x1b[5m"},
                "usage": {"input_tokens": "5", "output_tokens": 2, "total_tokens": None},
                "output": 5,
            },
        },
        {"type": "rate_limits.updated", "rate_limits": []},
    ]


async def hostile_server(ws: ServerConnection) -> None:
    await ws.send(json.dumps({
        "type": "session.created",
        "session": {"id": "sess_\x1b[2J", "model": "[/]", "output_modalities": [1, None]},
    }))  # fmt: skip
    async for message in ws:
        if json.loads(message).get("type") == "response.create":
            for frame in hostile_frames():
                await ws.send(json.dumps(frame))
        await asyncio.sleep(0)


PANEL = """\
╭─ resp_[/]�[31m · completed ──────────────────────────────────────────────────╮
│ hello �]0;pwned�there� [blink]                                               │
│                                                                              │
│ status        completed (�[2J)                                               │
│ usage         2 total · 0 in · 2 out                                         │
│ timing        …
│ meters        …
│ metadata      k=[blink]v�[5m                                                 │
│ conversation  -                                                              │
╰──────────────────────────────────────────────────────────────────────────────╯
"""


def panel(stdout: str) -> str:
    """The response panel in ``stdout``, its timings masked."""
    start = stdout.index("╭─")
    end = stdout.index("╯\n", start) + 2
    return re.sub(r"(│ (timing|meters) +).*\n", r"\1…\n", stdout[start:end])


def test_a_hostile_server_end_to_end() -> None:
    with serving(hostile_server) as url:
        create = rtc("create", "hi", "--url", url, "--events", timeout=60)
        pipe = rtc("pipe", "--url", url, "--pretty", stdin='{"type": "response.create"}\n')
    # create: its response completed (the error event names no event of its); pipe: any error
    # event is a failure of the run.
    assert (create.returncode, pipe.returncode) == (0, 1), create.stderr + pipe.stderr
    for result in (create, pipe):
        assert "Traceback" not in result.stderr, result.stderr
        assert_inert(result.stdout + result.stderr, " ".join(result.args[3:4]))
        assert panel(result.stdout) == PANEL, result.stdout
    assert " ← [blink]new.event�[5m\n" in create.stdout
    assert " ← session.created sess_�[2J [/] modalities=1,\n" in create.stdout
    assert "error: �[2J ([1]): bad �]0;x�\n" in create.stderr
    assert "rtc: error �[2J ([1]): bad �]0;x�\n" in pipe.stderr
