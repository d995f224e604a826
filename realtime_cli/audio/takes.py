"""The output audio of recent responses, kept so it can be saved or played after the fact.

Fed the server events as they arrive (``feed``): a response's format comes from its own
``audio.output.format`` in ``response.created`` (beta ``output_audio_format``), else the
session's. Memory is bounded: the newest ``KEPT`` responses, at most ``MAX_SECONDS`` each
(audio beyond it is counted but not kept).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realtime_cli.audio import codecs
from realtime_cli.protocol.events import JSON, Server, ga_type

KEPT = 8  # responses whose audio is kept (save/play work on these)
MAX_SECONDS = 10 * 60  # per response: audio beyond it is counted, not kept
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def format_named(config: Any) -> str | None:
    """The output format's name as a session or response object gives it (GA
    ``audio.output.format``, beta ``output_audio_format``), unchecked; None if it names none."""
    if not isinstance(config, dict):
        return None
    audio_config = config.get("audio")
    output = audio_config.get("output") if isinstance(audio_config, dict) else None
    fmt = output.get("format") if isinstance(output, dict) else None
    name = fmt.get("type") if isinstance(fmt, dict) else fmt
    if not isinstance(name, str):
        name = config.get("output_audio_format")
    return name if isinstance(name, str) else None


def format_of(config: Any) -> str | None:
    """The output format named by a session or response object (GA or beta), if any."""
    name = format_named(config)
    return codecs.format_name(name) if name is not None else None


@dataclass
class Take:
    """One response's output audio, as the server encoded it."""

    response_id: str
    format: str
    data: bytearray = field(default_factory=bytearray)
    received: int = 0  # bytes received, kept or not
    done: bool = False

    @property
    def rate(self) -> int:
        return codecs.sample_rate(self.format)

    @property
    def ms(self) -> float:
        return codecs.duration_ms(self.received, self.format)

    def pcm16(self) -> bytes:
        """The audio decoded to PCM16 at ``rate`` (whole samples only)."""
        pcm = codecs.decode(bytes(self.data), self.format)
        return pcm[: len(pcm) - len(pcm) % 2]


def save(take: Take, directory: Path) -> Path:
    """Write ``take`` as ``DIRECTORY/<response id>.wav`` (``OSError`` as raised)."""
    from realtime_cli.audio.files import write_wav

    path = directory / (_UNSAFE.sub("_", take.response_id) + ".wav")
    write_wav(path, take.pcm16(), take.rate)
    return path


class Takes:
    def __init__(self) -> None:
        self.session_format = codecs.PCM
        self.takes: OrderedDict[str, Take] = OrderedDict()

    def get(self, response_id: str) -> Take | None:
        return self.takes.get(response_id)

    def _take(self, response_id: str, fmt: str) -> Take:
        take = self.takes.get(response_id)
        if take is None:
            take = self.takes[response_id] = Take(response_id, fmt)
            while len(self.takes) > KEPT:
                self.takes.popitem(last=False)
        return take

    def feed(self, event: JSON) -> Take | None:
        """Take in one server event; returns the take an audio delta or done added to."""
        type_ = ga_type(str(event.get("type")))
        if type_ in (Server.session_created, Server.session_updated):
            self.session_format = format_of(event.get("session")) or self.session_format
        elif type_ == Server.response_created:
            response = event.get("response")
            if isinstance(response, dict) and isinstance(response.get("id"), str):
                self._take(response["id"], format_of(response) or self.session_format)
        elif type_ == Server.response_output_audio_delta:
            response_id, delta = event.get("response_id"), event.get("delta")
            if not isinstance(response_id, str) or not isinstance(delta, str):
                return None
            try:
                data = base64.b64decode(delta, validate=True)
            except (binascii.Error, ValueError):
                return None
            take = self._take(response_id, self.session_format)
            take.received += len(data)
            room = MAX_SECONDS * 1000 * codecs.bytes_per_ms(take.format) - len(take.data)
            take.data += data[: max(0, room)]
            return take
        elif type_ == Server.response_done:
            response = event.get("response")
            if isinstance(response, dict) and isinstance(response.get("id"), str):
                finished = self.takes.get(response["id"])
                if finished is not None:
                    finished.done = True
                return finished
        return None
