"""The tool loop's steps as one line each: the call and its arguments, the handler's run (time,
exit status; red when it failed), the output sent, the follow-up response.create."""

from __future__ import annotations

from rich.text import Text

from realtime_cli.protocol.fields import obj, text
from realtime_cli.render.safe import one_line
from realtime_cli.session.tool_driver import Step

_ARGS_SHOWN = 200


def step_text(step: Step, *, max_rounds: int | None = None) -> Text | None:
    call = step.call
    if step.kind == "call" and call is not None:
        line = Text("tool call ", style="cyan")
        line.append(one_line(call.name), style="bold cyan")
        line.append(" " + one_line(call.arguments, _ARGS_SHOWN))
        line.append(f"  {one_line(call.call_id)}", style="dim")
        if not step.handled:
            line.append("  (no handler: tool-output CALL_ID TEXT answers it)", style="yellow")
        return line
    if step.kind == "ran" and call is not None and step.result is not None:
        result = step.result
        if result.ok:
            line = Text(f"tool ran {one_line(call.name)}", style="green")
            line.append(f"  {result.seconds:.2f}s exit {result.status}", style="dim")
            line.append(f"  → {one_line(result.output, 80)}")
            return line
        line = Text(f"tool failed {one_line(call.name)}: {one_line(result.problem)}", style="red")
        line.append(f"  {result.seconds:.2f}s", style="dim")
        return line
    if step.kind == "sent" and step.event is not None:
        event = step.event
        item = obj(event.get("item"))
        if item.get("type") == "function_call_output":
            output = text(item.get("output"))
            line = Text(f"tool output sent {one_line(text(item.get('call_id')))}", style="dim")
            line.append(f"  {len(output.encode())} bytes", style="dim")
            return line
        if event.get("type") == "response.create":
            return Text(
                f"tool loop: follow-up response.create {one_line(text(event.get('event_id')))}",
                style="dim",
            )
        return None
    if step.kind == "exceeded":
        rounds = f" after {max_rounds} rounds" if max_rounds is not None else ""
        return Text(
            f"rtc: the tool loop did not converge{rounds} (--max-tool-rounds); stopping",
            style="bold red",
        )
    return None
