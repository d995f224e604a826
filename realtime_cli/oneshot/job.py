"""What one ``rtc create`` is asked to do: the options, the events they make (validated before
anything connects), and what ``-c`` keeps for the next run."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.errors import UsageError
from realtime_cli.protocol import events
from realtime_cli.protocol.create_grammar import prompt_events
from realtime_cli.protocol.events import JSON
from realtime_cli.protocol.response_options import checked, checked_sets
from realtime_cli.session.handlers import DEFAULT_TIMEOUT, Handlers
from realtime_cli.session.last_exchange import item_events
from realtime_cli.session.recording import Recorder

if TYPE_CHECKING:
    from realtime_cli.audio.files import Clip


@dataclass
class CreateJob:
    endpoint: Endpoint
    response: JSON
    prompt: str | None = None
    event_id: str | None = None
    cancel_after: float | None = None
    timeout: float | None = None
    json_output: bool = False
    show_events: bool = False
    # None: the panel on stdout on a terminal, on stderr otherwise (stdout is the answer alone,
    # for `> file` and `$(...)`); "text": no panel at all; "panel": the panel on stdout always.
    output: str | None = None
    token_delay_ms: float = 20
    record: Recorder | None = None  # --record: every event both ways, as it happens
    audio_in: Path | None = None  # --audio-in: the user's turn is this file, spoken
    audio_out: Path | None = None  # --audio-out: the response's audio as a WAV file
    fast: bool = False  # --audio-in without real-time pacing
    play: bool = False  # --play: live playback through the audio extra
    audio_device: str | None = None  # --audio-device: default, or null (no sound card)
    # The tool loop (--tool-handler): with handlers, calls are answered and followed up until a
    # response ends without calls; the exit code is the final response's.
    handlers: Handlers = field(default_factory=Handlers)
    max_tool_rounds: int = 10
    tool_timeout: float | None = DEFAULT_TIMEOUT
    tool_approve: bool = False
    summary_json: bool = False  # --summary-json: stdout is one JSON object, at the end
    history: list[JSON] = field(default_factory=list)  # -c: earlier messages, re-created first
    keep: Path | None = None  # where this exchange is kept for the next -c (None: nowhere)
    raw: bool = False  # --raw: send without validating (beta servers, newer fields)
    set_paths: list[str] = field(default_factory=list)  # what --set wrote (may be unknown)
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)

    def client_events(self) -> list[JSON]:
        """The events to send, validated before anything is connected (exit 2 if invalid)."""
        return self.checked_events()[0]

    def checked_events(self) -> tuple[list[JSON], list[str]]:
        """The events, and a warning for each field that ``--set`` wrote and rtc does not know
        (sent anyway); any other problem is a ``UsageError``. ``--raw`` checks nothing."""
        made = [*item_events(self.history)]
        made += prompt_events(self.prompt, self.response, self.event_id)
        if self.raw:
            return made, []
        warnings = []
        for event in made:
            if event["type"] == events.Client.response_create:
                warnings += checked_sets(event, self.set_paths)
            else:
                checked(event)
        return made, warnings

    def kept(self, answer: str) -> list[JSON]:
        """The conversation so far, plus this exchange: what the next ``-c`` re-creates."""
        added = [{"role": "user", "text": self.prompt}] if self.prompt is not None else []
        added += [{"role": "assistant", "text": answer}] if answer else []
        return [*self.history, *added]

    def clip(self) -> Clip | None:
        """The --audio-in file read whole, before anything is connected (exit 2 if it cannot
        be); --audio-out's folder checked too."""
        if self.audio_out is not None and not self.audio_out.parent.is_dir():
            parent = self.audio_out.parent
            raise UsageError(f"--audio-out: {parent} is not a directory")
        if self.audio_in is None:
            return None
        from realtime_cli.audio.files import read_clip

        return read_clip(self.audio_in)
