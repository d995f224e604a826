"""The command line (typer). The only module that imports typer/click.

Options become settings here and are handed to the module that does the work; ``main`` is the
one place that catches broadly, turning ``RtcError`` into a one-line message and its exit code.
Heavy modules are imported inside the commands that use them, so ``rtc --help`` stays fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, get_args, get_origin

import typer

from realtime_cli import __version__
from realtime_cli.config import Endpoint, select_endpoint
from realtime_cli.errors import ExitCode, RtcError, UsageError
from realtime_cli.options import ResponseOptions, build_response

if TYPE_CHECKING:
    from realtime_cli.oneshot import CreateJob

EXIT_CODES_HELP = """\
Exit codes: 0 the response completed (or was cancelled by --cancel-after);
1 it ended failed, incomplete or cancelled, or the server answered with an error;
2 usage or validation error (nothing sent); 3 could not connect or authenticate;
4 connection lost mid-work; 130 interrupted (Ctrl-C, after cancelling the response).
"""

app = typer.Typer(
    name="rtc",
    help=(
        "rtc: a terminal console for OpenAI Realtime WebSocket endpoints (OpenAI, Azure, "
        "compatible servers). With no API key and no --url, rtc uses its built-in local server."
        "\n\nWith no command, rtc opens the interactive console, or runs pipe mode when stdin "
        "is not a terminal."
        "\n\nExamples: rtc create --instructions 'Say hello'    rtc --url ws://HOST/v1/realtime"
    ),
    no_args_is_help=False,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# -- shared option declarations (one grammar: the console parses `create` with the same command)

UrlOpt = Annotated[
    str | None,
    typer.Option("--url", help="Endpoint URL, used exactly as given (env RTC_URL).", metavar="URL"),
]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        help="API key (env OPENAI_API_KEY). Never printed.",
        metavar="KEY",
        show_default=False,
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="Model (env RTC_MODEL; default gpt-realtime).", metavar="MODEL"),
]
LocalOpt = Annotated[
    bool, typer.Option("--local", help="Use the built-in local server even if a key is set.")
]


def _endpoint(url: str | None, api_key: str | None, model: str | None, local: bool) -> Endpoint:
    return select_endpoint(url=url, api_key=api_key, model=model, local=local, environ=os.environ)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rtc {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", "-V", help="Show the version and exit.", callback=_version),
    ] = False,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    model: ModelOpt = None,
    local: LocalOpt = False,
) -> None:
    """With no command: the console when stdin is a terminal, pipe mode when it is not."""
    if ctx.invoked_subcommand is not None:
        if url or api_key or model or local:
            raise UsageError(
                f"put connection options after the command: rtc {ctx.invoked_subcommand} --url ..."
            )
        return
    endpoint = _endpoint(url, api_key, model, local)
    if sys.stdin.isatty():
        from realtime_cli.repl import run_repl

        raise typer.Exit(asyncio.run(run_repl(endpoint)))
    from realtime_cli.pipe import PipeJob, run_pipe

    raise typer.Exit(asyncio.run(run_pipe(PipeJob(endpoint))))


@app.command(epilog=EXIT_CODES_HELP)
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
            "--cancel-after", help="Send response.cancel after SECONDS.", metavar="SECONDS"
        ),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Give up after SECONDS.", metavar="SECONDS")
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print server events as JSON lines on stdout, nothing else."),
    ] = False,
    show_events: Annotated[
        bool, typer.Option("--events", help="Show every server event as a compact row.")
    ] = False,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    model: ModelOpt = None,
    local: LocalOpt = False,
) -> None:
    """Send one response.create, stream the answer, show the final status.

    Example: rtc create "What is the capital of France?" --modality text -m run=42
    """
    from realtime_cli.oneshot import run_create

    params = dict(locals())
    job = create_job(params, _endpoint(url, api_key, model, local))
    raise typer.Exit(asyncio.run(run_create(job)))


def response_options(params: dict[str, Any]) -> ResponseOptions:
    """The response options of a parsed ``create`` (command line or console)."""
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
        with sub.make_context("create", list(args), resilient_parsing=False) as ctx:
            return dict(ctx.params)
    except typer.TyperException as exc:
        raise UsageError(exc.format_message()) from None


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
def repl(
    view: Annotated[
        Literal["events", "responses", "quiet"],
        typer.Option("--view", help="events: a row per event; responses: panels; quiet: errors."),
    ] = "events",
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    model: ModelOpt = None,
    local: LocalOpt = False,
) -> None:
    """The interactive console: type commands, messages or raw JSON events; `help` inside.

    Example: rtc repl --view responses
    """
    from realtime_cli.repl import run_repl

    endpoint = _endpoint(url, api_key, model, local)
    raise typer.Exit(asyncio.run(run_repl(endpoint, view=view)))


PIPE_HELP_EPILOG = """\
Exit codes (the highest that applies): 0 all good; 1 the server answered with an error, a
response ended other than completed (cancelled is fine after a response.cancel in the input), or
a wait or timeout ran out; 2 some input was rejected; 3 could not connect or authenticate;
4 connection lost before the work was done; 130 interrupted (Ctrl-C).
"""


@app.command(epilog=PIPE_HELP_EPILOG)
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
            "nothing arrives for SECONDS.",
            metavar="SECONDS",
            min=0,
        ),
    ] = 10.0,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Give up after SECONDS in all.", metavar="SECONDS", min=0),
    ] = None,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    model: ModelOpt = None,
    local: LocalOpt = False,
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
    from realtime_cli.pipe import PipeJob, run_pipe

    job = PipeJob(
        endpoint=_endpoint(url, api_key, model, local),
        pretty=False if json_output else pretty,
        event_ids=not no_event_ids,
        strict=strict,
        until=until,
        idle_timeout=idle_timeout,
        timeout=timeout,
    )
    raise typer.Exit(asyncio.run(run_pipe(job)))


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0 picks a free one).")] = 8765,
    token_delay_ms: Annotated[
        float, typer.Option("--token-delay-ms", help="Delay between output tokens.", min=0)
    ] = 20,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", help="Require this key (Bearer or api-key header).", show_default=False
        ),
    ] = None,
) -> None:
    """Run the built-in local Realtime server (GA protocol, deterministic model).

    The first line on stdout is the URL to connect to. Stop with Ctrl-C.

    Example: rtc serve --port 0 --token-delay-ms 50
    """
    from realtime_cli.server.app import serve_forever

    def announce(url: str) -> None:
        sys.stdout.write(url + "\n")
        sys.stdout.flush()

    try:
        asyncio.run(_until_signalled(serve_forever(host, port, token_delay_ms, api_key, announce)))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise RtcError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


async def _until_signalled(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` until it ends or SIGTERM arrives (a process manager stopping the server),
    which cancels it like Ctrl-C does, so clients get a clean close."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main() -> NoReturn:
    """Entry point: every expected failure becomes one line on stderr and an exit code."""
    try:
        app()  # standalone: usage errors exit 2 with typer's message
    except RtcError as exc:
        sys.stderr.write(f"rtc: error: {exc.message}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
    sys.exit(ExitCode.OK)
