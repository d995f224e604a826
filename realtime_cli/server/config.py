"""The session configuration: its defaults and how ``session.update`` changes it.

Defaults are what the live service reports in ``session.created`` (protocol.md §2.2). An update
deep-merges into the current configuration: only the fields present change, ``""`` clears
``instructions``, ``[]`` clears ``tools``, ``null`` clears ``turn_detection``/``noise_reduction``.
An object with a different ``type`` (``server_vad`` → ``semantic_vad``, ``audio/pcm`` →
``audio/pcmu``) replaces the old one and gets that type's defaults.
"""

from __future__ import annotations

import copy
from typing import Any

from realtime_cli.audio import codecs as audio
from realtime_cli.protocol.events import JSON, new_id
from realtime_cli.server.wire import Rejected

SESSION_SECONDS = 3600
DEFAULT_INSTRUCTIONS = (
    "You are the rtc local Realtime server. You reply with the latest user message, word for word."
)
DEFAULT_VOICE = "alloy"
SERVER_VAD: JSON = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 200,
    "idle_timeout_ms": None,
    "create_response": True,
    "interrupt_response": True,
}
SEMANTIC_VAD: JSON = {
    "type": "semantic_vad",
    "eagerness": "auto",
    "create_response": True,
    "interrupt_response": True,
}
# Objects that are replaced whole: a prompt reference is one value, not a set of fields.
_REPLACED = frozenset({"prompt"})


def default_session(model: str, now: float) -> JSON:
    """The configuration a new session starts with, in the live service's field order."""
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": new_id("sess"),
        "model": model,
        "output_modalities": ["audio"],
        "instructions": DEFAULT_INSTRUCTIONS,
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": int(now) + SESSION_SECONDS,
        "audio": {
            "input": {
                "format": {"type": audio.PCM, "rate": audio.PCM_RATE},
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": copy.deepcopy(SERVER_VAD),
            },
            "output": {
                "format": {"type": audio.PCM, "rate": audio.PCM_RATE},
                "voice": DEFAULT_VOICE,
                "speed": 1.0,
            },
        },
        "include": None,
    }


def _merge(old: Any, new: Any, key: str = "") -> Any:
    same_kind = (
        isinstance(old, dict)
        and isinstance(new, dict)
        and key not in _REPLACED
        and new.get("type", old.get("type")) == old.get("type")
    )
    if not same_kind:
        return copy.deepcopy(new)
    merged = dict(old)
    for name, value in new.items():
        merged[name] = _merge(old[name], value, name) if name in old else copy.deepcopy(value)
    return merged


def _fill_format(fmt: Any) -> None:
    if isinstance(fmt, dict) and fmt.get("type") == audio.PCM:
        fmt.setdefault("rate", audio.PCM_RATE)


def _normalize(session: JSON) -> None:
    audio_config = session.get("audio", {})
    audio_in = audio_config.get("input", {})
    _fill_format(audio_in.get("format"))
    _fill_format(audio_config.get("output", {}).get("format"))
    vad = audio_in.get("turn_detection")
    if isinstance(vad, dict):
        defaults = SERVER_VAD if vad["type"] == "server_vad" else SEMANTIC_VAD
        audio_in["turn_detection"] = {**defaults, **vad}
    for tool in session.get("tools", []):
        tool.setdefault("type", "function")


def apply_update(current: JSON, update: JSON, *, audio_sent: bool) -> JSON:
    """The configuration after a (shape-checked) ``session.update``; raises ``Rejected`` whole."""
    if update.get("type") != "realtime":
        raise Rejected(
            "invalid_value",
            "Invalid value for 'session.type': this is a realtime session; "
            f"it cannot become a {update.get('type')} session.",
            "session.type",
        )
    if "model" in update and update["model"] != current["model"]:
        raise Rejected(
            "invalid_value",
            f"Invalid value for 'session.model': the model cannot be changed during a session "
            f"(it is '{current['model']}').",
            "session.model",
        )
    voice = update.get("audio", {}).get("output", {}).get("voice")
    if audio_sent and voice is not None and voice != current["audio"]["output"]["voice"]:
        raise Rejected(
            "invalid_value",
            "Cannot update a conversation's voice if assistant audio is present.",
            "session.audio.output.voice",
        )
    tracing = current.get("tracing")
    if tracing is not None and "tracing" in update and update["tracing"] != tracing:
        raise Rejected(
            "invalid_value",
            "Invalid value for 'session.tracing': tracing cannot be modified once enabled.",
            "session.tracing",
        )
    session: JSON = _merge(current, update)
    _normalize(session)
    return session
