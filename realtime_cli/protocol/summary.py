"""A response in words, worded once for every place that shows one: the terminal (``render``),
the Markdown transcript (``export``) and ``rtc doctor``.

Plain strings, no rich. They may hold server text (ids, statuses, metadata), which the caller
makes safe for where it goes (``safe_text.clean``, or rich ``Text`` in ``render``).
"""

from __future__ import annotations

from realtime_cli.protocol.events import JSON
from realtime_cli.protocol.fields import obj, text
from realtime_cli.protocol.tracker import ResponseState

RESPONSE_COLUMNS = (
    "response",
    "status",
    "reason",
    "tokens in/out",
    "first delta",
    "total",
    "metadata",
)


def ms(seconds: float | None) -> str:
    """A duration as people read it: ``840 ms``, ``1.50 s``; ``-`` when there is none."""
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def usage_line(usage: JSON | None) -> str:
    """``151 total · 72 in · 79 out (5 cached, out 5 text/15 audio)``, or ``-`` for no usage.
    ``usage`` is the tracker's (integers only)."""
    if not usage:
        return "-"
    line = (
        f"{usage.get('total_tokens', 0)} total · {usage.get('input_tokens', 0)} in"
        f" · {usage.get('output_tokens', 0)} out"
    )
    in_details = obj(usage.get("input_token_details"))
    out_details = obj(usage.get("output_token_details"))
    extra = []
    if in_details.get("cached_tokens"):
        extra.append(f"{in_details['cached_tokens']} cached")
    if out_details.get("audio_tokens"):
        text_tokens = out_details.get("text_tokens", 0)
        extra.append(f"out {text_tokens} text/{out_details['audio_tokens']} audio")
    return line + (f" ({', '.join(extra)})" if extra else "")


def metadata_line(metadata: JSON | None) -> str:
    """``key=value`` pairs, values as text (JSON when not strings)."""
    return " ".join(f"{key}={text(value)}" for key, value in (metadata or {}).items())


def _start(response: ResponseState) -> float:
    return response.t_request if response.t_request is not None else response.t_created


def since_start(response: ResponseState, t: float | None) -> float | None:
    """Seconds from the request (or, if rtc did not send it, from response.created) to ``t``."""
    return None if t is None else t - _start(response)


def timings(response: ResponseState) -> str:
    """``created 250 ms · first delta 500 ms · total 1.50 s`` (what is known of it)."""
    parts = []
    if response.t_request is not None:
        parts.append(f"created {ms(since_start(response, response.t_created))}")
    if response.t_first_delta is not None:
        parts.append(f"first delta {ms(since_start(response, response.t_first_delta))}")
    if response.t_done is not None:
        parts.append(f"total {ms(since_start(response, response.t_done))}")
    return " · ".join(parts) or "-"


def voice_line(response: ResponseState, audio_ms: float) -> str:
    """``speech stopped → first audio 120 ms · generated 1.20 s · played 0.50 s``: the voice
    meters of a response with audio (``audio_ms``: how long its audio is), or ``""``."""
    if response.t_speech_stopped is None and response.audio_played_ms is None:
        return ""  # typed turns with nothing played: the panel's audio line says it all
    parts = []
    if response.t_speech_stopped is not None and response.t_first_delta is not None:
        parts.append(
            f"speech stopped → first audio {ms(response.t_first_delta - response.t_speech_stopped)}"
        )
    if audio_ms:
        parts.append(f"generated {audio_ms / 1000:.2f} s")
    if response.audio_played_ms is not None:
        parts.append(f"played {response.audio_played_ms / 1000:.2f} s")
    return " · ".join(parts)


def tokens(response: ResponseState) -> str:
    """``in/out``: the usage's, or while streaming ``-/`` one per delta so far."""
    if response.usage:
        return f"{response.usage.get('input_tokens', 0)}/{response.usage.get('output_tokens', 0)}"
    return f"-/{response.deltas}" if response.active else "-/-"


def response_row(response: ResponseState) -> list[str]:
    """The cells of ``RESPONSE_COLUMNS`` for one response."""
    return [
        response.id,
        response.status,
        response.reason or "",
        tokens(response),
        ms(since_start(response, response.t_first_delta)),
        ms(since_start(response, response.t_done)),
        metadata_line(response.metadata),
    ]
