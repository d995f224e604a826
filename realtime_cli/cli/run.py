"""The commands that talk to an endpoint: bare ``rtc``, ``create``, ``repl``, ``pipe``. ``create``
takes its options from the one ``create`` grammar (``protocol.create_grammar``), which the console
parses its ``create`` lines with, so shell and console never drift.

asyncio and what builds events (``options``, ``shapes``) are imported inside the commands:
``rtc --help`` and the completion script load only typer and the declarations.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from realtime_cli.cli.app import app, show_version
from realtime_cli.cli.params import Connection, connects, finite, grammar
from realtime_cli.cli.tool_options import (
    console_tools,
    profile_handlers,
    tool_loop_fields,
    tool_options,
)
from realtime_cli.errors import UsageError
from realtime_cli.protocol.create_grammar import CREATE_OPTIONS, PROMPT_HELP

if TYPE_CHECKING:
    from realtime_cli.endpoint.endpoint import Endpoint
    from realtime_cli.oneshot import CreateJob

EXIT_CODES_HELP = """\
Exit codes: 0 the response completed (or was cancelled by --cancel-after);
1 it ended failed, incomplete or cancelled, or the server answered with an error;
2 usage or validation error (nothing sent); 3 could not connect or authenticate;
4 connection lost mid-work; 130 interrupted (Ctrl-C, after cancelling the response);
143 SIGTERM and 129 SIGHUP, handled as Ctrl-C is.
"""


@app.callback(invoke_without_command=True)
@connects(record=True)
@tool_options
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        # Eager: answered before the other options are processed (and their validators built).
        typer.Option(
            "--version",
            "-V",
            help="Show the version and exit.",
            callback=show_version,
            is_eager=True,
        ),
    ] = False,
    view: Annotated[
        Literal["events", "responses", "quiet"] | None,
        typer.Option(
            "--view",
            help="The console's view (see rtc repl --help).",
            show_default=False,
            metavar="events|responses|quiet",
        ),
    ] = None,
    *,
    connection: Connection,
    tools: dict[str, Any],
) -> None:
    """With no command: the console when stdin is a terminal, pipe mode when it is not."""
    if ctx.invoked_subcommand is not None:
        if connection.given or view is not None:
            raise UsageError(
                f"put connection options after the command: rtc {ctx.invoked_subcommand} --url ..."
            )
        return
    import asyncio

    endpoint = connection.endpoint()
    with connection.recording() as recorder:
        if sys.stdin.isatty():
            from realtime_cli.console.terminal import run_repl

            settings = console_tools(tools, profile_handlers(connection))
            raise typer.Exit(
                asyncio.run(
                    run_repl(endpoint, view=view or "events", record=recorder, tools=settings)
                )
            )
        from realtime_cli.pipe.job import PipeJob
        from realtime_cli.pipe.run import run_pipe

        # Pipe mode runs the same handlers (no one to ask: --no-tool-approve does not apply).
        loop = tool_loop_fields(
            {
                **tools,
                "tool_handlers": [*profile_handlers(connection), *(tools["tool_handlers"] or ())],
                "tool_approve": False,
            }
        )
        loop.pop("tool_approve")
        raise typer.Exit(asyncio.run(run_pipe(PipeJob(endpoint, record=recorder, **loop))))


@app.command(epilog=EXIT_CODES_HELP)
@connects(record=True)
@grammar(CREATE_OPTIONS, prompt_help=PROMPT_HELP)
def create(
    *,
    summary_json: Annotated[
        bool,
        typer.Option(
            "--summary-json",
            help="Print one JSON object at the end (status, timings, tokens, usage, cost) "
            "instead of the answer and panel.",
        ),
    ] = False,
    params: dict[str, Any],
    connection: Connection,
) -> None:
    """Send one response.create, stream the answer, show the final status.

    Example: rtc create "What is the capital of France?" --modality text -m run=42
    """
    import asyncio
    import os

    from realtime_cli.oneshot import run_create
    from realtime_cli.session.last_exchange import load, state_file

    # --tool-approve reads its y/N answers from stdin: then stdin is the prompt only when asked
    # for with `-` (read whole as context, it would leave no answers: every call declined).
    reads_stdin = not params["tool_approve"] or params["prompt"] == "-"
    stdin = sys.stdin if reads_stdin else None
    params = {**params, "prompt": prompt_with_stdin(params["prompt"], stdin)}
    if params["with_context"] and params["conversation"] != "none":
        raise UsageError("--with-context goes with --conversation none")
    keep = state_file(os.environ)
    history = load(keep) if params["continue_"] else []
    if params["dry_run"]:  # httpie's --offline: what would be sent, validated, and nothing else
        from realtime_cli.protocol.events import encode

        made, warnings = create_job(params, None, history).checked_events()
        for warning in warnings:
            sys.stderr.write(f"rtc: warning: {warning}\n")
        for event in made:
            sys.stdout.write(encode(event) + "\n")
        raise typer.Exit(0)
    handlers = [*profile_handlers(connection), *(params["tool_handlers"] or ())]
    job = create_job({**params, "tool_handlers": handlers}, connection.endpoint(), history)
    job.keep = keep
    if summary_json and job.json_output:
        raise UsageError("--summary-json and --json both choose stdout: give one")
    job.summary_json = summary_json
    with connection.recording() as job.record:
        raise typer.Exit(asyncio.run(run_create(job)))


def prompt_with_stdin(prompt: str | None, stdin: Any) -> str | None:
    """llm's habit: ``echo question | rtc create`` and ``rtc create -`` take the prompt from
    stdin; ``rtc create PROMPT < file`` puts the file first, as the context the prompt is
    about. A terminal on stdin is never read."""
    try:
        if stdin is None or stdin.isatty():
            return None if prompt == "-" else prompt
        piped = stdin.read()
    except (OSError, ValueError):  # stdin closed or unreadable: there is nothing to add
        return None if prompt == "-" else prompt
    except UnicodeDecodeError as exc:
        raise UsageError(f"stdin is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    piped = piped.strip("\n")
    if prompt is None or prompt == "-":
        return piped or None
    return f"{piped}\n\n{prompt}" if piped.strip() else prompt


def create_job(
    params: dict[str, Any], endpoint: Endpoint | None, history: list[Any] | None = None
) -> CreateJob:
    from realtime_cli.oneshot import CreateJob
    from realtime_cli.protocol.create_grammar import response_options
    from realtime_cli.protocol.response_options import build_response, set_paths

    return CreateJob(
        set_paths=set_paths(params["set_"] or []),
        endpoint=endpoint,  # type: ignore[arg-type]  # None only for --dry-run: never connects
        response=build_response(response_options(params)),
        history=history or [],
        raw=params["raw"],
        prompt=params["prompt"],
        event_id=params["event_id"],
        cancel_after=params["cancel_after"],
        timeout=params["timeout"],
        json_output=params["json_output"] or params["output"] == "json",
        show_events=params["show_events"],
        audio_in=params["audio_in"],
        audio_out=params["audio_out"],
        fast=params["fast"],
        play=params["play"],
        audio_device=params["audio_device"],
        **tool_loop_fields(params),
        output=params["output"],
    )


AudioOutDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--audio-out",
        help="Write each response's output audio to DIR/<response id>.wav.",
        metavar="DIR",
        file_okay=False,
    ),
]


@app.command()
@connects(record=True)
@tool_options
def repl(
    view: Annotated[
        Literal["events", "responses", "quiet"],
        typer.Option(
            "--view",
            help="events: a row per event; responses: panels; quiet: errors.",
            metavar="events|responses|quiet",
        ),
    ] = "events",
    audio_out: AudioOutDirOpt = None,
    play: Annotated[
        bool | None,
        typer.Option(
            "--play/--no-play",
            help="Play output audio as it arrives (the audio extra). [default: when the extra "
            "is installed and a sound device opens]",
            show_default=False,
        ),
    ] = None,
    audio_device: Annotated[
        str | None,
        typer.Option(
            "--audio-device",
            help="default, or null: no sound card (env RTC_AUDIO_DEVICE).",
            metavar="NAME",
        ),
    ] = None,
    *,
    connection: Connection,
    tools: dict[str, Any],
) -> None:
    """The interactive console: type commands, messages or raw JSON events; `help` inside.

    Example: rtc repl --view responses
    """
    import asyncio

    from realtime_cli.console.terminal import run_repl
    from realtime_cli.console.voice import VoiceOptions

    endpoint = connection.endpoint()
    voice = None
    if audio_out is not None or play is not None or audio_device is not None:
        voice = VoiceOptions(_audio_dir(audio_out), play, audio_device)
    settings = console_tools(tools, profile_handlers(connection))
    with connection.recording() as recorder:
        raise typer.Exit(
            asyncio.run(run_repl(endpoint, view=view, record=recorder, voice=voice, tools=settings))
        )


def _audio_dir(path: Path | None) -> Path | None:
    """--audio-out DIR, created if missing (a usage error if it cannot be)."""
    if path is not None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--audio-out: cannot create {path}: {exc.strerror or exc}") from None
    return path


PIPE_HELP_EPILOG = """\
Exit codes (the highest that applies): 0 all good; 1 the server answered with an error, a
response ended other than completed (cancelled is fine after a response.cancel in the input), or
a wait or timeout ran out; 2 some input was rejected; 3 could not connect or authenticate;
4 connection lost before the work was done; 130 interrupted (Ctrl-C); 143 SIGTERM and
129 SIGHUP (each after cancelling the active responses).
"""


@app.command(epilog=PIPE_HELP_EPILOG)
@connects(record=True)
def pipe(
    pretty: Annotated[
        bool | None,
        typer.Option(
            "--pretty/--no-pretty",
            help="Event rows and response panels for a person. [default: when stdout is a tty]",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Same as --no-pretty: server events as JSON lines.")
    ] = False,
    no_event_ids: Annotated[
        bool,
        typer.Option(
            "--no-event-ids",
            help="Send events as given: no event_id added (errors can't be tied to a line).",
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Stop at the first bad input (exit 2) instead of skipping."),
    ] = False,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="End at the first server event of TYPE, e.g. response.done.",
            metavar="TYPE",
        ),
    ] = None,
    idle_timeout: Annotated[
        float,
        typer.Option(
            "--idle-timeout",
            help="Once stdin has ended (or in a wait), give up if answers are still owed and "
            "nothing arrives for SECONDS (0: no limit).",
            metavar="SECONDS",
            min=0,
            callback=finite,
        ),
    ] = 10.0,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            help="Give up after SECONDS in all.",
            metavar="SECONDS",
            min=0,
            callback=finite,
        ),
    ] = None,
    audio_out: AudioOutDirOpt = None,
    # -- the tool loop (issue 13) --
    tool_handlers: Annotated[
        list[str] | None,
        typer.Option(
            "--tool-handler",
            help="Answer calls of tool NAME ('*': any) with COMMAND's stdout; arguments JSON on "
            "stdin (repeatable).",
            metavar="NAME=COMMAND",
        ),
    ] = None,
    max_tool_rounds: Annotated[
        str | None,
        typer.Option(
            "--max-tool-rounds",
            help="Stop the tool loop (exit 1) after N follow-up responses. [default: 10]",
            metavar="N",
        ),
    ] = None,
    tool_timeout: Annotated[
        float | None,
        typer.Option(
            "--tool-timeout",
            help="Kill a handler after SECONDS; the model gets an error output. [default: 30]",
            metavar="SECONDS",
            min=0,
            callback=finite,
        ),
    ] = None,
    # -- end of the tool loop's options --
    *,
    connection: Connection,
) -> None:
    """Send client events from stdin, print every server event on stdout as a JSON line.

    stdin holds client events as JSON Lines, pretty-printed JSON or JSON arrays; each is
    validated and sent as soon as it is read. Directives pause the input and are never sent:
    {"rtc": "wait", "for": "response.done"} and {"rtc": "sleep", "seconds": 0.5}. When stdin
    ends, rtc waits for every answer owed to the input (each response's response.done), then
    closes. Bad input is reported on stderr with its line and column and skipped.

    \b
    Example:
      printf '%s\\n' '{"type": "response.create"}' | rtc pipe |
        jq -r 'select(.type == "response.done").response.status'
    """
    import asyncio

    from realtime_cli.pipe.job import PipeJob
    from realtime_cli.pipe.run import run_pipe

    job = PipeJob(
        endpoint=connection.endpoint(),
        pretty=False if json_output else pretty,
        event_ids=not no_event_ids,
        strict=strict,
        until=until,
        idle_timeout=idle_timeout,
        timeout=timeout,
        audio_out=_audio_dir(audio_out),
    )
    import dataclasses

    loop_fields = tool_loop_fields(
        {
            "tool_handlers": [*profile_handlers(connection), *(tool_handlers or ())],
            "max_tool_rounds": max_tool_rounds,
            "tool_timeout": tool_timeout,
            "tool_approve": False,
        }
    )
    loop_fields.pop("tool_approve")
    job = dataclasses.replace(job, **loop_fields)
    with connection.recording() as job.record:
        raise typer.Exit(asyncio.run(run_pipe(job)))
