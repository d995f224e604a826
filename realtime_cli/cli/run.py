"""The commands that talk to an endpoint: bare ``rtc``, ``create``, ``repl``, ``pipe``; and the
``create`` grammar the console shares (``parse_create``), so shell and console never drift.

asyncio and what builds events (``options``, ``shapes``) are imported inside the commands:
``rtc --help`` and the completion script load only typer and the declarations.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args, get_origin

import typer

from realtime_cli.cli.app import app, show_version
from realtime_cli.cli.params import Connection, connects, finite
from realtime_cli.errors import UsageError

if TYPE_CHECKING:
    from realtime_cli.endpoint.endpoint import Endpoint
    from realtime_cli.oneshot import CreateJob
    from realtime_cli.protocol.response_options import ResponseOptions

EXIT_CODES_HELP = """\
Exit codes: 0 the response completed (or was cancelled by --cancel-after);
1 it ended failed, incomplete or cancelled, or the server answered with an error;
2 usage or validation error (nothing sent); 3 could not connect or authenticate;
4 connection lost mid-work; 130 interrupted (Ctrl-C, after cancelling the response).
"""


@app.callback(invoke_without_command=True)
@connects(record=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", "-V", help="Show the version and exit.", callback=show_version),
    ] = False,
    view: Annotated[
        Literal["events", "responses", "quiet"] | None,
        typer.Option(
            "--view", help="The console's view (see rtc repl --help).", show_default=False
        ),
    ] = None,
    *,
    connection: Connection,
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

            raise typer.Exit(
                asyncio.run(run_repl(endpoint, view=view or "events", record=recorder))
            )
        from realtime_cli.pipe.run import PipeJob, run_pipe

        raise typer.Exit(asyncio.run(run_pipe(PipeJob(endpoint, record=recorder))))


@app.command(epilog=EXIT_CODES_HELP)
@connects(record=True)
def create(
    prompt: Annotated[
        str | None,
        typer.Argument(
            help="A user message to add first (conversation.item.create).", show_default=False
        ),
    ] = None,
    instructions: Annotated[
        str | None, typer.Option("--instructions", "-i", help="Instructions for this response.")
    ] = None,
    modality: Annotated[
        Literal["text", "audio"] | None,
        typer.Option("--modality", help="Output modality."),
    ] = None,
    conversation: Annotated[
        Literal["auto", "none"] | None,
        typer.Option("--conversation", help="auto: write to the conversation; none: out-of-band."),
    ] = None,
    metadata: Annotated[
        list[str] | None,
        typer.Option("--metadata", "-m", help="KEY=VALUE echoed on the response (repeatable)."),
    ] = None,
    input_: Annotated[
        list[str] | None,
        typer.Option("--input", help="Inline user message in response.input (repeatable)."),
    ] = None,
    max_output_tokens: Annotated[
        str | None, typer.Option("--max-output-tokens", help="1-4096 or inf.", metavar="N|inf")
    ] = None,
    voice: Annotated[str | None, typer.Option("--voice", help="Output voice (e.g. marin).")] = None,
    tools: Annotated[
        Path | None, typer.Option("--tools", help="JSON file with a list of tools.", metavar="FILE")
    ] = None,
    tool_choice: Annotated[
        str | None,
        typer.Option("--tool-choice", help="auto, none, required, or a function name."),
    ] = None,
    event_id: Annotated[
        str | None, typer.Option("--event-id", help="event_id of the response.create.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-s",
            help="PATH=VALUE (string) or PATH:=JSON into the response, e.g. -s metadata.k=v.",
        ),
    ] = None,
    cancel_after: Annotated[
        float | None,
        typer.Option(
            "--cancel-after",
            help="Send response.cancel after SECONDS.",
            metavar="SECONDS",
            min=0,
            callback=finite,
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", help="Give up after SECONDS.", metavar="SECONDS", min=0, callback=finite
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print server events as JSON lines on stdout, nothing else."),
    ] = False,
    show_events: Annotated[
        bool, typer.Option("--events", help="Show every server event as a compact row.")
    ] = False,
    *,
    connection: Connection,
) -> None:
    """Send one response.create, stream the answer, show the final status.

    Example: rtc create "What is the capital of France?" --modality text -m run=42
    """
    import asyncio

    from realtime_cli.oneshot import run_create

    # By name, as parse_create returns them (the console's create reads the same keys).
    params: dict[str, Any] = {
        "prompt": prompt,
        "instructions": instructions,
        "modality": modality,
        "conversation": conversation,
        "metadata": metadata,
        "input_": input_,
        "max_output_tokens": max_output_tokens,
        "voice": voice,
        "tools": tools,
        "tool_choice": tool_choice,
        "event_id": event_id,
        "set_": set_,
        "cancel_after": cancel_after,
        "timeout": timeout,
        "json_output": json_output,
        "show_events": show_events,
    }
    job = create_job(params, connection.endpoint())
    with connection.recording() as job.record:
        raise typer.Exit(asyncio.run(run_create(job)))


def response_options(params: dict[str, Any]) -> ResponseOptions:
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
        sets=params["set_"] or [],
    )


def create_job(params: dict[str, Any], endpoint: Endpoint) -> CreateJob:
    from realtime_cli.oneshot import CreateJob
    from realtime_cli.protocol.response_options import build_response

    return CreateJob(
        endpoint=endpoint,
        response=build_response(response_options(params)),
        prompt=params["prompt"],
        event_id=params["event_id"],
        cancel_after=params["cancel_after"],
        timeout=params["timeout"],
        json_output=params["json_output"],
        show_events=params["show_events"],
    )


def parse_create(args: list[str]) -> dict[str, Any]:
    """Parse ``create`` arguments with the very command ``rtc create`` uses (the console's
    grammar). Returns the parameters by name; a bad option raises ``UsageError``."""
    command = typer.main.get_command(app)
    sub = command.commands["create"]  # type: ignore[attr-defined]
    try:
        # No --help here: it would print the command line's help to the real stdout, past the
        # console (the console answers --help itself, with its own `help create`).
        with sub.make_context(
            "create", list(args), resilient_parsing=False, help_option_names=[]
        ) as ctx:
            return dict(ctx.params)
    except typer.TyperException as exc:
        raise UsageError(exc.format_message()) from None
    except typer.Exit:  # an eager option that ends the command: nothing to create
        raise UsageError("that option ends the command; see help create") from None


def create_option_specs() -> list[tuple[str, str | None, str, tuple[str, ...]]]:
    """``(name, metavar or None for a flag, help, choices)`` of every ``create`` option, read
    from the command itself: the console's help and completion offer exactly these."""
    sub = typer.main.get_command(app).commands["create"]  # type: ignore[attr-defined]
    specs = []
    for param in sub.params:
        if param.param_type_name == "option" and param.opts[0].startswith("--"):
            annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
            choices = _literal_values(annotation)
            name = (param.name or "").strip("_").upper()
            metavar = None if param.is_flag else (param.metavar or name)
            specs.append((param.opts[0], metavar, param.help or "", choices))
    return specs


def _literal_values(annotation: Any) -> tuple[str, ...]:
    """The values of a ``Literal[...]`` (also inside ``X | None``): an option's choices."""
    if get_origin(annotation) is Literal:
        return tuple(str(value) for value in get_args(annotation))
    return tuple(value for arg in get_args(annotation) for value in _literal_values(arg))


@app.command()
@connects(record=True)
def repl(
    view: Annotated[
        Literal["events", "responses", "quiet"],
        typer.Option("--view", help="events: a row per event; responses: panels; quiet: errors."),
    ] = "events",
    *,
    connection: Connection,
) -> None:
    """The interactive console: type commands, messages or raw JSON events; `help` inside.

    Example: rtc repl --view responses
    """
    import asyncio

    from realtime_cli.console.terminal import run_repl

    endpoint = connection.endpoint()
    with connection.recording() as recorder:
        raise typer.Exit(asyncio.run(run_repl(endpoint, view=view, record=recorder)))


PIPE_HELP_EPILOG = """\
Exit codes (the highest that applies): 0 all good; 1 the server answered with an error, a
response ended other than completed (cancelled is fine after a response.cancel in the input), or
a wait or timeout ran out; 2 some input was rejected; 3 could not connect or authenticate;
4 connection lost before the work was done; 130 interrupted (Ctrl-C).
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

    from realtime_cli.pipe.run import PipeJob, run_pipe

    job = PipeJob(
        endpoint=connection.endpoint(),
        pretty=False if json_output else pretty,
        event_ids=not no_event_ids,
        strict=strict,
        until=until,
        idle_timeout=idle_timeout,
        timeout=timeout,
    )
    with connection.recording() as job.record:
        raise typer.Exit(asyncio.run(run_pipe(job)))
