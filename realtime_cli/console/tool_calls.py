"""The tool loop in the console: handlers (asking first, by default), calls answered by hand
(``tool-output``), the pending calls (``calls``), and MCP approval requests (``approve`` /
``deny``).

A ``ConsoleTools`` is a shell extension (``Shell.extensions``): on each connection it drives a
``ToolDriver`` whose handlers run as tasks, so the prompt stays live while one runs; Ctrl-C
stops them. An approval question is answered by the next typed ``y`` or ``n`` (or ``approve
CALL_ID`` / ``deny CALL_ID``). A call no handler takes stays pending until ``tool-output``.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from realtime_cli.console.shell import Handler, Shell
from realtime_cli.errors import UsageError
from realtime_cli.protocol import events
from realtime_cli.protocol.events import JSON, Refused, Server, loads
from realtime_cli.protocol.fields import obj, text
from realtime_cli.protocol.tool_loop import DEFAULT_MAX_ROUNDS, ToolCall, ToolLoop, output_item
from realtime_cli.protocol.tracker import ResponseState
from realtime_cli.render.tool_steps import step_text
from realtime_cli.session.client import Received, Session
from realtime_cli.session.handlers import DEFAULT_TIMEOUT, Handlers
from realtime_cli.session.tool_driver import Step, ToolDriver

_YES = ("y", "yes")
_NO = ("n", "no")
_MCP_KEPT = 200  # MCP approval requests remembered (the newest)


@dataclass
class ToolSettings:
    """The console's tool options (``rtc --tool-handler ...``)."""

    handlers: Handlers
    approve: bool = True  # the console asks before running a handler, unless told not to
    timeout: float | None = DEFAULT_TIMEOUT
    max_rounds: int = DEFAULT_MAX_ROUNDS


_ATTACHED: weakref.WeakKeyDictionary[Shell, ConsoleTools] = weakref.WeakKeyDictionary()


def tools_of(shell: Shell) -> ConsoleTools:
    """The shell's tool loop (one with no handlers if none was attached)."""
    found = _ATTACHED.get(shell)
    return found if found is not None else ConsoleTools(shell, ToolSettings(Handlers()))


class ConsoleTools:
    def __init__(self, shell: Shell, settings: ToolSettings) -> None:
        self.shell = shell
        self.settings = settings
        self.driver: ToolDriver | None = None
        self.asking: OrderedDict[str, tuple[ToolCall, asyncio.Future[bool]]] = OrderedDict()
        self.running: set[str] = set()
        self.mcp_requests: OrderedDict[str, JSON] = OrderedDict()  # id → approval request item
        shell.extensions.append(self)
        _ATTACHED[shell] = self
        if shell.session is not None:
            self.connected(shell.session)

    # -- the shell's extension protocol ------------------------------------------------------

    def connected(self, session: Session) -> None:
        self.driver = ToolDriver(
            session,
            self.settings.handlers,
            ToolLoop(self.settings.max_rounds),
            timeout=self.settings.timeout,
            approve=self.ask if self.settings.approve else None,
            report=self.on_step,
        )

    def received(self, received: Received) -> None:
        if self.driver is not None:
            self.driver.feed(received)
        if received.update.type in (Server.conversation_item_added, Server.conversation_item_done):
            item = obj(received.event.get("item"))
            if item.get("type") == "mcp_approval_request" and isinstance(item.get("id"), str):
                self._mcp_request(item)

    async def disconnected(self) -> None:
        await self.interrupt()
        if self.driver is not None:
            await self.driver.aclose()
            self.driver = None

    async def intercept(self, line: str) -> bool:
        answer = line.strip().lower()
        if not self.asking or answer not in (*_YES, *_NO):
            return False
        call_id = next(iter(self.asking))
        self._answer(call_id, answer in _YES)
        return True

    def busy(self) -> bool:
        return bool(self.running or self.asking)

    async def interrupt(self) -> None:
        """Ctrl-C: stop every running handler (its call stays pending) and every question."""
        for call_id in list(self.asking):
            self._answer(call_id, False)
        if self.driver is not None and self.running:
            self.shell.say(f"stopping {len(self.running)} tool handler(s)", "yellow")
            await self.driver.stop()
            self.running.clear()

    # -- questions -----------------------------------------------------------------------------

    async def ask(self, call: ToolCall) -> bool:
        handler = self.settings.handlers.for_tool(call.name)
        command = handler.text if handler else "?"
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.asking[call.call_id] = (call, future)
        self.shell.say(
            f"run `{command}` for {call.name} {call.arguments} ({call.call_id})?"
            f" y/n (or approve/deny {call.call_id})",
            "bold yellow",
        )
        self.shell.generation += 1
        return await future

    def _answer(self, call_id: str, approved: bool) -> None:
        _call, future = self.asking.pop(call_id)
        if approved:  # at once: a `calls` typed next must already say so
            self.running.add(call_id)
        if not future.done():
            future.set_result(approved)

    def on_step(self, step: Step) -> None:
        if step.kind == "ran" and step.call is not None:
            self.running.discard(step.call.call_id)
        unasked = step.kind == "call" and step.handled and not self.settings.approve
        if unasked and step.call is not None:
            self.running.add(step.call.call_id)
        line = step_text(step, max_rounds=self.settings.max_rounds)
        if line is not None:
            self.shell.rows.flush()
            self.shell.out.print(line)
        self.shell.generation += 1
        self.shell.changed = True

    def _mcp_request(self, item: JSON) -> None:
        if item["id"] in self.mcp_requests:
            return
        self.mcp_requests[item["id"]] = item
        while len(self.mcp_requests) > _MCP_KEPT:
            self.mcp_requests.popitem(last=False)
        self.shell.say(
            f"MCP approval request {item['id']}: {text(item.get('server_label'))}."
            f"{text(item.get('name'))} {text(item.get('arguments'))}"
            f" · approve {item['id']} / deny {item['id']}",
            "bold yellow",
        )

    # -- commands ------------------------------------------------------------------------------

    def chains(self) -> list[list[ResponseState]]:
        """The tool loops of this session: each a response and its follow-ups, in order."""
        if self.driver is None:
            return []
        responses = self.driver.session.tracker.responses
        parents = self.driver.loop.parents
        child: dict[str, ResponseState] = {}
        for response in responses.values():
            parent = parents.get(response.request_event_id or "")
            if parent is not None:
                child[parent] = response
        followed = {r.id for r in child.values()}
        chains = []
        for response_id in child:
            if response_id in followed or response_id not in responses:
                continue
            chain = [responses[response_id]]
            while chain[-1].id in child:
                chain.append(child[chain[-1].id])
            chains.append(chain)
        return chains

    def pending(self) -> list[ToolCall]:
        return self.driver.loop.pending if self.driver is not None else []

    def pending_ids(self) -> list[str]:
        return [c.call_id for c in self.pending()] + list(self.mcp_requests)

    def state_of(self, call: ToolCall) -> str:
        if call.call_id in self.asking:
            return "waiting for y/n"
        if call.call_id in self.running:
            return "handler running"
        return "needs tool-output"

    async def decide(self, wanted: str, approve: bool, line: str) -> None:
        """``approve ID`` / ``deny ID``: a handler's question, or an MCP approval request."""
        if wanted in self.asking:
            self._answer(wanted, approve)
            return
        if wanted in self.mcp_requests:
            self.mcp_requests.pop(wanted)
            response: JSON = {
                "type": "mcp_approval_response",
                "id": events.new_id("mcpr"),
                "approval_request_id": wanted,
                "approve": approve,
            }
            await self.shell.send(events.item_create(response), line)
            verdict = "approved" if approve else "denied"
            self.shell.say(f"{wanted} {verdict}: mcp_approval_response sent")
            return
        known = ", ".join(list(self.asking) + list(self.mcp_requests)) or "none"
        raise UsageError(f"{wanted!r} is not waiting for approval (waiting: {known})")

    async def send_output(self, call_id: str, output: str, create: bool, line: str) -> None:
        if self.driver is None or self.driver.loop.call(call_id) is None:
            pending = ", ".join(c.call_id for c in self.pending()) or "none"
            raise UsageError(f"tool-output: {call_id!r} is not a pending call (pending: {pending})")
        if create:
            self.shell.guard("use tool-output --no-create and send response.create later")
        await self.shell.send(events.item_create(output_item(call_id, output)), line)
        if create:
            await self.shell.send(events.response_create(), line)


def output_text(raw: str) -> str:
    """What ``tool-output`` sends: ``@FILE``'s text, ``{JSON}`` checked and compacted, a quoted
    text unquoted, anything else as typed."""
    raw = raw.strip()
    if raw.startswith("@"):
        path = Path(raw[1:]).expanduser()
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise UsageError(f"tool-output: cannot read {path}: {reason}") from None
    if raw.startswith(("{", "[")):
        try:
            value = loads(raw)
        except json.JSONDecodeError as exc:
            raise UsageError(f"tool-output: not JSON ({exc.msg} at column {exc.colno})") from None
        except Refused as exc:
            raise UsageError(f"tool-output: {exc.reason}") from None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    return raw


# -- the console commands (registered in actions.HANDLERS) -------------------------------------


async def tool_output(shell: Shell, args: list[str], line: str) -> None:
    """``tool-output [--no-create] CALL_ID TEXT|@FILE|{JSON}``. The output is read from the
    line as typed (not from ``args``): shell-style splitting would eat a JSON object's quotes."""
    words = line.strip().split(None, 1)
    rest = words[1] if len(words) > 1 else ""
    create = True
    while rest.startswith("--"):
        option, _, rest = rest.partition(" ")
        if option != "--no-create":
            raise UsageError(f"tool-output: no such option {option}")
        create = False
        rest = rest.lstrip()
    call_id, _, raw = rest.partition(" ")
    if raw.strip().startswith("--no-create"):
        create = False
        raw = raw.strip().removeprefix("--no-create")
    if not call_id or not raw.strip():
        raise UsageError("tool-output takes CALL_ID and TEXT, @FILE or {JSON}")
    await tools_of(shell).send_output(call_id, output_text(raw), create, line)


async def calls(shell: Shell, args: list[str], line: str) -> None:
    """``calls``: the pending function calls with their arguments, and MCP approval requests."""
    tools = tools_of(shell)
    pending = tools.pending()
    if not pending and not tools.mcp_requests:
        shell.say("no pending calls")
        return
    for call in pending:
        shell.say(
            f"{call.call_id}  {call.name} {call.arguments}  · {tools.state_of(call)}", "default"
        )
    for request_id, item in tools.mcp_requests.items():
        shell.say(
            f"{request_id}  MCP {text(item.get('server_label'))}.{text(item.get('name'))}"
            f" {text(item.get('arguments'))}  · approve or deny",
            "default",
        )


def _decision(approve: bool) -> Handler:
    async def decide(shell: Shell, args: list[str], line: str) -> None:
        if len(args) != 1:
            raise UsageError(f"{'approve' if approve else 'deny'} takes one CALL_ID or request id")
        await tools_of(shell).decide(args[0], approve, line)

    return decide


approve = _decision(True)
deny = _decision(False)


def show_chains(shell: Shell) -> None:
    """Under ``responses``: each tool loop as a chain, the calls each response made."""
    for chain in tools_of(shell).chains():
        steps = []
        for response in chain:
            names = ", ".join(text(c.get("name")) for c in response.function_calls)
            steps.append(
                f"{response.id} ({names})" if names else f"{response.id} {response.status}"
            )
        shell.say("tool loop: " + " → ".join(steps), "default")
