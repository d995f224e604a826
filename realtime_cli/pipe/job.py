"""What one ``rtc pipe`` is asked to do."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.protocol.tool_loop import DEFAULT_MAX_ROUNDS
from realtime_cli.session.handlers import DEFAULT_TIMEOUT, Handlers
from realtime_cli.session.recording import Recorder

if TYPE_CHECKING:
    pass

DEFAULT_IDLE_TIMEOUT = 10.0


@dataclass
class PipeJob:
    endpoint: Endpoint
    pretty: bool | None = None  # None: pretty when stdout is a terminal
    event_ids: bool = True
    strict: bool = False
    until: str | None = None
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    timeout: float | None = None
    token_delay_ms: float = 20
    record: Recorder | None = None  # --record: every event both ways, as it happens
    audio_out: Path | None = None  # --audio-out DIR: each response's audio as DIR/<id>.wav
    # The tool loop (--tool-handler): calls are answered and followed up, and the end-of-work
    # rule waits for the loop to finish.
    handlers: Handlers = field(default_factory=Handlers)
    max_tool_rounds: int = DEFAULT_MAX_ROUNDS
    tool_timeout: float | None = DEFAULT_TIMEOUT
    stdin: IO[Any] = field(default_factory=lambda: sys.stdin)
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
