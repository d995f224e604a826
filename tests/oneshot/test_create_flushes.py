"""`rtc create` writes a burst of events with one flush, not one per event (issue #10): a flush
is a system call, and a million deltas made a million of them."""

from __future__ import annotations

import io
import json

from proxy import serving
from websockets.asyncio.server import ServerConnection

from realtime_cli.endpoint.select import select_endpoint
from realtime_cli.errors import ExitCode
from realtime_cli.oneshot import CreateJob, run_create

DELTAS = 3000


class Counting(io.StringIO):
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


async def burst(ws: ServerConnection) -> None:
    """A server that answers response.create with all its deltas at once."""
    response = {"id": "resp_burst", "object": "realtime.response", "status": "in_progress"}
    await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_burst"}}))
    async for message in ws:
        if json.loads(message).get("type") != "response.create":
            continue
        frames = [{"type": "response.created", "response": response}]
        frames += [
            {"type": "response.output_text.delta", "response_id": "resp_burst", "delta": f"w{n} "}
            for n in range(DELTAS)
        ]
        frames.append({"type": "response.done", "response": {**response, "status": "completed"}})
        for frame in frames:
            await ws.send(json.dumps(frame))


async def test_a_burst_of_deltas_is_flushed_per_burst_not_per_event() -> None:
    with serving(burst) as url:
        endpoint = select_endpoint(url=url, api_key=None, model=None, local=False, environ={})
        for json_output in (True, False):
            out = Counting()
            job = CreateJob(
                endpoint,
                {"output_modalities": ["text"]},
                json_output=json_output,
                stdout=out,
                stderr=io.StringIO(),
            )
            assert await run_create(job) == ExitCode.OK
            text = out.getvalue()
            assert f"w{DELTAS - 1} " in text
            if json_output:
                assert text.count('"response.output_text.delta"') == DELTAS
            assert out.flushes < DELTAS // 4, (json_output, out.flushes)  # one per event before
