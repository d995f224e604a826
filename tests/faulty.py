"""A Realtime server that misbehaves on purpose, for fault-injection tests (test-only).

It speaks just enough of the protocol: ``session.created`` on connect, and to every
``response.create`` one text response (``response.created``, a delta "Hello", ``response.done``
completed, ``rate_limits.updated``), except where its ``mode`` injects the fault:

    drop          created + a delta, then the TCP connection is cut (no close frame)
    close_1011    created + a delta, then close 1011
    expired       error session_expired, then close 1001
    stall         session.created, then nothing: no answer, not even to pings
    huge          a 20 MB delta frame inside an otherwise normal response
    non_json      a text frame that is not JSON, then a normal response
    binary        a binary frame, then a normal response
    unknown       an event of an unknown type, then a normal response
    missing       a delta missing its required fields, then a normal response
    phantom       a delta for a response never announced, then a normal response
    late          a normal response, then deltas after its response.done
    invalid_key   error invalid_api_key on connect, then close 4000
    cancelled     a response cancelled by someone else (turn_detected)
    failed        a response that fails with server_error "The model crashed."
    hold          created + a delta, then waits (a response that stays active until cancelled;
                  answers response.cancel with its cancelled response.done)

``served(mode)`` yields the URL; the server runs in a thread (rtc runs its own loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Iterator
from typing import Any

from proxy import serving
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

MODES = (
    "drop",
    "close_1011",
    "expired",
    "stall",
    "huge",
    "non_json",
    "binary",
    "unknown",
    "missing",
    "phantom",
    "late",
    "invalid_key",
    "hold",
    "cancelled",
    "failed",
)
HUGE_BYTES = 20 * 1024 * 1024
LIMITS = {
    "type": "rate_limits.updated",
    "rate_limits": [{"name": "tokens", "limit": 100, "remaining": 99, "reset_seconds": 1}],
}
FAILED_ERROR = {"type": "server_error", "code": "model_crashed", "message": "The model crashed."}
CLIENT_CANCELLED = {"type": "cancelled", "reason": "client_cancelled"}
STATUS_DETAILS: dict[str, Any] = {
    "cancelled": {"type": "cancelled", "reason": "turn_detected"},
    "failed": {"type": "failed", "error": FAILED_ERROR},
}


class Faulty:
    def __init__(self, mode: str) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self.ids = itertools.count(1)
        self.received: list[dict[str, Any]] = []  # client events, parsed
        self.close_codes: list[int | None] = []  # the close code rtc sent, per connection
        self.sent: list[str | bytes] = []  # every frame sent, in order
        self.stopping = False  # set when the test is done: a stalled handler then ends

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.ids)}"

    async def handle(self, ws: ServerConnection) -> None:
        try:
            await self._session(ws)
        except ConnectionClosed:
            pass
        finally:
            self.close_codes.append(ws.close_code)

    async def _send(self, ws: ServerConnection, event: dict[str, Any]) -> None:
        event.setdefault("event_id", self._id("event"))
        await self._frame(ws, json.dumps(event))

    async def _frame(self, ws: ServerConnection, frame: str | bytes) -> None:
        self.sent.append(frame)
        await ws.send(frame)

    async def _session(self, ws: ServerConnection) -> None:
        if self.mode == "invalid_key":
            error = {
                "type": "invalid_request_error",
                "code": "invalid_api_key",
                "message": "Incorrect API key provided.",
            }
            await self._send(ws, {"type": "error", "error": error})
            await ws.close(4000, "invalid_api_key")
            return
        session = {"id": self._id("sess"), "object": "realtime.session", "type": "realtime"}
        await self._send(ws, {"type": "session.created", "session": session})
        if self.mode == "stall":
            ws.transport.pause_reading()  # no frame read: no pong, no close answered
            while not self.stopping:  # noqa: ASYNC110 (set from the test's thread)
                await asyncio.sleep(0.05)
            ws.transport.abort()
            return
        held: str | None = None
        async for frame in ws:
            event = json.loads(frame)
            self.received.append(event)
            if event.get("type") == "response.cancel" and held:
                await self._done(ws, held, "cancelled", "Hello", details=CLIENT_CANCELLED)
                held = None
            elif event.get("type") == "response.create":
                held = await self._respond(ws)

    async def _respond(self, ws: ServerConnection) -> str | None:
        mode = self.mode
        if mode == "expired":
            error = {
                "type": "invalid_request_error",
                "code": "session_expired",
                "message": "Your session hit the maximum duration of 60 minutes.",
            }
            await self._send(ws, {"type": "error", "error": error})
            await ws.close(1001, "session expired")
            return None
        if mode == "non_json":
            await self._frame(ws, "this is not json {")
        elif mode == "binary":
            await self._frame(ws, b"\x00\x01binary\xff")
        elif mode == "unknown":
            await self._send(ws, {"type": "response.sparkle", "sparkle": True})
        elif mode == "missing":
            await self._send(ws, {"type": "response.output_text.delta"})
        elif mode == "phantom":
            await self._send(ws, self._delta("resp_never_announced", "Ghost"))
        response_id = self._id("resp")
        response = {"id": response_id, "object": "realtime.response", "status": "in_progress"}
        await self._send(ws, {"type": "response.created", "response": response})
        await self._send(ws, self._delta(response_id, "Hello"))
        if mode == "drop":
            await asyncio.sleep(0.05)  # let the delta reach rtc before the cut
            ws.transport.abort()
            return None
        if mode == "close_1011":
            await ws.close(1011, "internal server error")
            return None
        if mode == "hold":
            return response_id
        if mode in ("cancelled", "failed"):
            await self._done(ws, response_id, mode, "Hello")
            return None
        if mode == "huge":
            await self._send(ws, self._delta(response_id, "x" * HUGE_BYTES))
        await self._done(ws, response_id, "completed", "Hello", limits=mode != "late")
        if mode == "late":  # between response.done and its rate_limits.updated
            await self._send(ws, self._delta(response_id, " again"))
            await self._send(ws, self._delta(response_id, " and again"))
            await self._send(ws, dict(LIMITS))
        return None

    def _delta(self, response_id: str, delta: str) -> dict[str, Any]:
        return {
            "type": "response.output_text.delta",
            "response_id": response_id,
            "item_id": "item_1",
            "output_index": 0,
            "content_index": 0,
            "delta": delta,
        }

    async def _done(
        self,
        ws: ServerConnection,
        response_id: str,
        status: str,
        text: str,
        limits: bool = True,
        details: dict[str, Any] | None = None,
    ) -> None:
        usage = {"total_tokens": 3, "input_tokens": 2, "output_tokens": 1}
        content = [{"type": "output_text", "text": text}]
        output = [{"id": "item_1", "type": "message", "role": "assistant", "content": content}]
        response = {
            "id": response_id,
            "object": "realtime.response",
            "status": status,
            "status_details": details or STATUS_DETAILS.get(status),
            "output": output,
            "usage": usage,
        }
        await self._send(ws, {"type": "response.done", "response": response})
        if limits:
            await self._send(ws, dict(LIMITS))


@contextlib.contextmanager
def served(mode: str) -> Iterator[tuple[str, Faulty]]:
    """The faulty server in ``mode`` on a free port: (URL, the server's state)."""
    server = Faulty(mode)
    with serving(server.handle) as url:
        try:
            yield url, server
        finally:
            server.stopping = True
