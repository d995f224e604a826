"""``rtc export FILE --format wav``: the output audio of each response, one WAV file each.

Audio deltas (``response.output_audio.delta``, beta ``response.audio.delta``) are joined per
response in the order recorded and written with the stdlib ``wave`` module as 16-bit mono PCM:
``audio/pcm`` at 24 kHz as is; G.711 u-law / A-law (``audio/pcmu`` / ``audio/pcma``, 8 kHz)
decoded to PCM16 by ``audio.codecs`` and written at 8 kHz. The format of a response is its own
``audio.output.format`` (beta ``output_audio_format``) when the server reports it, else the
session's at the time the response was created.
"""

from __future__ import annotations

import base64
import binascii
import re
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realtime_cli.audio import codecs as audio
from realtime_cli.audio.takes import format_named
from realtime_cli.errors import RtcError, UsageError
from realtime_cli.protocol.events import Server, ga_type
from realtime_cli.session.recording import Entry, Header, Row

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass
class Track:
    """One response's output audio, as the server encoded it."""

    response_id: str
    format: str
    data: bytearray = field(default_factory=bytearray)
    deltas: int = 0

    def pcm16(self) -> bytes:
        """The audio as PCM16 little-endian at ``rate`` (whole samples only)."""
        pcm = audio.decode(bytes(self.data), self.format)
        return pcm[: len(pcm) - len(pcm) % 2]

    @property
    def rate(self) -> int:
        return audio.sample_rate(self.format)


@dataclass
class Written:
    path: Path
    track: Track
    frames: int

    def describe(self) -> str:
        seconds = self.frames / self.track.rate
        return (
            f"{self.path}  {seconds:.2f} s · {self.track.rate} Hz · {self.track.format}"
            f" · {self.track.deltas} deltas"
        )


def format_of(config: Any) -> str | None:
    """The output audio format named by a session or response object (GA or beta), if any;
    a name rtc cannot decode is kept as it is, so the export can say which it skipped."""
    name = format_named(config)
    return audio.BETA_FORMATS.get(name, name) if name is not None else None


def collect(rows: Iterable[Row], notice: Callable[[str], None]) -> tuple[list[Track], bool]:
    """Every response's output audio in the order responses started, and whether the recording
    says its audio was dropped (``--record-audio no``)."""
    session_format = audio.PCM
    tracks: dict[str, Track] = {}
    dropped = False
    for row in rows:
        if isinstance(row, Header):
            dropped = dropped or not row.audio
            continue
        if row.direction != "server":
            continue
        event = row.event
        type_ = ga_type(str(event["type"]))
        if type_ in (Server.session_created, Server.session_updated):
            session_format = format_of(event.get("session")) or session_format
        elif type_ == Server.response_created:
            response = event.get("response")
            if isinstance(response, dict) and isinstance(response.get("id"), str):
                fmt = format_of(response) or session_format
                tracks[response["id"]] = Track(response["id"], fmt)
        elif type_ == Server.response_output_audio_delta:
            _add(tracks, row, session_format, notice)
    return [t for t in tracks.values() if t.data], dropped


def _add(tracks: dict[str, Track], entry: Entry, fmt: str, notice: Callable[[str], None]) -> None:
    event = entry.event
    response_id = event.get("response_id")
    delta = event.get("delta")
    if not isinstance(response_id, str) or not isinstance(delta, str):
        notice(f"rtc: line {entry.line}: audio delta without response_id or delta: skipped")
        return
    try:
        data = base64.b64decode(delta, validate=True)
    except (binascii.Error, ValueError):
        notice(f"rtc: line {entry.line}: audio delta is not base64: skipped")
        return
    track = tracks.get(response_id)
    if track is None:  # its response.created is not in the recording
        track = tracks[response_id] = Track(response_id, fmt)
    track.data += data
    track.deltas += 1


def write(track: Track, directory: Path) -> Written:
    """Write one track as ``DIRECTORY/<response id>.wav``."""
    path = directory / (_UNSAFE.sub("_", track.response_id) + ".wav")
    pcm = track.pcm16()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(track.rate)
        out.writeframes(pcm)
    return Written(path, track, len(pcm) // 2)


def export_wav(
    rows: Iterable[Row], directory: Path, notice: Callable[[str], None], name: str
) -> list[Written]:
    """Write a WAV file per response with output audio into ``directory`` (created if needed)."""
    tracks, dropped = collect(rows, notice)
    if not tracks:
        why = " (it was recorded with --record-audio no)" if dropped else ""
        raise RtcError(f"no output audio in {name}{why}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        return [write(track, directory) for track in tracks]
    except OSError as exc:
        raise UsageError(f"--out: cannot write to {directory}: {exc.strerror or exc}") from None
