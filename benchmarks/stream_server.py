"""A tiny Realtime server for the benchmark: every response.create gets N text deltas.

    python benchmarks/stream_server.py --deltas 1000000 [--rate 2000] [--stamps FILE]

The first stdout line is the URL. It speaks the event sequence of `rtc serve` in text mode
(session.created; conversation.item.added/done for each item; response.created …
response.output_text.delta × N … response.done, rate_limits.updated), but the reply does not
depend on the input, so a short prompt gets a reply of any size (rtc serve echoes its input,
and a prompt of millions of words cannot go through a command line).

Deltas are ``w<n> `` words (about 8 bytes each), or with --stamps ``s<seq> `` tokens whose
send times (time.monotonic, shared by every process of the machine) are written to FILE as
``seq<TAB>seconds`` lines when the response ends. --rate paces deltas at that many per second
(0: as fast as the socket takes them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, serve  # noqa: TID251
from websockets.exceptions import ConnectionClosed  # noqa: TID251

_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}_bench{next(_ids):017d}"


def _event(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, "event_id": _id("event"), **fields}, separators=(",", ":"))


SESSION: dict[str, Any] = {
    "type": "realtime",
    "object": "realtime.session",
    "id": "sess_bench",
    "model": "gpt-realtime",
    "output_modalities": ["text"],
    "instructions": "benchmark stream server",
    "tools": [],
    "tool_choice": "auto",
    "max_output_tokens": "inf",
    "tracing": None,
    "truncation": "auto",
    "prompt": None,
    "expires_at": 4102444800,
    "audio": {
        "input": {"format": {"type": "audio/pcm", "rate": 24000}, "turn_detection": None},
        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy"},
    },
    "include": None,
}


def _frame(text: str) -> bytes:
    """One unmasked text frame, as a server sends it (written straight to the socket: the
    websockets library costs more per frame than a client does to read it)."""
    data = text.encode()
    size = len(data)
    if size < 126:
        return bytes((0x81, size)) + data
    if size < 1 << 16:
        return bytes((0x81, 126)) + size.to_bytes(2, "big") + data
    return bytes((0x81, 127)) + size.to_bytes(8, "big") + data


class Streamer:
    def __init__(self, deltas: int, rate: float, stamps: Path | None) -> None:
        self.deltas = deltas
        self.rate = rate
        self.stamps = stamps

    def word(self, seq: int) -> str:
        return f"s{seq:07d} " if self.stamps else f"w{seq % 1_000_000} "

    async def handle(self, ws: ServerConnection) -> None:
        await ws.send(_event("session.created", session=SESSION))
        previous: str | None = None
        conversation = _id("conv")
        streaming: asyncio.Task[None] | None = None
        try:
            async for message in ws:
                try:
                    event = json.loads(message)
                except ValueError:
                    continue
                kind = event.get("type") if isinstance(event, dict) else None
                if kind == "conversation.item.create":
                    item = dict(event.get("item") or {})
                    item.update(id=item.get("id") or _id("item"), object="realtime.item")
                    item["status"] = "completed"
                    for name in ("conversation.item.added", "conversation.item.done"):
                        await ws.send(_event(name, previous_item_id=previous, item=item))
                    previous = item["id"]
                elif kind == "session.update":
                    await ws.send(_event("session.updated", session=SESSION))
                elif kind == "response.create":
                    if streaming is not None:
                        await streaming
                    streaming = asyncio.create_task(self.respond(ws, conversation, previous))
                elif kind == "response.cancel" and streaming is not None:
                    streaming.cancel()
            if streaming is not None:
                await streaming
        except (ConnectionClosed, asyncio.CancelledError):
            if streaming is not None:
                streaming.cancel()

    async def respond(self, ws: ServerConnection, conversation: str, previous: str | None) -> None:
        rid, iid = _id("resp"), _id("item")
        response: dict[str, Any] = {
            "object": "realtime.response",
            "id": rid,
            "status": "in_progress",
            "status_details": None,
            "output": [],
            "conversation_id": conversation,
            "output_modalities": ["text"],
            "max_output_tokens": "inf",
            "usage": None,
            "metadata": None,
        }
        item: dict[str, Any] = {
            "id": iid,
            "object": "realtime.item",
            "status": "in_progress",
            "type": "message",
            "role": "assistant",
            "content": [],
        }
        where = {"response_id": rid, "item_id": iid, "output_index": 0, "content_index": 0}
        await ws.send(_event("response.created", response=response))
        await ws.send(
            _event("response.output_item.added", response_id=rid, output_index=0, item=item)
        )
        await ws.send(_event("conversation.item.added", previous_item_id=previous, item=item))
        await ws.send(
            _event("response.content_part.added", **where, part={"type": "text", "text": ""})
        )
        head = json.dumps({"type": "response.output_text.delta"}, separators=(",", ":"))[:-1]
        tail = json.dumps(where, separators=(",", ":"))[1:-1]
        words: list[str] = []
        sent: list[float] = []
        batch: list[bytes] = []
        transport = ws.transport
        start = time.monotonic()
        for seq in range(self.deltas):
            if self.rate:
                wait = start + seq / self.rate - time.monotonic()
                if wait > 0:
                    transport.write(b"".join(batch))
                    batch.clear()
                    await asyncio.sleep(wait)
            word = self.word(seq)
            words.append(word)
            if self.stamps:
                sent.append(time.monotonic())
            batch.append(_frame(f'{head},"event_id":"event_d{seq}",{tail},"delta":"{word}"}}'))
            if len(batch) >= 256:
                transport.write(b"".join(batch))
                batch.clear()
                # the client's pace: wait while a MiB is still unsent
                while transport.get_write_buffer_size() > 1 << 20:  # noqa: ASYNC110
                    await asyncio.sleep(0.001)
        transport.write(b"".join(batch))
        text = "".join(words)
        if self.stamps:
            with self.stamps.open("a") as out:
                out.writelines(f"{seq}\t{at:.6f}\n" for seq, at in enumerate(sent))
        part = {"type": "text", "text": text}
        await ws.send(_event("response.output_text.done", **where, text=text))
        await ws.send(_event("response.content_part.done", **where, part=part))
        item.update(status="completed", content=[{"type": "output_text", "text": text}])
        await ws.send(_event("conversation.item.done", previous_item_id=previous, item=item))
        await ws.send(
            _event("response.output_item.done", response_id=rid, output_index=0, item=item)
        )
        tokens = {"input_tokens": 1, "output_tokens": self.deltas}
        response.update(
            status="completed", output=[item], usage={"total_tokens": self.deltas + 1, **tokens}
        )
        await ws.send(_event("response.done", response=response))
        await ws.send(
            _event(
                "rate_limits.updated",
                rate_limits=[
                    {"name": "tokens", "limit": 40000, "remaining": 39000, "reset_seconds": 0.1}
                ],
            )
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deltas", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.0, help="deltas per second (0: no pacing)")
    parser.add_argument("--stamps", type=Path, help="write each delta's send time here")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    streamer = Streamer(args.deltas, args.rate, args.stamps)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.cancel)
    async with serve(
        streamer.handle, "127.0.0.1", args.port, compression=None, max_size=None
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        sys.stdout.write(f"ws://127.0.0.1:{port}/v1/realtime\n")
        sys.stdout.flush()
        with contextlib.suppress(asyncio.CancelledError):
            await stop


if __name__ == "__main__":
    asyncio.run(main())
