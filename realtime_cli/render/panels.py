"""What ends a response or answers a request: the response panel, error lines, JSON blocks.

A panel is built once, at ``response.done``. Every server string in them is cleaned here
(``safe``), so each front end (create, pipe --pretty, replay, the console) prints safe output
without cleaning anything itself.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.highlighter import JSONHighlighter
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from realtime_cli.audio import codecs
from realtime_cli.protocol.fields import TOO_DEEP, base64_size, obj, seq, text
from realtime_cli.protocol.meters import Meter, meter_line
from realtime_cli.protocol.redact import redact_tools
from realtime_cli.protocol.summary import metadata_line, timings, usage_line, voice_line
from realtime_cli.protocol.tracker import ErrorInfo, ResponseState
from realtime_cli.render.safe import one_line, plain

STATUS_STYLE = {
    "completed": "green",
    "in_progress": "cyan",
    "cancelled": "yellow",
    "incomplete": "yellow",
    "failed": "red",
    "lost": "red",  # rtc's own: the connection ended before the response did
}
_TITLE_WIDTH = 80
# The most of an answer a panel shows: its end. rich lays a text out in one piece (a 20 MB
# answer took minutes to show); a person reads the end, and the rest is one command away.
PANEL_CHARS = 4_000
# A long base64 string (audio) as a JSON string token; an escaped quote (\") does not start one.
_BASE64_STRING = re.compile(r'(?<!\\)"([A-Za-z0-9+/]{200,}={0,2})"')


def audio_seconds(response: ResponseState) -> float:
    """Seconds of output audio, at the response's own format's rate (G.711 is 8 bytes/ms)."""
    fmt = codecs.format_name(response.audio_format)
    return codecs.duration_ms(response.audio_bytes, fmt) / 1000


def response_panel(
    response: ResponseState, meter: Meter | None = None, *, streamed: bool = False
) -> Panel:
    """The finished response: its answer, status and reason, usage, timings, metadata; with a
    ``meter``, its output tokens per second and estimated cost too. ``streamed``: the answer is
    already on screen above the panel; a long one is not repeated (only its size), a short one
    is (the panel reads whole)."""
    body: list[RenderableType] = []
    answer = response.answer_parts
    if answer and streamed and (len(answer) > _TITLE_WIDTH or _long(str(answer))):
        whole = str(answer)
        lines = whole.strip().count("\n") + 1
        size = f"{len(whole):,} chars" + (f", {lines} lines" if lines > 1 else "")
        body.append(Text(f"(the answer above: {size})", "dim"))
    elif len(answer) > PANEL_CHARS:
        tail = answer.tail(PANEL_CHARS)
        space = tail.find(" ", 0, 80)  # start at a word, not in the middle of one
        tail = tail[space + 1 :] if space >= 0 else tail
        above = len(answer) - len(tail)
        body.append(
            Text(
                f"… {above:,} characters above · the whole answer: show {one_line(response.id)}"
                " in the console, --json, or a --record recording",
                style="dim",
            )
        )
        body.append(Text(plain(tail)))
    elif answer:
        body.append(Text(plain(str(answer))))
    for call in response.function_calls:
        name, arguments, call_id = (text(call.get(k)) for k in ("name", "arguments", "call_id"))
        body.append(Text(plain(f"→ {name}({arguments})  {call_id}")))
    for item in response.output:
        line = mcp_line(item)
        if line is not None:
            body.append(line)
    if response.audio_bytes:
        seconds = audio_seconds(response)
        body.append(Text(f"[audio {response.audio_bytes:,} bytes, {seconds:.2f} s]", style="dim"))
    if not body:
        body.append(Text("(no output)", style="dim"))

    style = STATUS_STYLE.get(response.status, "white")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    status = Text(plain(response.status), style=STATUS_STYLE.get(response.status, ""))
    if response.reason:
        status.append(f" ({plain(response.reason)})")
    grid.add_row("status", status)
    grid.add_row("usage", Text(plain(usage_line(response.usage))))
    grid.add_row("timing", Text(timings(response)))
    voice = voice_line(response, audio_seconds(response) * 1000)
    if voice:
        grid.add_row("voice", Text(voice))
    if meter is not None:
        grid.add_row("meters", Text(plain(meter_line(meter))))
    if response.metadata:
        grid.add_row("metadata", Text(plain(metadata_line(response.metadata))))
    conversation = response.conversation_id or (
        "none (out-of-band)" if response.out_of_band else "-"
    )
    grid.add_row("conversation", Text(plain(conversation)))
    body += [Text(""), grid]
    title = Text.assemble(
        (one_line(response.id, _TITLE_WIDTH), "bold"),
        " · ",
        (one_line(response.status, _TITLE_WIDTH), style),
    )
    return Panel(Group(*body), title=title, title_align="left", border_style=style)


def mcp_line(value: object) -> Text | None:
    """An MCP output item of a response as one line: a call (and its output or error), an
    approval request (and how to answer it), a tool list."""
    item = obj(value)
    kind, label, name = (text(item.get(k)) for k in ("type", "server_label", "name"))
    if kind == "mcp_call":
        line = Text(one_line(f"⇢ {label}.{name}({text(item.get('arguments'))})", 100))
        if item.get("error"):
            line.append(f"  error: {one_line(item['error'], 80)}", style="red")
        elif item.get("output") is not None:
            line.append(f"  → {one_line(item['output'], 80)}")
        return line
    if kind == "mcp_approval_request":
        request_id = one_line(item.get("id"))
        line = Text(one_line(f"? {label}.{name}({text(item.get('arguments'))})", 100))
        line.append(f"  approve {request_id} / deny {request_id}", style="yellow")
        return line
    if kind == "mcp_list_tools":
        return Text(f"{one_line(label)}: {len(seq(item.get('tools')))} MCP tools", style="dim")
    return None


def _long(answer: str) -> bool:
    """More than one short line: repeating it would double what the screen shows."""
    return "\n" in answer.strip() or len(answer) > _TITLE_WIDTH


def error_text(error: ErrorInfo) -> Text:
    """One line: code, message, and the client event it answers."""
    style = "yellow" if error.is_notice else "bold red"
    line = Text("notice: " if error.is_notice else "error: ", style=style)
    line.append(one_line(error.code or error.type or "error"), style=style)
    if error.param:
        line.append(f" ({one_line(error.param)})")
    if error.message:
        line.append(f": {one_line(error.message)}")
    if error.event_id:
        cause = text(error.cause.get("type")) if error.cause else "an event rtc did not send"
        line.append(f"  ← answers {one_line(error.event_id)} ({one_line(cause)})", style="dim")
    return line


def error_line(error: ErrorInfo, command: str | None = None) -> Text:
    """``error_text`` plus the console line whose event the server rejected."""
    line = error_text(error)
    if command:
        line.append(f" from `{one_line(command, 60)}`", style="dim")
    return line


def json_block(value: Any) -> Text:
    """Pretty JSON, highlighted (long base64 payloads shown as their size, a tool's
    ``authorization`` and ``headers`` values redacted: ``config.redact_tools``)."""
    try:
        dumped = json.dumps(redact_tools(value), indent=2, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError):
        dumped = TOO_DEEP
    dumped = _BASE64_STRING.sub(lambda m: f'"<base64, {base64_size(m[1]):,} bytes>"', dumped)
    block = JSONHighlighter()(plain(dumped))
    block.no_wrap = True
    block.overflow = None
    return block


def print_json(console: Console, value: Any) -> None:
    """``json_block`` into the scrollback, its long lines left for the terminal to soft-wrap:
    no newline is ever inserted in a string, so what is copied from the screen is valid JSON."""
    console.print(json_block(value), soft_wrap=True)
