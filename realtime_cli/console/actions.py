"""The console's commands. Each handler takes the shell, the words after the command name and
the line as typed (so a server error can name the line that caused it).

``create`` is parsed with the one ``create`` grammar (``protocol.create_grammar``) that ``rtc
create`` declares its options from: the shell and the console cannot drift. The console-only
commands use ``parse.parse_args``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
from collections.abc import Collection
from pathlib import Path

from realtime_cli.console import tool_calls, voice
from realtime_cli.console.command_table import COMMANDS
from realtime_cli.console.parse import (
    NOT_IN_CONSOLE,
    help_sections,
    last_count,
    one_id,
    parse_args,
    parse_json_events,
    split_force,
)
from realtime_cli.console.reconnect import replay_items
from realtime_cli.console.shell import Handler, Shell
from realtime_cli.errors import ConnectionLost, UsageError
from realtime_cli.protocol import events
from realtime_cli.protocol.create_grammar import (
    CREATE_OPTIONS,
    Opt,
    parse_create,
    prompt_events,
    response_options,
)
from realtime_cli.protocol.events import JSON, Client
from realtime_cli.protocol.response_options import (
    build_response,
    checked,
    checked_sets,
    load_tools,
    set_path,
    set_paths,
)
from realtime_cli.render import (
    help_view,
    items_table,
    log_row,
    print_json,
    print_listed_row,
    responses_table,
)


def create_options() -> tuple[Opt, ...]:
    """The options of ``rtc create`` that mean something in the console."""
    return tuple(opt for opt in CREATE_OPTIONS if opt.console)


async def create(shell: Shell, args: list[str], line: str) -> None:
    args, force = split_force(args)
    refused = {
        flag: f"{flag} is an option of `rtc create`, not of the console"
        for flag in NOT_IN_CONSOLE.values()
    }
    try:
        params = parse_create(args, create_options(), refused=refused)
    except UsageError as exc:
        raise UsageError("create: " + " ".join(exc.message.split())) from None
    response = build_response(response_options(params))
    if response.get("conversation") != "none" and not force:
        shell.guard("add --conversation none (out-of-band) or --force")
    context: list[str] = []
    if params["with_context"]:
        if response.get("conversation") != "none":
            raise UsageError("create: --with-context goes with --conversation none")
        context = list(shell.connected().tracker.items)
    to_send = prompt_events(params["prompt"], response, params["event_id"], context)
    warnings = []
    for event in to_send:  # all valid before any is sent
        if event["type"] == Client.response_create:
            warnings += checked_sets(event, set_paths(params["set_"] or []))
        else:
            checked(event)
    for warning in warnings:
        shell.say(f"warning: {warning}", "yellow")
    for event in to_send:
        sent = await shell.send(event, line, validate=False)
    if params["cancel_after"] is not None:
        shell.spawn(_cancel_later(shell, str(sent["event_id"]), params["cancel_after"], line))


async def _cancel_later(shell: Shell, event_id: str, seconds: float, line: str) -> None:
    """``create --cancel-after``: cancel that response when the time comes, if still active."""
    await asyncio.sleep(seconds)
    session = shell.session
    if session is None or shell.state != "connected":
        return
    response = session.tracker.response_for_request(event_id)
    if session.tracker.error_for(event_id) or (response is not None and not response.active):
        return
    with contextlib.suppress(ConnectionLost, UsageError):
        await shell.send(events.response_cancel(response.id if response else None), line)


async def cancel(shell: Shell, args: list[str], line: str) -> None:
    values, rest = parse_args("cancel", args)
    session = shell.connected()
    if values.get("--all"):
        if rest:
            raise UsageError("cancel: give a response id or --all, not both")
        active = shell.active()
        if not active:
            shell.say("nothing to cancel: no response is active", "yellow")
        for response in active:
            await shell.send(events.response_cancel(response.id), line)
        return
    if rest:
        if not values.get("--force"):
            known_id("cancel", rest[0], session.tracker.responses, "response")
        await shell.send(events.response_cancel(rest[0]), line)
        return
    default = session.tracker.active_default()
    # With nothing active the server answers response_cancel_not_active: a notice, and the truth.
    await shell.send(events.response_cancel(default.id if default else None), line)
    others = [r.id for r in shell.active() if r.out_of_band]
    if default is None and others:
        shell.say(f"out-of-band responses are active ({', '.join(others)}): cancel --all or ID")


async def interrupt(shell: Shell) -> None:
    """Ctrl-C while responses are active: cancel each of them by id (and stop what the
    extensions run: tool handlers)."""
    for extension in shell.extensions:
        if extension.busy():
            await extension.interrupt()
    if shell.voice is not None:
        shell.voice.barge_in("Ctrl-C")  # playback stops first, then the cancels go out
    for response in shell.cancellable():
        shell.say(f"cancelling {response.id}", "yellow")
        with contextlib.suppress(ConnectionLost, UsageError):
            await shell.send(events.response_cancel(response.id), "Ctrl-C")


async def session_update(shell: Shell, args: list[str], line: str) -> None:
    values, _ = parse_args("session", args)
    if not values:
        current = shell.session.tracker.session if shell.session else None
        if current:
            print_json(shell.out, current)
        else:
            shell.say("no session yet")
        return
    session: JSON = {"type": "realtime"}
    if "--instructions" in values:
        session["instructions"] = values["--instructions"]
    if "--modality" in values:
        session["output_modalities"] = [values["--modality"]]
    if "--voice" in values:
        session["audio"] = {"output": {"voice": values["--voice"]}}
    if "--turn-detection" in values:
        mode = values["--turn-detection"]
        detection = None if mode == "none" else {"type": mode}
        session.setdefault("audio", {})["input"] = {"turn_detection": detection}
    if "--tools" in values:
        session["tools"] = load_tools(Path(values["--tools"]))
    for assignment in values.get("--set", []):
        set_path(session, assignment, prefix="session")
    await shell.send({"type": Client.session_update, "session": session}, line)


async def raw(shell: Shell, args: list[str], line: str) -> None:
    """``raw {...}``: the JSON after the word, as pasted (not shlex-split), sent unvalidated."""
    text = line.strip().partition(" ")[2].strip()
    if not text:
        raise UsageError("raw: what to send? usage: raw {JSON}")
    shell.connected()
    for event in parse_json_events(text):
        await shell.send(event, line, validate=False)


async def items(shell: Shell, args: list[str], line: str) -> None:
    parse_args("items", args)
    known = list(shell.session.tracker.items.values()) if shell.session else []
    if known:
        shell.out.print(items_table(known))
    else:
        shell.say("no items yet")


def known_id(command: str, wanted: str, known: Collection[str], kind: str) -> None:
    """Refuse an id this session has never seen (``cancel all`` is not a response id): the
    server would answer with an error after the fact, or the response would keep going."""
    if wanted in known:
        return
    newest = list(known)[-5:][::-1]
    listed = f"known: {', '.join(newest)}" if newest else f"no {kind} yet"
    extra = "; cancel --all cancels every active response" if command == "cancel" else ""
    raise UsageError(
        f"{command}: no {kind} {wanted!r} in this session ({listed}){extra};"
        " --force sends it anyway"
    )


async def _item_command(shell: Shell, command: str, type_: str, args: list[str], line: str) -> None:
    values, _ = parse_args(command, args)
    item_id = one_id(command, args)
    session = shell.connected()
    if not values.get("--force"):
        known_id(command, item_id, session.tracker.items, "item")
    await shell.send({"type": type_, "item_id": item_id}, line)


async def delete(shell: Shell, args: list[str], line: str) -> None:
    await _item_command(shell, "delete", Client.conversation_item_delete, args, line)


async def retrieve(shell: Shell, args: list[str], line: str) -> None:
    await _item_command(shell, "retrieve", Client.conversation_item_retrieve, args, line)


async def responses(shell: Shell, args: list[str], line: str) -> None:
    options, _ = parse_args("responses", args)
    known = list(shell.session.tracker.responses.values()) if shell.session else []
    if options.get("--totals"):
        shell.say(f"session totals: {shell.totals.line()}", "bold")
    elif known:
        costs = {r.id: shell.meter(r).cost_text() for r in known if not r.active}
        shell.out.print(responses_table(known, costs))
        voice.meters(shell, known)
        tool_calls.show_chains(shell)  # the tool loops among them
    else:
        shell.say("no responses yet")


async def log(shell: Shell, args: list[str], line: str) -> None:
    values, _ = parse_args("events", args)
    pattern = values.get("--type")
    chosen = [
        e
        for e in shell.log
        if pattern is None or fnmatch.fnmatchcase(str(e.event.get("type")), pattern)
    ]
    chosen = chosen[-last_count(values.get("--last")) :]
    if shell.log.dropped:  # said first: "no events of type session.*" may only mean "not now"
        shell.say(shell.log.describe_bounds())
    if not chosen:
        shell.say("no events" + (f" of type {pattern}" if pattern else ""))
    for entry in chosen:
        print_listed_row(shell.out, log_row(entry.t, entry.direction, entry.event))


async def show(shell: Shell, args: list[str], line: str) -> None:
    wanted = one_id("show", args)
    tracker = shell.session.tracker if shell.session else None
    for entry in reversed(shell.log):
        if entry.event.get("event_id") == wanted:
            print_json(shell.out, entry.event)
            return
    if tracker and wanted in tracker.items:
        print_json(shell.out, tracker.items[wanted])
    elif tracker and wanted in tracker.responses:
        print_json(shell.out, tracker.responses[wanted].raw)
    else:
        raise UsageError(f"show: no event, item or response {wanted!r} in this session")


async def view(shell: Shell, args: list[str], line: str) -> None:
    _, rest = parse_args("view", args)
    if not rest or rest[0] not in ("events", "responses", "quiet"):
        raise UsageError(f"view: say events, responses or quiet (now {shell.view})")
    shell.rows.flush()
    shell.view = rest[0]
    shell.say(f"view: {shell.view}")


async def help_(shell: Shell, args: list[str], line: str) -> None:
    _, rest = parse_args("help", args)
    shell.out.print(help_view(help_sections(rest[0] if rest else None, create_options())))


HANDLERS: dict[str, Handler] = {
    **voice.HANDLERS,
    "create": create,
    "cancel": cancel,
    "session": session_update,
    "raw": raw,
    "items": items,
    "delete": delete,
    "retrieve": retrieve,
    "responses": responses,
    "events": log,
    "show": show,
    "view": view,
    "help": help_,
    # -- the tool loop (issue 13) --
    "tool-output": tool_calls.tool_output,
    "calls": tool_calls.calls,
    "approve": tool_calls.approve,
    "deny": tool_calls.deny,
    "replay-items": replay_items,
}
assert set(HANDLERS) | {"quit", "reconnect", "clear"} == set(COMMANDS)
