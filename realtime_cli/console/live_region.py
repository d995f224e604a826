"""What the console draws around its input line: the live region of active responses above it
and the status toolbar below it, as ``(style, text)`` fragments.

Pure functions: the caller passes the clocks, the width and the height budget, prompt-toolkit
turns the fragments into a screen (repl.py). Server text is untrusted: control characters are
made visible, never sent to the terminal.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from realtime_cli.protocol.tracker import ErrorInfo, ResponseState
from realtime_cli.safe_text import clean

Fragments = list[tuple[str, str]]


def char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cell_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def wrap(line: str, width: int) -> list[str]:
    """Wrap one line (no newlines) to ``width`` terminal cells, at spaces where it can."""
    width = max(1, width)
    rows: list[str] = []
    row: list[str] = []
    used = 0
    for char in line:
        w = char_width(char)
        if used + w > width and row:
            cut = "".join(row).rfind(" ") + 1
            if cut <= 0 or char == " ":  # one long word, or the break falls on this space
                cut = len(row)
            rows.append("".join(row[:cut]).rstrip(" ") or "".join(row[:cut]))
            row = row[cut:]
            used = cell_width("".join(row))
            if char == " " and not row:
                continue
        row.append(char)
        used += w
    rows.append("".join(row))
    return rows


def tail_chars(width: int, count: int) -> int:
    """Enough of a text's end to fill ``count`` rows of ``width`` (what ``tail_lines`` reads)."""
    return (width * 2 + 2) * count


def tail_lines(text: str, width: int, count: int) -> list[str]:
    """The last ``count`` screen rows of ``text`` wrapped to ``width`` (cheap on long text)."""
    if count <= 0:
        return []
    # Only the end can show: wrapping the whole text of a long answer at every redraw is waste.
    text = clean(text[-tail_chars(width, count) :])
    rows: list[str] = []
    for line in reversed(text.split("\n")):
        rows[:0] = wrap(line, width)
        if len(rows) >= count:
            break
    return rows[-count:]


def truncate(text: str, width: int) -> str:
    if cell_width(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        if used + char_width(char) > width - 1:
            break
        out.append(char)
        used += char_width(char)
    return "".join(out) + "…"


def _seconds(value: float) -> str:
    return f"{value:.1f}s" if value < 60 else f"{int(value // 60)}m{int(value % 60):02d}s"


def _elapsed(response: ResponseState, now: float) -> float:
    start = response.t_request if response.t_request is not None else response.t_created
    return max(0.0, now - start)


def response_header(response: ResponseState, now: float) -> str:
    bits = [response.id, response.status, _seconds(_elapsed(response, now))]
    bits.append(f"{response.output_tokens} tok")
    if response.audio_bytes:
        bits.append(f"{response.audio_bytes:,} B audio")
    if response.out_of_band:
        bits.append("out-of-band")
    if response.metadata:
        bits.append(" ".join(f"{k}={v}" for k, v in response.metadata.items()))
    return " · ".join(bits)


def live_fragments(
    responses: Sequence[ResponseState], now: float, width: int, max_lines: int
) -> Fragments:
    """The streaming text of every active response: a header line each, then the tail of its
    text, sharing ``max_lines`` rows. Every line ends with a newline (it sits above the input)."""
    if not responses or max_lines < 2:
        return []
    width = max(10, width)
    fits = max(1, max_lines // 2)
    shown = list(responses[:fits]) if len(responses) <= fits else list(responses[: fits - 1])
    per = max_lines // len(shown) - (1 if len(shown) < len(responses) else 0)
    fragments: Fragments = []
    for response in shown:
        header = truncate("▸ " + response_header(response, now), width)
        fragments.append(("class:live.header", header))
        fragments.append(("", "\n"))
        # The answer's end only: joining a long answer at every redraw would cost O(length).
        rows = max(1, per - 1)
        answer = response.answer_parts
        body = tail_lines(answer.tail(tail_chars(width, rows)), width, rows)
        if not answer:
            body = ["…"]
        for line in body:
            fragments.append(("class:live.text", line))
            fragments.append(("", "\n"))
    if len(shown) < len(responses):
        fragments.append(("class:live.more", f"+{len(responses) - len(shown)} more active"))
        fragments.append(("", "\n"))
    return fragments


@dataclass
class Status:
    """What the toolbar reports. ``now`` is the session clock, ``wall`` the epoch time."""

    state: str  # connecting · connected · disconnected
    endpoint: str
    session_id: str | None = None
    expires_at: int | None = None
    active: Sequence[ResponseState] = field(default_factory=list)
    now: float = 0.0
    wall: float = 0.0
    last_error: ErrorInfo | None = None
    mic: str | None = None  # "mic live -32 dB" while the microphone streams
    totals: str = ""  # the session's responses, tokens and cost so far (protocol.meters)


def _time_left(expires_at: int, wall: float) -> str:
    left = int(expires_at - wall)
    if left <= 0:
        return "expired"
    return f"{left // 60}:{left % 60:02d} left"


def toolbar_fragments(status: Status, width: int) -> Fragments:
    """One line: state, endpoint, session, time left, active responses, last error. Parts are
    dropped from the least useful up until the line fits ``width``."""
    state_style = "class:toolbar.ok" if status.state == "connected" else "class:toolbar.bad"
    parts: list[tuple[int, str, str]] = [(0, state_style, f"● {status.state}")]
    parts.append((4, "", status.endpoint))
    if status.session_id:
        parts.append((5, "", status.session_id))
    if status.expires_at is not None:
        parts.append((3, "", _time_left(status.expires_at, status.wall)))
    if status.active:
        short = len(status.active) > 1
        texts = [
            f"{r.id[:12] + '…' if short else r.id} {_seconds(_elapsed(r, status.now))}"
            f" {r.output_tokens} tok"
            for r in status.active
        ]
        active = f"{len(status.active)} active: " + ", ".join(texts)
        parts.append((1, "class:toolbar.active", active))
    else:
        parts.append((6, "class:toolbar.hint", "help · Tab · Ctrl-D quits"))
    if status.mic:
        parts.append((0, "class:toolbar.active", f"● {status.mic}"))
    if status.totals:
        parts.append((5, "", status.totals))
    if status.last_error is not None:
        error = status.last_error
        style = "class:toolbar.notice" if error.is_notice else "class:toolbar.error"
        parts.append((2, style, f"last error: {error.code or error.type or 'error'}"))
    separator = " · "
    while len(parts) > 2 and cell_width(" " + separator.join(p[2] for p in parts)) > width:
        parts.remove(max(parts, key=lambda p: p[0]))
    fragments: Fragments = [("", " ")]
    used = 1
    for index, (_, style, text) in enumerate(parts):
        if index:
            fragments.append(("class:toolbar.sep", separator))
            used += len(separator)
        text = truncate(text, max(1, width - used))
        fragments.append((style, text))
        used += cell_width(text)
    return fragments
