"""The tool loop on a live session: runs a handler for each finished function call, sends the
outputs and the follow-up ``response.create`` that ``protocol.tool_loop`` says are due.

Front ends (``rtc create``, ``rtc pipe``, the console) make one ``ToolDriver``, pass it every
``Received`` (``feed``), and show what its ``report`` callback tells them. Handlers run as tasks
of their own, so a slow one never blocks reading the socket (nor the console's prompt);
``aclose`` cancels them, which kills their processes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from realtime_cli.errors import ConnectionLost
from realtime_cli.protocol.events import JSON
from realtime_cli.protocol.tool_loop import ToolCall, ToolLoop
from realtime_cli.session.client import Received, Session
from realtime_cli.session.handlers import (
    DEFAULT_TIMEOUT,
    Handlers,
    Result,
    error_output,
    run_handler,
)

DECLINED = "the user declined to run this tool"


@dataclass(frozen=True)
class Step:
    """One visible step of the loop: ``call`` (a call finished, ``handled`` says whether a
    handler will answer it), ``ran`` (a handler ended: ``result``), ``sent`` (an output went
    back; ``event`` is the follow-up ``response.create`` when that is what was sent),
    ``exceeded`` (``--max-tool-rounds`` reached)."""

    kind: str
    call: ToolCall | None = None
    result: Result | None = None
    handled: bool = False
    event: JSON | None = None


Approve = Callable[[ToolCall], Awaitable[bool]]


class ToolDriver:
    def __init__(
        self,
        session: Session,
        handlers: Handlers,
        loop: ToolLoop,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        approve: Approve | None = None,
        report: Callable[[Step], None] = lambda step: None,
        answer_unhandled: bool = False,
    ) -> None:
        self.session = session
        self.handlers = handlers
        self.loop = loop
        self.timeout = timeout
        self.approve = approve
        self.report = report
        # rtc create and pipe answer a call no handler takes with an error output (nobody is
        # there to answer it by hand); the console leaves it pending for `tool-output`.
        self.answer_unhandled = answer_unhandled
        self._asking = asyncio.Lock()  # one approval question at a time
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.failure: BaseException | None = None  # a send that failed (connection lost)
        session.on_sent.append(self._on_sent)

    @property
    def busy(self) -> bool:
        return self.loop.busy or bool(self._tasks)

    def _on_sent(self, event: JSON, text: str, t: float) -> None:
        self.loop.sent(event)
        self._flush()

    def feed(self, received: Received) -> None:
        for call in self.loop.feed(received.update):
            handler = self.handlers.for_tool(call.name)
            self.report(Step("call", call, handled=handler is not None))
            if handler is not None:
                self._start(self._handle(call))
            elif self.answer_unhandled:
                problem = f"rtc has no handler for the tool {call.name!r}"
                result = Result(error_output(problem), False, 0.0, None, problem)
                self.report(Step("ran", call, result))
                self._start(
                    self._send_all(self.loop.answer(call.call_id, result.output, self._next_id))
                )
        if self.loop.exceeded is not None:
            self.report(Step("exceeded"))
        self._flush()

    def _start(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self.failure is None:
            self.failure = task.exception()
        if not self._tasks:
            self._idle.set()

    async def _handle(self, call: ToolCall) -> None:
        handler = self.handlers.for_tool(call.name)
        assert handler is not None
        if self.approve is not None:
            async with self._asking:
                approved = await self.approve(call)
        else:
            approved = True
        if not approved:
            result = Result(error_output(DECLINED), False, 0.0, None, DECLINED)
        else:
            result = await run_handler(
                handler,
                tool=call.name,
                call_id=call.call_id,
                arguments=call.arguments,
                time_limit=self.timeout,
            )
        self.report(Step("ran", call, result))
        if call.answered:  # answered by hand meanwhile
            return
        await self._send_all(self.loop.answer(call.call_id, result.output, self._next_id))

    def _next_id(self) -> str:
        return self.session.next_event_id()

    def _flush(self) -> None:
        due = self.loop.ready(self._next_id)
        if due:
            self._start(self._send_all(due))

    async def _send_all(self, due: list[JSON]) -> None:
        for event in due:
            sent = await self.session.send(event)
            self.report(Step("sent", event=sent))

    async def wait(self) -> None:
        """Until no handler runs and nothing is being sent."""
        await self._idle.wait()
        if self.failure is not None:
            raise self.failure

    async def stop(self) -> None:
        """Stop every handler (killing its process) and every pending send; the calls they
        were answering stay pending."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, ConnectionLost):
                await task

    async def aclose(self) -> None:
        """``stop``, and stop following the session."""
        await self.stop()
        with contextlib.suppress(ValueError):
            self.session.on_sent.remove(self._on_sent)
