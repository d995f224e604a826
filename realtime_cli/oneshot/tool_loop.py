"""``rtc create --tool-handler``: the function-call loop, step by step."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

from realtime_cli.protocol.tracker import ResponseState
from realtime_cli.session.client import (
    Session,
)

if TYPE_CHECKING:
    from realtime_cli.oneshot.job import CreateJob
    from realtime_cli.oneshot.say import Say
    from realtime_cli.protocol.tool_loop import ToolCall
    from realtime_cli.render.tool_steps import StepLine
    from realtime_cli.session.tool_driver import Step, ToolDriver


class ToolSteps:
    """The tool loop of ``rtc create`` (a part of ``run.Run``): handlers answer calls and the
    follow-up response becomes the one followed; each step is shown."""

    job: CreateJob
    session: Session
    say: Say
    response: ResponseState | None
    request_id: str
    driver: ToolDriver | None
    loop_exceeded: bool

    def _loop_owes(self) -> bool:
        """The tool loop has calls of our response to answer, or a follow-up to send."""
        if self.driver is None or self.response is None:
            return False
        if self.driver.failure is not None:
            raise self.driver.failure
        return self.driver.busy

    def on_step(self, step: Step) -> None:
        from realtime_cli.render.tool_steps import step_text

        if step.kind == "exceeded":
            self.loop_exceeded = True
        if step.kind == "sent" and step.event and step.event.get("type") == "response.create":
            self.request_id = str(step.event.get("event_id"))
            self.response = None  # the follow-up's response is ours now
        if self.job.json_output and step.kind != "exceeded":
            return  # --json: the events on stdout show the loop
        line = step_text(step, max_rounds=self.job.max_tool_rounds)
        if line is not None:
            self.print_text(line)

    def print_text(self, line: StepLine) -> None:
        """A line of rtc's on stderr: styled for a person, plain with --json."""
        if self.say.console is not None:
            self.say.line.end()
            self.say.console.print(line)
        else:
            self.say(line.plain)

    async def approve(self, call: ToolCall) -> bool:
        """--tool-approve: ask on stderr, read y/N from stdin (a closed stdin declines)."""
        from realtime_cli.render.tool_steps import approval_text

        self.print_text(approval_text(call.name, call.arguments))
        answer = await asyncio.to_thread(_read_answer)
        return answer.strip().lower() in ("y", "yes")

    def start_tool_loop(self) -> None:
        if not self.job.handlers:
            return
        from realtime_cli.protocol.tool_loop import ToolLoop
        from realtime_cli.session.tool_driver import ToolDriver

        self.driver = ToolDriver(
            self.session,
            self.job.handlers,
            ToolLoop(self.job.max_tool_rounds),
            timeout=self.job.tool_timeout,
            approve=self.approve if self.job.tool_approve else None,
            report=self.on_step,
            answer_unhandled=True,
        )


def _read_answer() -> str:
    """A line from stdin (``rtc create`` reads nothing else from it); at its end: no."""
    return sys.stdin.readline()
