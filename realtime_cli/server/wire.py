"""Small pieces every server module shares: building server events and the errors they carry."""

from __future__ import annotations

import copy
from typing import Any

from realtime_cli.protocol.events import JSON, Server, new_id
from realtime_cli.protocol.schema import Problem

ERROR_TYPE = "invalid_request_error"


class Rejected(Exception):
    """A refused client event: one non-fatal ``error`` event, and nothing applied."""

    def __init__(self, code: str | None, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param

    @classmethod
    def from_problem(cls, problem: Problem) -> Rejected:
        return cls(problem.code, problem.service_message, problem.param or None)


def not_found(item_id: str, param: str) -> Rejected:
    # Wording and code as the live service answers (seen in client code that matches on it).
    return Rejected("invalid_value", f"Item with item_id not found: {item_id}", param)


def event(type_: Server, **fields: Any) -> JSON:
    """A server event: its type, a fresh ``event_id`` shaped like the live service's, and fields."""
    return {"type": type_, "event_id": new_id("event"), **fields}


def error_event(
    code: str | None,
    message: str,
    param: str | None = None,
    client_event_id: str | None = None,
    error_type: str = ERROR_TYPE,
) -> JSON:
    return event(
        Server.error,
        error={
            "type": error_type,
            "code": code,
            "message": message,
            "param": param,
            "event_id": client_event_id,
        },
    )


def without_audio(item: JSON) -> JSON:
    """A copy of an item with audio bytes left out, as ``*.added``/``*.done`` events carry it."""
    shown = copy.deepcopy(item)
    for part in shown.get("content") or ():
        if isinstance(part, dict):
            part.pop("audio", None)
    return shown
