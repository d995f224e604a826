"""The ``create`` grammar, defined once for both front ends: the options of ``rtc create`` and of
the console's ``create`` line, and the parser of a ``create`` line.

``cli`` turns ``CREATE_OPTIONS`` into typer options (help, completion, ``rtc create``), the
console parses its lines with ``parse_create`` and lists the same options in its help and Tab
completion. Neither front end declares a ``create`` option of its own, so they cannot drift.

The parser is hand-written (a few dozen lines) because the console must not load click/typer to
read a line, and ``argparse`` prints and exits on errors; it follows click's conventions
(``--opt VALUE``, ``--opt=VALUE``, ``-xVALUE``, ``--`` ends options) and its error wording, so a
mistake reads the same in the shell and in the console.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from realtime_cli.errors import UsageError
from realtime_cli.protocol.values import CONVERSATION_MODES, MODALITIES

if TYPE_CHECKING:  # building the event loads the validator: not for --help
    from realtime_cli.protocol.events import JSON
    from realtime_cli.protocol.response_options import ResponseOptions

Kind = Literal["text", "seconds", "flag", "file"]


@dataclass(frozen=True)
class Opt:
    """One option. ``metavar`` None means a flag; ``param`` is the key the parser returns it
    under (a Python name, as the command line's function parameter); ``console`` False marks an
    option of ``rtc create`` that belongs to the start of a one-shot run, not to the console."""

    name: str
    metavar: str | None = None
    help: str = ""
    choices: tuple[str, ...] = ()
    repeat: bool = False
    short: str | None = None
    param: str = ""
    kind: Kind = "text"
    console: bool = True

    @property
    def key(self) -> str:
        return self.param or self.name.lstrip("-").replace("-", "_")


PROMPT_HELP = "A user message to add first (conversation.item.create)."

CREATE_OPTIONS: tuple[Opt, ...] = (
    Opt("--instructions", "TEXT", "Instructions for this response.", short="-i"),
    Opt("--modality", "text|audio", "Output modality.", MODALITIES),
    Opt(
        "--conversation",
        "auto|none",
        "auto: write to the conversation; none: out-of-band.",
        CONVERSATION_MODES,
    ),
    Opt(
        "--metadata",
        "KEY=VALUE",
        "KEY=VALUE echoed on the response (repeatable).",
        repeat=True,
        short="-m",
    ),
    Opt(
        "--input",
        "TEXT",
        "Inline user message in response.input (repeatable).",
        repeat=True,
        param="input_",
    ),
    Opt(
        "--with-context",
        None,
        "With --conversation none: the conversation's items come first in response.input.",
        kind="flag",
    ),
    Opt("--max-output-tokens", "N|inf", "1-4096 or inf."),
    Opt("--voice", "VOICE", "Output voice (e.g. marin)."),
    Opt("--tools", "FILE", "JSON file with a list of tools.", kind="file"),
    Opt("--tool-choice", "MODE|NAME", "auto, none, required, or a function name."),
    # -- the tool loop (issue 13) --
    Opt(
        "--tool",
        "'NAME(FIELD: TYPE, FIELD?: TYPE)'",
        "A function tool by its signature, e.g. 'get_weather(city: string)' (repeatable).",
        repeat=True,
        param="tool_specs",
    ),
    Opt(
        "--tool-handler",
        "NAME=COMMAND",
        "Answer calls of tool NAME ('*': any) with COMMAND's stdout; arguments JSON on stdin "
        "(repeatable).",
        repeat=True,
        param="tool_handlers",
        console=False,
    ),
    Opt(
        "--max-tool-rounds",
        "N",
        "Stop the tool loop (exit 1) after N follow-up responses. [default: 10]",
        console=False,
    ),
    Opt(
        "--tool-timeout",
        "SECONDS",
        "Kill a handler after SECONDS; the model gets an error output. [default: 30]",
        kind="seconds",
        console=False,
    ),
    Opt(
        "--tool-approve",
        None,
        "Ask before running each handler, showing the tool and its arguments; the y/N "
        "answers are read from stdin, so stdin is not read as the prompt's context (only a "
        "PROMPT of - still reads the prompt from it).",
        kind="flag",
        console=False,
    ),
    # -- end of the tool loop's options --
    Opt("--event-id", "ID", "event_id of the response.create."),
    Opt(
        "--set",
        "PATH=VALUE",
        "PATH=VALUE (string) or PATH:=JSON into the response, e.g. -s metadata.k=v.",
        repeat=True,
        short="-s",
        param="set_",
    ),
    Opt("--cancel-after", "SECONDS", "Send response.cancel after SECONDS.", kind="seconds"),
    Opt("--timeout", "SECONDS", "Give up after SECONDS.", kind="seconds", console=False),
    # Voice (#12): a file as the user's turn, the answer's audio to a file.
    Opt(
        "--audio-in",
        "FILE",
        "Send FILE (WAV; MP3/FLAC/Ogg with the audio extra) as the user's spoken turn.",
        kind="file",
        console=False,
    ),
    Opt(
        "--audio-out",
        "FILE.wav",
        "Write the response's output audio to FILE.wav (PCM16; G.711 decoded).",
        kind="file",
        console=False,
    ),
    Opt(
        "--play",
        None,
        "Play the answer's audio as it arrives (the audio extra; env RTC_AUDIO_DEVICE=null).",
        kind="flag",
        console=False,
    ),
    Opt(
        "--audio-device",
        "NAME",
        "With --play: default, or null for no sound card (env RTC_AUDIO_DEVICE).",
        console=False,
    ),
    Opt(
        "--fast",
        None,
        "With --audio-in: send the audio at once instead of in real time.",
        kind="flag",
        console=False,
    ),
    Opt(
        "--json",
        None,
        "Print server events as JSON lines on stdout, nothing else.",
        kind="flag",
        param="json_output",
        console=False,
    ),
    Opt(
        "--continue",
        None,
        "Continue the previous rtc create exchange: its messages are re-created first.",
        kind="flag",
        short="-c",
        param="continue_",
        console=False,
    ),
    Opt(
        "--dry-run",
        None,
        "Print the validated client events as JSON lines; send nothing.",
        kind="flag",
        console=False,
    ),
    Opt(
        "--raw",
        None,
        "Send the events without validating them (beta servers, fields newer than rtc).",
        kind="flag",
        console=False,
    ),
    Opt(
        "--output",
        "text|panel|json",
        "text: the answer alone; panel: the answer, then a panel with the status (the"
        " default on a terminal; piped, the panel goes to stderr); json: as --json.",
        ("text", "panel", "json"),
        short="-o",
        console=False,
    ),
    Opt(
        "--events",
        None,
        "Show every server event as a compact row.",
        kind="flag",
        param="show_events",
        console=False,
    ),
)


def defaults(options: Sequence[Opt] = CREATE_OPTIONS) -> dict[str, Any]:
    """Every parameter with nothing given: ``None``, ``False`` for a flag, ``()`` for a
    repeatable option (as click gives them)."""
    values: dict[str, Any] = {"prompt": None}
    for opt in options:
        values[opt.key] = False if opt.kind == "flag" else () if opt.repeat else None
    return values


def parse_create(
    args: Sequence[str],
    options: Sequence[Opt] = CREATE_OPTIONS,
    *,
    refused: Mapping[str, str] = {},
) -> dict[str, Any]:
    """The parameters of a ``create`` line by name (``prompt`` and each option's ``key``), as
    ``rtc create`` receives them. A bad option raises ``UsageError`` in click's words; a flag in
    ``refused`` (flag → why) raises its reason."""
    by_flag = {opt.name: opt for opt in options} | {o.short: o for o in options if o.short}
    values = defaults(options)
    words = list(args)
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            for rest in words[index:]:
                _positional(values, rest)
            break
        if not word.startswith("-") or word == "-":
            _positional(values, word)
            continue
        flag, attached = _split(word, by_flag)
        if flag in refused:
            raise UsageError(refused[flag])
        opt = by_flag.get(flag)
        if opt is None:
            raise UsageError(f"No such option: {flag}")
        if opt.metavar is None:
            if attached is not None:
                raise UsageError(f"Option '{opt.name}' does not take a value.")
            values[opt.key] = True
            continue
        if attached is None:
            if index >= len(words):
                raise UsageError(f"Option '{flag}' requires an argument.")
            attached = words[index]
            index += 1
        value = convert(opt, attached)
        if opt.repeat:
            values[opt.key] = [*values[opt.key], value]
        else:
            values[opt.key] = value
    return values


def _split(word: str, by_flag: Mapping[str, Opt]) -> tuple[str, str | None]:
    """``--name=value`` / ``-xvalue`` into the flag and the value written with it."""
    if word.startswith("--"):
        flag, sep, value = word.partition("=")
        return flag, value if sep else None
    if len(word) > 2 and word[:2] in by_flag:
        return word[:2], word[2:]
    return word, None


def _positional(values: dict[str, Any], word: str) -> None:
    if values["prompt"] is not None:
        raise UsageError(f"Got unexpected extra argument ({word})")
    values["prompt"] = word


def convert(opt: Opt, text: str) -> Any:
    """An option's value from its text, or a ``UsageError`` in click's words."""
    where = f"Invalid value for '{opt.name}'"
    if opt.choices and text not in opt.choices:
        shown = ", ".join(repr(c) for c in opt.choices)
        raise UsageError(f"{where}: {text!r} is not one of {shown}.")
    if opt.kind == "file":
        return Path(text)
    if opt.kind == "seconds":
        try:
            seconds = float(text)
        except ValueError:
            raise UsageError(f"{where}: {text!r} is not a valid float.") from None
        if not math.isfinite(seconds):
            raise UsageError(f"{where}: {seconds:g} is not a finite number.")
        if seconds < 0:
            raise UsageError(f"{where}: {seconds:g} is not in the range x>=0.")
        return seconds
    return text


def prompt_events(
    prompt: str | None,
    response: JSON,
    event_id: str | None = None,
    context: Sequence[str] = (),
) -> list[JSON]:
    """The client events of a ``create`` with an optional prompt, for both front ends.

    In the conversation (``auto``) the prompt is a ``conversation.item.create`` before the
    ``response.create``. Out-of-band (``none``) nothing may be written to the conversation, so
    the prompt goes in the response's own ``input`` instead, after item references to
    ``context`` (the conversation's items, when ``--with-context`` asks for them) and before
    any ``--input`` messages. ``input`` replaces the context, so without ``--with-context`` an
    out-of-band prompt is answered on its own."""
    from realtime_cli.protocol import events

    if response.get("conversation") != "none":
        first = [events.item_create(events.user_message(prompt))] if prompt is not None else []
        return [*first, events.response_create(response, event_id)]
    if prompt is not None or context:
        refs: list[JSON] = [{"type": "item_reference", "id": item_id} for item_id in context]
        asked = [events.user_message(prompt)] if prompt is not None else []
        response = {**response, "input": [*refs, *asked, *response.get("input", [])]}
    return [events.response_create(response, event_id)]


def response_options(params: Mapping[str, Any]) -> ResponseOptions:
    """The response options of a parsed ``create`` (command line or console)."""
    from realtime_cli.protocol.response_options import ResponseOptions

    return ResponseOptions(
        instructions=params["instructions"],
        modality=params["modality"],
        conversation=params["conversation"],
        metadata=params["metadata"] or (),
        inputs=params["input_"] or (),
        max_output_tokens=params["max_output_tokens"],
        voice=params["voice"],
        tools_file=params["tools"],
        tool_choice=params["tool_choice"],
        tool_specs=params.get("tool_specs") or (),
        sets=params["set_"] or [],
    )
