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
from realtime_cli.config import Endpoint
from realtime_cli.errors import ExitCode, RtcError, UsageError
from realtime_cli.options import ResponseOptions, build_response

if TYPE_CHECKING:
    from realtime_cli.endpoints import Selection
    from realtime_cli.oneshot import CreateJob
    from realtime_cli.record import Recorder

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
ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="A profile of config.toml (env RTC_PROFILE; rtc profile list).",
        metavar="NAME",
    ),
]
AzureEndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--azure-endpoint",
        help="Azure OpenAI resource https://NAME.openai.azure.com (env AZURE_OPENAI_ENDPOINT).",
        metavar="URL",
    ),
]
DeploymentOpt = Annotated[
    str | None, typer.Option("--deployment", help="Azure OpenAI deployment name.", metavar="NAME")
]
ApiVersionOpt = Annotated[
    str | None,
    typer.Option(
        "--api-version",
        help="Azure api-version: use the preview URL form (env OPENAI_API_VERSION).",
        metavar="VERSION",
    ),
]
HeaderOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--header", "-H", help="Handshake header 'Name: value' (repeatable).", metavar="HEADER"
    ),
]
SubprotocolOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--subprotocol", help="WebSocket subprotocol to offer (repeatable).", metavar="NAME"
    ),
]
CallIdOpt = Annotated[
    str | None,
    typer.Option("--call-id", help="Attach to an existing call (?call_id=ID).", metavar="ID"),
]
# Parameter → flag of every connection option (the commands that connect all take them).
CONNECTION_OPTIONS = {
    "url": "--url",
    "api_key": "--api-key",
    "model": "--model",
    "local": "--local",
    "profile": "--profile",
    "azure_endpoint": "--azure-endpoint",
    "deployment": "--deployment",
    "api_version": "--api-version",
    "header": "--header",
    "subprotocol": "--subprotocol",
    "call_id": "--call-id",
}
RecordOpt = Annotated[
    Path | None,
    typer.Option(
        "--record",
        help="Write the session to FILE as JSON Lines as it happens (rtc replay, rtc export).",
        metavar="FILE",
    ),
]
RecordAudioOpt = Annotated[
    Literal["yes", "no"] | None,
    typer.Option(
        "--record-audio",
        help="no: leave audio out of the recording, for small files. [default: yes]",
        show_default=False,
    ),
]


def _connection_given(params: dict[str, Any]) -> bool:
    return any(params.get(name) not in (None, False, [], ()) for name in CONNECTION_OPTIONS)


def _selection(params: dict[str, Any]) -> Selection:
    """The connection options of a command's ``params`` (flag > environment > profile >
    default), with the config file read from the user's config directory."""
    from realtime_cli.endpoints import ConnectionOptions, select
    from realtime_cli.profiles import config_dir, load

    options = ConnectionOptions(
        url=params["url"],
        api_key=params["api_key"],
        model=params["model"],
        local=params["local"],
        profile=params["profile"],
        azure_endpoint=params["azure_endpoint"],
        deployment=params["deployment"],
        api_version=params["api_version"],
        headers=tuple(params["header"] or ()),
        subprotocols=tuple(params["subprotocol"] or ()),
        call_id=params["call_id"],
    )
    config = None if options.local else load(config_dir(os.environ))
    return select(options, os.environ, config)


def _endpoint(params: dict[str, Any]) -> Endpoint:
    """The one way a command's connection options become an ``Endpoint`` (fetching the key)."""
    return _selection(params).endpoint(_warn)


def _warn(line: str) -> None:
    sys.stderr.write(line + "\n")


def _recording(
    path: Path | None, audio: str | None
) -> contextlib.AbstractContextManager[Recorder | None]:
    """``--record FILE``: the open recording (closed when the command ends), or nothing."""
    if path is None:
        if audio is not None:
            raise UsageError("--record-audio needs --record FILE")
        return contextlib.nullcontext()
    from realtime_cli.record import Recorder

    return Recorder.open(path, audio=audio != "no")


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
    profile: ProfileOpt = None,
    azure_endpoint: AzureEndpointOpt = None,
    deployment: DeploymentOpt = None,
    api_version: ApiVersionOpt = None,
    header: HeaderOpt = None,
    subprotocol: SubprotocolOpt = None,
    call_id: CallIdOpt = None,
    record: RecordOpt = None,
    record_audio: RecordAudioOpt = None,
) -> None:
    """With no command: the console when stdin is a terminal, pipe mode when it is not."""
    if ctx.invoked_subcommand is not None:
        if _connection_given(locals()) or record or record_audio:
            raise UsageError(
                f"put connection options after the command: rtc {ctx.invoked_subcommand} --url ..."
            )
        return
    endpoint = _endpoint(locals())
    with _recording(record, record_audio) as recorder:
        if sys.stdin.isatty():
            from realtime_cli.repl import run_repl

            raise typer.Exit(asyncio.run(run_repl(endpoint, record=recorder)))
        from realtime_cli.pipe import PipeJob, run_pipe

        raise typer.Exit(asyncio.run(run_pipe(PipeJob(endpoint, record=recorder))))


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
    profile: ProfileOpt = None,
    azure_endpoint: AzureEndpointOpt = None,
    deployment: DeploymentOpt = None,
    api_version: ApiVersionOpt = None,
    header: HeaderOpt = None,
    subprotocol: SubprotocolOpt = None,
    call_id: CallIdOpt = None,
    record: RecordOpt = None,
    record_audio: RecordAudioOpt = None,
) -> None:
    """Send one response.create, stream the answer, show the final status.

    Example: rtc create "What is the capital of France?" --modality text -m run=42
    """
    from realtime_cli.oneshot import run_create

    params = dict(locals())
    job = create_job(params, _endpoint(params))
    with _recording(record, record_audio) as job.record:
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
    profile: ProfileOpt = None,
    azure_endpoint: AzureEndpointOpt = None,
    deployment: DeploymentOpt = None,
    api_version: ApiVersionOpt = None,
    header: HeaderOpt = None,
    subprotocol: SubprotocolOpt = None,
    call_id: CallIdOpt = None,
    record: RecordOpt = None,
    record_audio: RecordAudioOpt = None,
) -> None:
    """The interactive console: type commands, messages or raw JSON events; `help` inside.

    Example: rtc repl --view responses
    """
    from realtime_cli.repl import run_repl

    endpoint = _endpoint(locals())
    with _recording(record, record_audio) as recorder:
        raise typer.Exit(asyncio.run(run_repl(endpoint, view=view, record=recorder)))


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
    profile: ProfileOpt = None,
    azure_endpoint: AzureEndpointOpt = None,
    deployment: DeploymentOpt = None,
    api_version: ApiVersionOpt = None,
    header: HeaderOpt = None,
    subprotocol: SubprotocolOpt = None,
    call_id: CallIdOpt = None,
    record: RecordOpt = None,
    record_audio: RecordAudioOpt = None,
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
        endpoint=_endpoint(locals()),
        pretty=False if json_output else pretty,
        event_ids=not no_event_ids,
        strict=strict,
        until=until,
        idle_timeout=idle_timeout,
        timeout=timeout,
    )
    with _recording(record, record_audio) as job.record:
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


RecordingArg = Annotated[
    Path,
    typer.Argument(
        help="A recording (--record), or JSON Lines of server events.",
        metavar="FILE",
        show_default=False,
    ),
]


@app.command()
def replay(
    file: RecordingArg,
    speed: Annotated[
        float | None,
        typer.Option("--speed", help="Play N times as fast as recorded. [default: 1]", metavar="N"),
    ] = None,
    instant: Annotated[bool, typer.Option("--instant", help="No pauses: all at once.")] = False,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the server events as JSON lines (at once, unless --speed)."
        ),
    ] = False,
) -> None:
    """Show a recording as the live session showed it: event rows, errors, response panels.

    Also reads plain JSON Lines of server events (GA or beta names) and rows that wrap one
    under "event"; lines without a usable event are skipped with a notice on stderr.

    Example: rtc replay session.jsonl --speed 4
    """
    from realtime_cli.replay import ReplayJob, run_replay

    if speed is not None and speed <= 0:
        raise UsageError(f"--speed must be more than 0, got {speed:g}")
    job = ReplayJob(file, speed=speed, instant=instant, json_output=json_output)
    raise typer.Exit(run_replay(job))


@app.command()
def export(
    file: RecordingArg,
    format_: Annotated[
        Literal["md", "wav"],
        typer.Option(
            "--format",
            "-f",
            help="md: a Markdown transcript; wav: a WAV file per response with output audio.",
        ),
    ] = "md",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="md: the file to write [default: stdout]; wav: the directory [default: .].",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Turn a recording into a Markdown transcript or WAV files.

    Example: rtc export session.jsonl --format wav --out audio/
    """
    from realtime_cli.export import run_export

    run_export(file, format_, out, sys.stdout, sys.stderr)


COMPLETION_FILES = {"bash": "rtc.bash", "zsh": "_rtc", "fish": "rtc.fish"}


_ZSH_REGISTER = "compdef _rtc_completion rtc"
# typer's zsh script only registers its function, so as an autoloaded ``_rtc`` in $fpath the
# first Tab completes nothing. This ending (click's) completes at once when autoloaded and still
# registers when the file is sourced.
_ZSH_AUTOLOAD = """\
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _rtc_completion "$@"
else
  compdef _rtc_completion rtc
fi"""


def completion_script(shell: str) -> str:
    """The completion script for ``shell``, built by typer as ``rtc --show-completion`` does: it
    asks rtc itself for the candidates, so it never goes stale as options change."""
    from typer._completion_shared import get_completion_script

    script = get_completion_script(prog_name="rtc", complete_var="_RTC_COMPLETE", shell=shell)
    if shell == "zsh" and script.endswith(_ZSH_REGISTER):
        script = script.removesuffix(_ZSH_REGISTER) + _ZSH_AUTOLOAD
    return script + "\n"


@app.command()
def completions(
    shell: Annotated[
        Literal["bash", "zsh", "fish"] | None,
        typer.Argument(help="Print the script for this shell.", show_default=False),
    ] = None,
    write: Annotated[
        Path | None,
        typer.Option(
            "--write",
            help="Write all three scripts into DIR (rtc.bash, _rtc, rtc.fish).",
            metavar="DIR",
        ),
    ] = None,
) -> None:
    """Shell completion scripts for bash, zsh and fish (see the README to install them).

    Example: rtc completions bash > ~/.local/share/bash-completion/completions/rtc
    """
    if (shell is None) == (write is None):
        raise UsageError("give a shell (bash, zsh, fish) or --write DIR")
    if shell is not None:
        sys.stdout.write(completion_script(shell))
        return
    assert write is not None
    for name, filename in COMPLETION_FILES.items():
        path = write / filename
        try:
            write.mkdir(parents=True, exist_ok=True)
            path.write_text(completion_script(name), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--write: cannot write {path}: {exc.strerror or exc}") from None
        typer.echo(f"wrote {path}")


# -- endpoints: rtc doctor, rtc config, rtc profile --------------------------------------------

DOCTOR_EPILOG = """\
Exit codes: 0 every check passed (or could not be exercised); 1 a check failed or is not
supported; 2 usage error; 3 could not connect or authenticate.
"""


@app.command(epilog=DOCTOR_EPILOG)
def doctor(
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", help="Give each check SECONDS.", metavar="SECONDS", min=0.1),
    ] = 15.0,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    model: ModelOpt = None,
    local: LocalOpt = False,
    profile: ProfileOpt = None,
    azure_endpoint: AzureEndpointOpt = None,
    deployment: DeploymentOpt = None,
    api_version: ApiVersionOpt = None,
    header: HeaderOpt = None,
    subprotocol: SubprotocolOpt = None,
    call_id: CallIdOpt = None,
) -> None:
    """Probe an endpoint: handshake, session.update, a text response, an out-of-band response,
    cancelling, error answers, event names. One row per check: pass, fail, not supported.

    Example: rtc doctor --profile work
    """
    import json

    from realtime_cli.doctor import probe
    from realtime_cli.render import doctor_table, make_console, note

    endpoint = _endpoint(locals())
    err = make_console(sys.stderr, stderr=True)
    report = asyncio.run(
        probe(endpoint, step_timeout=timeout, announce=lambda line: err.print(note(line)))
    )
    for check in report.checks:  # whatever a server echoes, no secret of ours is shown
        check.detail = endpoint.scrub(check.detail)
    if json_output:
        sys.stdout.write(endpoint.scrub(json.dumps(report.as_json(), indent=2)) + "\n")
    else:
        out = make_console()
        out.print(note(f"rtc doctor · {report.endpoint} · {report.model}", "bold"), soft_wrap=True)
        rows = [(c.name, c.status, c.detail) for c in report.checks]
        out.print(doctor_table(rows), soft_wrap=False)
        failed = [c for c in report.checks if c.status not in ("pass", "not exercised")]
        verdict = f"{len(failed)} of {len(report.checks)} checks did not pass" if failed else ""
        out.print(note(verdict or "every check passed", "bold red" if failed else "green"))
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.FAILED)


@app.command("config")
def config_command(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the settings as JSON.")
    ] = False,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    model: ModelOpt = None,
    local: LocalOpt = False,
    profile: ProfileOpt = None,
    azure_endpoint: AzureEndpointOpt = None,
    deployment: DeploymentOpt = None,
    api_version: ApiVersionOpt = None,
    header: HeaderOpt = None,
    subprotocol: SubprotocolOpt = None,
    call_id: CallIdOpt = None,
) -> None:
    """Show the effective connection settings and where each came from (flag, environment,
    profile, default). Keys are redacted to their last 4 characters; a key_command is run.

    Example: rtc config --profile work
    """
    import json

    from realtime_cli.explain import effective
    from realtime_cli.render import make_console, print_settings
    from realtime_cli.transport import proxy_for

    rows, data = effective(_selection(locals()), proxy_for, _warn)
    if json_output:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        print_settings(make_console(), rows)


profile_app = typer.Typer(
    help="List, show and add connection profiles (config.toml in the config directory).",
    no_args_is_help=True,
)
app.add_typer(profile_app, name="profile")


@profile_app.command("list")
def profile_list() -> None:
    """List the profiles; * marks the default one.

    Example: rtc profile list
    """
    from realtime_cli.explain import profile_list as rows
    from realtime_cli.profiles import config_dir, load
    from realtime_cli.render import make_console, note, profiles_table

    config = load(config_dir(os.environ))
    out = make_console()
    if not config.profiles:
        out.print(note(f"no profiles in {config.path} (add one: rtc profile add NAME ...)"))
        return
    out.print(profiles_table(rows(config)), soft_wrap=False)


@profile_app.command("show")
def profile_show(name: Annotated[str, typer.Argument(help="The profile's name.")]) -> None:
    """Show one profile as written, secrets redacted.

    Example: rtc profile show work
    """
    from realtime_cli.explain import profile_rows
    from realtime_cli.profiles import config_dir, load
    from realtime_cli.render import make_console, print_settings

    config = load(config_dir(os.environ))
    print_settings(make_console(), profile_rows(config.get(name), config, os.environ))


@profile_app.command("add")
def profile_add(
    name: Annotated[str, typer.Argument(help="The profile's name.")],
    kind: Annotated[
        Literal["openai", "azure", "url", "local"] | None,
        typer.Option("--kind", help="[default: from --url/--azure-endpoint, else openai]"),
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="Endpoint URL (kind url).")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI base URL, like OPENAI_BASE_URL.")
    ] = None,
    azure_endpoint: AzureEndpointOpt = None,
    deployment: DeploymentOpt = None,
    api_version: ApiVersionOpt = None,
    model: Annotated[str | None, typer.Option("--model", help="Model.")] = None,
    auth: Annotated[
        Literal["bearer", "api-key"] | None,
        typer.Option("--auth", help="How the key is sent (bearer for a Microsoft Entra token)."),
    ] = None,
    key_env: Annotated[
        str | None, typer.Option("--key-env", help="Read the key from this variable.")
    ] = None,
    key_command: Annotated[
        str | None,
        typer.Option("--key-command", help="Command printing the key (run without a shell)."),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", help="Store the key itself (plain text; prefer --key-env)."),
    ] = None,
    header: HeaderOpt = None,
    subprotocol: SubprotocolOpt = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="PATH=VALUE or PATH:=JSON into the session settings."),
    ] = None,
    default: Annotated[bool, typer.Option("--default", help="Make it the default.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace a profile of that name.")] = False,
) -> None:
    """Add a profile to config.toml (written with mode 0600).

    Example: rtc profile add work --azure-endpoint https://work.openai.azure.com
    --deployment gpt-realtime --key-command 'pass show azure/work' --default
    """
    import shlex

    from realtime_cli.endpoints import parse_headers
    from realtime_cli.options import set_path
    from realtime_cli.profiles import add_profile, config_dir

    session: dict[str, Any] = {}
    for assignment in set_ or []:
        set_path(session, assignment)
    command = shlex.split(key_command) if key_command else None
    table = {
        "kind": kind,
        "url": url,
        "base_url": base_url,
        "azure_endpoint": azure_endpoint,
        "deployment": deployment,
        "api_version": api_version,
        "model": model,
        "auth": auth,
        "key_env": key_env,
        "key_command": command,
        "api_key": api_key,
        "headers": parse_headers(header or []),
        "subprotocols": subprotocol,
        "session": session,
    }
    path = add_profile(config_dir(os.environ), name, table, replace=force, make_default=default)
    if api_key:
        _warn(f"rtc: warning: the key is stored in plain text in {path} (mode 0600)")
    typer.echo(f"added profile {name!r} to {path}" + (" (default)" if default else ""))


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
