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

from realtime_cli.protocol.fields import TOO_DEEP, base64_size, text
from realtime_cli.protocol.redact import redact_tools
from realtime_cli.protocol.summary import metadata_line, timings, usage_line
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
# A long base64 string (audio) as a JSON string token; an escaped quote (\") does not start one.
_BASE64_STRING = re.compile(r'(?<!\\)"([A-Za-z0-9+/]{200,}={0,2})"')


def response_panel(response: ResponseState, *, streamed: bool = False) -> Panel:
    """The finished response: its answer, status and reason, usage, timings, metadata.
    ``streamed``: the answer is already on screen above the panel; a long one is not repeated
    (only its size), a short one is (the panel reads whole)."""
    body: list[RenderableType] = []
    if response.answer and streamed and _long(response.answer):
        lines = response.answer.strip().count("\n") + 1
        size = f"{len(response.answer):,} chars" + (f", {lines} lines" if lines > 1 else "")
        body.append(Text(f"(the answer above: {size})", "dim"))
    elif response.answer:
        body.append(Text(plain(response.answer)))
    for call in response.function_calls:
        name, arguments, call_id = (text(call.get(k)) for k in ("name", "arguments", "call_id"))
        body.append(Text(plain(f"→ {name}({arguments})  {call_id}")))
    if response.audio_bytes:
        seconds = response.audio_bytes / 48000
        body.append(Text(f"[audio {response.audio_bytes:,} bytes, ~{seconds:.1f} s]", style="dim"))
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
