"""``rtc export``: a recording as a readable Markdown transcript (``--format md``, here) or as
WAV files (``--format wav``, in ``wav.py``).

The events are fed to the same tracker as a live session, so the transcript says what the
console said: the conversation in order (user and system messages with their text or audio
transcript, function outputs, each response's answer or function calls with its status, reason
and usage, and every ``error`` with the client event it answers), then a table of the responses
and the session totals. Items that a response produced are shown with that response, once.

Any JSON is read without failing (a mangled event is shown as far as it goes), and the document
is ``clean``: it may be printed to a terminal, so no server text in it can drive one.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from realtime_cli.audio import codecs as audio
from realtime_cli.errors import RtcError, UsageError
from realtime_cli.protocol.events import JSON, Server, ga_type
from realtime_cli.protocol.fields import obj, seq, text
from realtime_cli.protocol.meters import Meter, Totals, measure, session_model
from realtime_cli.protocol.prices import PRICES_DATE
from realtime_cli.protocol.summary import (
    RESPONSE_COLUMNS,
    metadata_line,
    response_row,
    usage_line,
)
from realtime_cli.protocol.tracker import ErrorInfo, ResponseState, Tracker
from realtime_cli.safe_text import clean
from realtime_cli.session.recording import Header, Row, open_recording, read
from realtime_cli.tools.export_wav import export_wav, format_of

_ITEM_EVENTS = {
    Server.conversation_item_added,
    Server.conversation_item_done,
    Server.conversation_item_created,
    Server.conversation_item_retrieved,
}
_OUTPUT_ITEM_EVENTS = {Server.response_output_item_added, Server.response_output_item_done}


@dataclass
class _Transcript:
    """What the transcript shows, in the order it happened."""

    name: str
    tracker: Tracker = field(default_factory=Tracker)
    headers: list[Header] = field(default_factory=list)
    order: list[tuple[str, Any]] = field(default_factory=list)  # ("item", id) ("response", id)…
    owned: set[str] = field(default_factory=set)  # items a response produced
    transcripts: dict[str, str] = field(default_factory=dict)  # user audio item → transcript
    formats: dict[str, str] = field(default_factory=dict)  # response → output audio format
    session_format: str = audio.PCM
    counts: dict[str, int] = field(default_factory=lambda: {"client": 0, "server": 0})
    last_t: float = 0.0

    def feed(self, row: Row, notice: Callable[[str], None]) -> None:
        if isinstance(row, Header):
            self.headers.append(row)
            return
        self.counts[row.direction] += 1
        t = row.t if row.t is not None else self.last_t
        self.last_t = t
        if row.direction == "client":
            self.tracker.sent(row.event, t)
            return
        self._server(row.event, t)

    def _server(self, event: JSON, t: float) -> None:
        type_ = ga_type(text(event.get("type")))
        if type_ in _OUTPUT_ITEM_EVENTS and isinstance(event.get("item"), dict):
            self.owned.add(text(event["item"].get("id")))
        update = self.tracker.feed(event, t)
        if type_ in _ITEM_EVENTS and isinstance(event.get("item"), dict):
            item_id = event["item"].get("id")
            entry = ("item", item_id)
            if isinstance(item_id, str) and item_id not in self.owned and entry not in self.order:
                self.order.append(entry)
        elif type_ == Server.input_transcription_completed:
            if isinstance(event.get("transcript"), str):
                self.transcripts[text(event.get("item_id"))] = event["transcript"]
        elif type_ in (Server.session_created, Server.session_updated):
            self.session_format = format_of(event.get("session")) or self.session_format
        elif update.response is not None and ("response", update.response.id) not in self.order:
            self.order.append(("response", update.response.id))
            self.formats[update.response.id] = format_of(update.response.raw) or self.session_format
        if update.finished and update.response is not None:
            for item in update.response.output:
                if isinstance(item, dict):
                    self.owned.add(text(item.get("id")))
        if update.error is not None:
            self.order.append(("error", update.error))

    # -- writing ---------------------------------------------------------------------------------

    def markdown(self) -> str:
        out = [f"# Transcript: {self.name}", ""]
        for header in self.headers[:1]:
            out += [f"- {header.describe()}"]
        session = self.tracker.session or {}
        if session:
            bits = [text(session.get(k)) for k in ("id", "model") if session.get(k)]
            modalities = session.get("output_modalities") or session.get("modalities")
            if isinstance(modalities, list):
                bits.append("modalities " + ", ".join(text(m) for m in modalities))
            out += [f"- session: {' · '.join(bits)}"]
        out += ["", "## Conversation", ""]
        for kind, key in self.order:
            if kind == "item" and key not in self.owned and key in self.tracker.items:
                out += self._item(self.tracker.items[key])
            elif kind == "response":
                out += self._response(self.tracker.responses[key])
            elif kind == "error":
                out += [_error(key), ""]
        out += self._responses_table()
        out += self._totals()
        return clean("\n".join(out).rstrip() + "\n")

    def _item(self, item: JSON) -> list[str]:
        type_ = text(item.get("type"))
        if type_ == "function_call_output":
            return [
                f"**Function output** · `{text(item.get('call_id'))}`",
                "",
                *_fenced(item.get("output")),
            ]
        if type_ != "message":
            return [f"**{type_}** · `{text(item.get('id'))}`", ""]
        role = (text(item.get("role")) or "message").capitalize()
        texts = []
        for part in map(obj, seq(item.get("content"))):
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif part.get("type") == "input_audio":
                heard = text(part.get("transcript")) or self.transcripts.get(text(item.get("id")))
                texts.append(f"{heard}  *(audio)*" if heard else "*(audio, no transcript)*")
            elif isinstance(part.get("transcript"), str):
                texts.append(part["transcript"])
            elif part.get("type"):
                texts.append(f"*({text(part['type'])})*")
        return [f"**{role}**", "", *("\n\n".join(texts) or "*(empty)*").splitlines(), ""]

    def _response(self, response: ResponseState) -> list[str]:
        head = f"**Assistant** · `{response.id}` · {response.status}"
        if response.reason:
            head += f" ({response.reason})"
        if response.out_of_band:
            head += " · out-of-band"
        if response.active:
            head += " · no response.done in the recording"
        lines = [head, ""]
        if response.answer:
            lines += [*response.answer.splitlines(), ""]
        for call in _calls(response):
            name, call_id = text(call.get("name")), text(call.get("call_id"))
            lines += [f"Function call `{name}` · `{call_id}`", ""]
            lines += _fenced(call.get("arguments"), "json")
        if response.audio_bytes:
            seconds = self._audio_seconds(response)
            lines += [f"*(audio {seconds:.2f} s, {response.audio_bytes:,} bytes)*", ""]
        if not response.answer and not _calls(response) and not response.audio_bytes:
            lines += ["*(no output)*", ""]
        meta = [f"usage: {usage_line(response.usage)}"]
        if not response.active:
            meta.append(f"estimated cost: {self._meter(response).cost_text()}")
        if response.metadata:
            meta.append(f"metadata: {metadata_line(response.metadata)}")
        return [*lines, *(f"- {m}" for m in meta), ""]

    def _meter(self, response: ResponseState) -> Meter:
        """Priced at the default table (a recording does not say what the endpoint charged)."""
        header = self.headers[-1].fields.get("model") if self.headers else None
        model = session_model(self.tracker.session, header if isinstance(header, str) else None)
        return measure(response, model)

    def _audio_seconds(self, response: ResponseState) -> float:
        fmt = self.formats.get(response.id, self.session_format)
        return audio.duration_ms(response.audio_bytes, fmt) / 1000

    def _responses_table(self) -> list[str]:
        responses = list(self.tracker.responses.values())
        if not responses:
            return []
        lines = ["## Responses", "", _table_row(RESPONSE_COLUMNS)]
        lines += ["|" + "---|" * len(RESPONSE_COLUMNS)]
        for response in responses:
            cells = response_row(response)
            cells[0] = f"`{cells[0]}`"
            lines.append(_table_row(cells))
        return [*lines, ""]

    def _totals(self) -> list[str]:
        responses = list(self.tracker.responses.values())
        statuses: dict[str, int] = {}
        totals = {"total_tokens": 0, "input_tokens": 0, "output_tokens": 0}
        for r in responses:
            statuses[r.status] = statuses.get(r.status, 0) + 1
            for key in totals:
                totals[key] += (r.usage or {}).get(key, 0)  # integers (the tracker's usage)
        each = ", ".join(f"{n} {status}" for status, n in statuses.items())
        audio_bytes = sum(r.audio_bytes for r in responses)
        seconds = sum(self._audio_seconds(r) for r in responses)
        events = self.counts["server"] + self.counts["client"]
        lines = [
            "## Totals",
            "",
            f"- events: {events} ({self.counts['server']} server, {self.counts['client']} client)"
            f" over {self.last_t:.2f} s",
            f"- responses: {len(responses)}" + (f" ({each})" if each else ""),
            f"- tokens: {totals['total_tokens']} total · {totals['input_tokens']} in"
            f" · {totals['output_tokens']} out",
        ]
        meters = Totals()
        for response in responses:
            if not response.active:
                meters.add(self._meter(response))
        lines.append(f"- estimated cost: {meters.cost_text()} (prices of {PRICES_DATE})")
        if audio_bytes:
            lines.append(f"- output audio: {seconds:.2f} s ({audio_bytes:,} bytes)")
        lines.append(f"- errors: {len(self.tracker.errors)}")
        return lines


def _calls(response: ResponseState) -> list[JSON]:
    if response.function_calls:
        return response.function_calls
    return [i for i in response.output if isinstance(i, dict) and i.get("type") == "function_call"]


def _fenced(value: Any, language: str = "") -> list[str]:
    body = text(value)
    if language == "json":
        with contextlib.suppress(ValueError, RecursionError):
            body = json.dumps(json.loads(body), ensure_ascii=False, indent=2)
    fence = "````" if "```" in body else "```"
    return [fence + language, *body.splitlines(), fence, ""]


def _error(error: ErrorInfo) -> str:
    kind = "Notice" if error.is_notice else "Error"
    line = f"> **{kind}** `{error.code or error.type or 'error'}`: {error.message}"
    if error.event_id:
        cause = text(error.cause.get("type")) if error.cause else "an event not in the recording"
        line += f" (answers `{error.event_id}`, {cause})"
    return line


def _table_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def export_markdown(rows: Iterable[Row], notice: Callable[[str], None], name: str) -> str:
    """The Markdown transcript of a recording (or of any file ``rtc replay`` reads)."""
    transcript = _Transcript(name)
    for row in rows:
        transcript.feed(row, notice)
    if not any(transcript.counts.values()):
        raise RtcError(f"no events in {name}")
    return transcript.markdown()


def run_export(path: Path, fmt: str, out: Path | None, stdout: IO[str], stderr: IO[str]) -> None:
    """``rtc export``: ``md`` to ``out`` (a file; stdout if None), or ``wav`` files into ``out``
    (a directory; the current one if None). What was written is said on stdout for WAV files (the
    point of the command) and on stderr for a Markdown file (stdout may be the transcript)."""

    def notice(line: str) -> None:
        stderr.write(line + "\n")

    with open_recording(path) as recording:
        rows = read(recording, notice, path.name)
        if fmt == "wav":
            for written in export_wav(rows, out or Path("."), notice, str(path)):
                stdout.write(f"wrote {written.describe()}\n")
            return
        text = export_markdown(rows, notice, path.name)
    if out is None:
        stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out: cannot write {out}: {exc.strerror or exc}") from None
    stderr.write(f"wrote {out}\n")
