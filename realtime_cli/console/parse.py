"""The console's grammar: what a typed line means, the small options parser of the console-only
commands, the help text, and completion candidates. Pure functions; no I/O, no prompt-toolkit.
The commands themselves (usages, options, examples) are data in ``command_specs``.

A line is one of: nothing; raw client events (it starts with ``{`` or ``[``: one object, a JSON
array of them, or several objects one after another, as pipe mode reads them); a command (its
first word is a command name, optionally written ``/name``); otherwise a chat message. A command
that takes no arguments (``quit``, ``reconnect``, ...), or only flags (``responses [--totals]``),
followed by words that are not options is a chat message too: "quit smoking tips" is a question,
not a way out (``/quit ...`` is always the command, and an error). ``create`` is parsed with
the grammar ``rtc create`` declares its options from (``protocol.create_grammar``), so shell and
console never drift.
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from realtime_cli.console.command_table import (
    ALIASES,
    COMMANDS,
    HELP_FLAGS,
    KEYS,
    LINE_RULES,
    SESSION_OPTIONS,
    VIEWS,
)
from realtime_cli.endpoint.endpoint import CONNECTION_OPTIONS
from realtime_cli.errors import UsageError
from realtime_cli.protocol.create_grammar import CREATE_OPTIONS, Opt
from realtime_cli.protocol.events import (
    JSON,
    MODALITIES,
    TOOL_CHOICE_MODES,
    VOICES,
    Client,
    Refused,
    Server,
    raw_decode,
)
from realtime_cli.protocol.json_reader import Bad, JsonStream
from realtime_cli.protocol.tracker import Tracker

# Options of `rtc create` that belong to the start of a one-shot run, not to the console.
NOT_IN_CONSOLE = {
    **CONNECTION_OPTIONS,
    **{opt.key: opt.name for opt in CREATE_OPTIONS if not opt.console},
    "record": "--record",
    "record_audio": "--record-audio",
}
_JSON_STARTS = ("{", "[")  # a line starting with one of these is JSON


# -- what a line is ----------------------------------------------------------------------------


@dataclass
class Chat:
    text: str


@dataclass
class RawEvents:
    """Client events typed or pasted as JSON, to send in order."""

    events: list[JSON]


@dataclass
class Command:
    name: str
    args: list[str] = field(default_factory=list)


Line = Chat | RawEvents | Command


def classify(line: str) -> Line | None:
    """What a typed line means; ``UsageError`` with a one-line message when it means nothing."""
    text = line.strip()
    if not text:
        return None
    if text.startswith(_JSON_STARTS):
        return RawEvents(parse_json_events(text))
    word, _, rest = text.partition(" ")
    slash = word.startswith("/")
    name = ALIASES.get(word.lstrip("/"), word.lstrip("/"))
    if name in COMMANDS:
        if rest.strip() in HELP_FLAGS:  # "create --help": the console's help, not the CLI's
            return Command("help", [name])
        spec = COMMANDS[name]
        # "quit smoking tips", "responses to criticism": words where nothing or only flags
        # (--totals) fit are a message; a line of option-like words stays the command, so a
        # mistyped flag is an error, never a sent message.
        if spec.words_are_a_message and not slash and not _all_option_like(rest):
            return Chat(text)
        if rest.strip() and not spec.takes_arguments:
            raise UsageError(f"{name} takes no arguments")
        if name == "raw":  # JSON as typed: not shell words (an apostrophe is not a quote)
            return Command(name, [rest.strip()] if rest.strip() else [])
        try:
            args = shlex.split(rest)
        except ValueError as exc:
            raise UsageError(f"{name}: {exc} (quote with ' or \")") from None
        before_dashes = args[: args.index("--")] if "--" in args else args
        if any(arg in HELP_FLAGS for arg in before_dashes):
            return Command("help", [name])
        return Command(name, args)
    if slash:
        raise UsageError(f"unknown command {word!r}{_did_you_mean(word.lstrip('/'), COMMANDS)}")
    return Chat(text)


def _all_option_like(rest: str) -> bool:
    """Whether every word is written as an option (``--totals``, ``-h``, a typo like
    ``--total``); a word such as ``to``, ``-`` or ``--`` is a word of a message. No words at
    all: the command alone."""
    return all(word.startswith("-") and word.strip("-") for word in rest.split())


def parse_json_events(text: str) -> list[JSON]:
    """The client events in ``text``, read as pipe mode reads stdin (``pipecore.JsonStream``):
    an object, a JSON array of objects, or several objects one after another (pasted JSON
    Lines). The first problem is a ``UsageError``; when there are several, it names which."""
    stream = JsonStream()
    # The line is whole: ended by a newline, an error on its last line is what it says, not
    # "more may come".
    items = stream.feed(text + "\n") + stream.close()
    several = len(items) > 1 or text.startswith("[")
    if not items:
        raise UsageError("nothing to send: the array is empty")
    events: list[JSON] = []
    for number, item in enumerate(items, 1):
        which = f"event {number}: " if several else ""
        if isinstance(item, Bad):
            where = f"line {item.line} column {item.column}" if "\n" in text else ""
            where = where or f"column {item.column}"
            reason = item.reason.partition(" (in the value from")[0]  # ``which`` says so
            hint = ""
            if number == 1 and text.startswith("["):  # "[draft] a message" is not JSON at all
                hint = "; a line starting with [ is JSON: for a message, write create '...'"
            raise UsageError(f"{which}{reason} at {where}{hint}")
        if not isinstance(item.value, dict):
            raise UsageError(f"{which}a raw event must be a JSON object")
        if not isinstance(item.value.get("type"), str):
            example = '{"type": "response.create"}'
            raise UsageError(f'{which}a raw event needs a "type", e.g. {example}')
        events.append(item.value)
    return events


def json_unfinished(text: str) -> bool:
    """True while ``text`` is the beginning of JSON events (Enter should continue it): an
    object or array not closed yet, after any complete ones."""
    stripped = text.strip()
    if not stripped.startswith(_JSON_STARTS):
        return False
    pos = 0
    while pos < len(stripped):
        try:
            _, pos = raw_decode(stripped, pos)
        except json.JSONDecodeError as exc:
            # An error at the very end means "more to come"; elsewhere it is a mistake to report.
            return exc.pos >= len(stripped) or exc.msg.startswith("Unterminated string")
        except Refused:  # complete, and wrong: Enter sends it and the error says what
            return False
        pos = len(stripped) - len(stripped[pos:].lstrip())
    return False


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# -- options of console-only commands ----------------------------------------------------------


def parse_args(command: str, args: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """Options and positionals of a console-only command, checked against its ``Spec``."""
    spec = COMMANDS[command]
    by_name = {opt.name: opt for opt in spec.options}
    by_name |= {opt.short: opt for opt in spec.options if opt.short}
    values: dict[str, Any] = {}
    rest: list[str] = []
    items = list(args)
    while items:
        arg = items.pop(0)
        if arg == "--":
            rest += items
            break
        if not arg.startswith("-") or len(arg) == 1:
            rest.append(arg)
            continue
        name, eq, inline = arg.partition("=")
        opt = by_name.get(name)
        if opt is None:
            raise UsageError(f"{command}: no option {name}{_did_you_mean(name, by_name)}")
        if opt.metavar is None:
            if eq:
                raise UsageError(f"{command}: {name} takes no value")
            values[opt.name] = True
            continue
        if not eq:
            if not items:
                raise UsageError(f"{command}: {name} needs a value ({opt.metavar})")
            inline = items.pop(0)
        if opt.choices and inline not in opt.choices:
            raise UsageError(
                f"{command}: {name} must be one of {', '.join(opt.choices)}; got {inline!r}"
            )
        if opt.repeat:
            values.setdefault(opt.name, []).append(inline)
        else:
            values[opt.name] = inline
    if len(rest) > spec.positionals:
        raise UsageError(f"{command}: unexpected argument {rest[spec.positionals]!r}")
    return values, rest


def one_id(command: str, args: Sequence[str]) -> str:
    _, rest = parse_args(command, args)
    if not rest:
        raise UsageError(f"{command}: which id? usage: {COMMANDS[command].usage}")
    return rest[0]


def split_force(args: Sequence[str]) -> tuple[list[str], bool]:
    """``create``'s own option: ``--force`` skips the active-response guard."""
    kept = [a for a in args if a != "--force"]
    return kept, len(kept) != len(args)


def last_count(value: str | None, default: int = 30) -> int:
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise UsageError(f"events: --last takes a positive number, got {value!r}")
    return int(value)


# -- help -------------------------------------------------------------------------------------


Section = tuple[str, list[tuple[str, str]]]  # a heading and its (term, description) rows


def help_sections(topic: str | None, create_options: Sequence[Opt] = ()) -> list[Section]:
    """The overview (commands and keys), or one command's usage, options and examples."""
    if topic is None:
        commands = [(s.usage, s.summary) for s in COMMANDS.values()]
        commands += [
            ("TEXT", "a user message: conversation.item.create + response.create"),
            (
                "{JSON}",
                "raw client events (an object, an array, pasted JSON Lines): all"
                " validated, then sent in order",
            ),
        ]
        return [("commands", commands), ("lines", list(LINE_RULES)), ("keys", list(KEYS))]
    name = ALIASES.get(topic.lstrip("/"), topic.lstrip("/"))
    spec = COMMANDS.get(name)
    if spec is None:
        raise UsageError(
            f"help: no command {topic!r}{_did_you_mean(topic, COMMANDS)}; to send it as a message,"
            f" write create {shlex.quote(topic)}"
        )
    options = (*create_options, Opt("--force", help="send even while a response is active"))
    options = options if name == "create" else spec.options
    sections: list[Section] = [(f"usage: {spec.usage}", [("", spec.summary)])]
    if options:
        aligned = any(o.short for o in options)
        sections.append(("options", [(_opt_usage(o, aligned), o.help) for o in options]))
    if spec.examples:
        sections.append(("examples", [(e, "") for e in spec.examples]))
    return sections


def _opt_usage(opt: Opt, aligned: bool) -> str:
    """``-i, --instructions TEXT``; long names line up when some option has a short one."""
    names = f"{opt.short}, {opt.name}" if opt.short else ("    " if aligned else "") + opt.name
    return names + (f" {opt.metavar}" if opt.metavar else "")


# -- completion -------------------------------------------------------------------------------

_TYPE_VALUE = re.compile(r'"type"\s*:\s*"([\w.]*)$')


@dataclass
class CompletionContext:
    """What the console knows that completion can offer."""

    create_options: Sequence[Opt] = ()
    response_ids: Sequence[str] = ()  # the active ones
    all_response_ids: Sequence[str] = ()
    item_ids: Sequence[str] = ()
    event_ids: Sequence[str] = ()
    call_ids: Sequence[str] = ()  # pending function calls and MCP approval requests


def _value_choices(option: str, ctx: CompletionContext) -> tuple[str, ...]:
    fixed = {"--voice": VOICES, "--tool-choice": TOOL_CHOICE_MODES, "--modality": MODALITIES}
    if option in fixed:
        return fixed[option]
    if option == "--type":
        return tuple(Server) + tuple(Client)
    for opt in (*ctx.create_options, *SESSION_OPTIONS):
        if opt.name == option:
            return opt.choices
    return ()


def completions(before: str, ctx: CompletionContext) -> tuple[list[str], int]:
    """Candidates for the word before the cursor, and how many characters they replace."""
    if before.lstrip().startswith("{"):
        match = _TYPE_VALUE.search(before)
        if not match:
            return [], 0
        word = match.group(1)
        return [t for t in Client if t.startswith(word)], len(word)
    words = before.split()
    current = "" if not words or before[-1:].isspace() else words[-1]
    done = words if not current else words[:-1]
    if not done:
        names = [f"/{n}" for n in COMMANDS] if current.startswith("/") else list(COMMANDS)
        return [n for n in names if n.startswith(current)], len(current)
    command = ALIASES.get(done[0].lstrip("/"), done[0].lstrip("/"))
    if command not in COMMANDS:
        return [], 0
    candidates: Sequence[str] = ()
    previous = done[-1] if len(done) > 1 else ""
    options = (*ctx.create_options, Opt("--force")) if command == "create" else ()
    options = options or COMMANDS[command].options
    named = next((o for o in options if previous in (o.name, o.short) and o.metavar), None)
    if previous.startswith("-") and named is not None:
        candidates = _value_choices(named.name, ctx)
    elif current.startswith("-"):
        candidates = [o.name for o in options]
    elif command == "cancel":
        candidates = ctx.response_ids
    elif command in ("delete", "retrieve"):
        candidates = ctx.item_ids
    elif command == "show":
        candidates = [*ctx.all_response_ids, *ctx.item_ids, *ctx.event_ids]
    elif command == "view":
        candidates = VIEWS
    elif command == "help":
        candidates = list(COMMANDS)
    elif command in ("tool-output", "approve", "deny") and len(done) == 1:
        candidates = ctx.call_ids
    return [c for c in dict.fromkeys(candidates) if c.startswith(current)], len(current)


def id_hint(word: str, tracker: Tracker, event_types: Mapping[str, str]) -> str:
    """What an id in a Tab menu is: a response's status and answer, an item's role and text,
    an event's type."""
    response = tracker.responses.get(word)
    if response is not None:
        oob = " · oob" if response.out_of_band else ""
        return _short(f"{response.status}{oob} · {response.answer}")
    item = tracker.items.get(word)
    if item is not None:
        said = " ".join(
            str(part.get("text") or part.get("transcript") or "")
            for part in item.get("content") or []
            if isinstance(part, dict)
        )
        return _short(f"{item.get('role') or item.get('type')} · {said}")
    return event_types.get(word, "")


def _short(text: str, width: int = 40) -> str:
    text = " ".join(text.split()).rstrip(" ·")
    return text if len(text) <= width else text[: width - 1] + "…"
