"""Option declarations shared by several commands, and how they become settings.

Every command that connects takes the same connection options; they are declared once here and
added to a command by ``@connects``, which hands the command one ``Connection`` instead of a
dozen parameters. ``Connection.endpoint()`` is the one way options become an ``Endpoint``.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import typer

from realtime_cli.endpoint.endpoint import CONNECTION_OPTIONS, Endpoint
from realtime_cli.errors import UsageError
from realtime_cli.protocol.create_grammar import Opt, convert

if TYPE_CHECKING:
    from realtime_cli.endpoint.select import Selection
    from realtime_cli.session.recording import Recorder


def finite(value: float | None) -> float | None:
    """The callback of every float option: ``min=`` lets NaN through (no comparison with NaN is
    true) and infinity is no number of seconds; both are usage errors naming the option."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value:g} is not a finite number.")
    return value


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
PingIntervalOpt = Annotated[
    float | None,
    typer.Option(
        "--ping-interval",
        help="Keepalive: ping every SECONDS (0: never; profile ping_interval). [default: 10]",
        metavar="SECONDS",
        min=0,
        callback=finite,
        show_default=False,
    ),
]
PingTimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--ping-timeout",
        help="Keepalive: the connection is dead when a pong is SECONDS late (profile "
        "ping_timeout). [default: 10]",
        metavar="SECONDS",
        min=0,
        callback=finite,
        show_default=False,
    ),
]
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
        metavar="yes|no",
    ),
]

# (parameter, declaration, default) of every connection option, in the order help lists them:
# exactly the parameters of config.CONNECTION_OPTIONS (asserted below).
_CONNECTION: tuple[tuple[str, Any, Any], ...] = (
    ("url", UrlOpt, None),
    ("api_key", KeyOpt, None),
    ("model", ModelOpt, None),
    ("local", LocalOpt, False),
    ("profile", ProfileOpt, None),
    ("azure_endpoint", AzureEndpointOpt, None),
    ("deployment", DeploymentOpt, None),
    ("api_version", ApiVersionOpt, None),
    ("header", HeaderOpt, None),
    ("subprotocol", SubprotocolOpt, None),
    ("call_id", CallIdOpt, None),
    ("ping_interval", PingIntervalOpt, None),
    ("ping_timeout", PingTimeoutOpt, None),
)
_RECORDING: tuple[tuple[str, Any, Any], ...] = (
    ("record", RecordOpt, None),
    ("record_audio", RecordAudioOpt, None),
)
assert [name for name, _, _ in _CONNECTION] == list(CONNECTION_OPTIONS)


def warn(line: str) -> None:
    sys.stderr.write(line + "\n")


@dataclass(frozen=True)
class Connection:
    """The connection (and recording) options one command was given."""

    values: dict[str, Any]

    def __repr__(self) -> str:
        # The values hold --api-key and --header: the repr names the options given, no value.
        given = [name for name, value in self.values.items() if value not in (None, False, [], ())]
        return f"Connection(given={given!r})"

    @property
    def given(self) -> bool:
        return any(value not in (None, False, [], ()) for value in self.values.values())

    def selection(self) -> Selection:
        """flag > environment > profile > default, with config.toml from the config directory."""
        from realtime_cli.endpoint.profiles import config_dir, load
        from realtime_cli.endpoint.select import ConnectionOptions, select

        v = self.values
        options = ConnectionOptions(
            url=v["url"],
            api_key=v["api_key"],
            model=v["model"],
            local=v["local"],
            profile=v["profile"],
            azure_endpoint=v["azure_endpoint"],
            deployment=v["deployment"],
            api_version=v["api_version"],
            headers=tuple(v["header"] or ()),
            subprotocols=tuple(v["subprotocol"] or ()),
            call_id=v["call_id"],
        )
        config = None if options.local else load(config_dir(os.environ))
        return select(options, os.environ, config)

    def endpoint(self) -> Endpoint:
        """Where to connect, with the key fetched (a key_command runs here, once). Keepalive:
        flag > profile > default."""
        selection = self.selection()
        profile = selection.profile
        v = self.values
        interval, timeout = v.get("ping_interval"), v.get("ping_timeout")
        if profile is not None:
            interval = profile.ping_interval if interval is None else interval
            timeout = profile.ping_timeout if timeout is None else timeout
        return selection.endpoint(warn).with_keepalive(interval, timeout)

    def recording(self) -> contextlib.AbstractContextManager[Recorder | None]:
        """``--record FILE``: the open recording (closed when the command ends), or nothing."""
        path, audio = self.values.get("record"), self.values.get("record_audio")
        if path is None:
            if audio is not None:
                raise UsageError("--record-audio needs --record FILE")
            return contextlib.nullcontext()
        from realtime_cli.session.recording import Recorder

        return Recorder.open(path, audio=audio != "no")


Command = TypeVar("Command", bound=Callable[..., Any])


def connects(*, record: bool = False) -> Callable[[Command], Command]:
    """Add the connection options (and ``--record`` options) to a command, which receives them
    as ``connection: Connection``. typer reads the parameters from ``__signature__``."""
    declared = _CONNECTION + (_RECORDING if record else ())

    def decorate(command: Command) -> Command:
        signature = inspect.signature(command, eval_str=True)
        own = [p for name, p in signature.parameters.items() if name != "connection"]
        added = [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=decl
            )
            for name, decl, default in declared
        ]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name, _, _ in declared}
            return command(*args, connection=Connection(values), **kwargs)

        parameters = [*own, *added]
        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _typer_parameter(opt: Opt) -> inspect.Parameter:
    """One option of the shared grammar as a typer parameter (annotation and default). Values
    arrive as text and are converted by the grammar's own ``convert``, so a bad value reads the
    same in the shell and the console, in rtc's words (not a validation library's)."""
    flags = (opt.name, opt.short) if opt.short else (opt.name,)
    declared: Any
    default: Any = None
    if opt.kind == "flag":
        declared, default = bool, False
        info = typer.Option(*flags, help=opt.help)
    else:
        declared = (list[str] if opt.repeat else str) | None
        info = typer.Option(
            *flags,
            help=opt.help + (" [x>=0]" if opt.kind == "seconds" else ""),
            metavar=opt.metavar,
            show_default=False,
            callback=_converter(opt),
        )
    return inspect.Parameter(
        opt.key,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[declared, info],
    )


def _converter(opt: Opt) -> Callable[[Any], Any]:
    def convert_value(value: Any) -> Any:
        if not value and opt.repeat:
            return ()  # as the console's parser gives it (and click without a callback)
        if value is None:
            return None
        try:
            if isinstance(value, list | tuple):
                return [convert(opt, v) for v in value]
            return convert(opt, value)
        except UsageError as exc:  # click adds "Invalid value for '--name'" itself
            raise typer.BadParameter(exc.message.partition(": ")[2] or exc.message) from None

    return convert_value


def grammar(options: Sequence[Opt], *, prompt_help: str) -> Callable[[Command], Command]:
    """Declare a command's PROMPT and options from a grammar shared with the console
    (``protocol.create_grammar``); the command receives them as ``params`` by name, exactly as
    the console's parser returns them."""
    prompt = inspect.Parameter(
        "prompt",
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        default=None,
        annotation=Annotated[
            str | None, typer.Argument(help=prompt_help, show_default=False, metavar="PROMPT")
        ],
    )
    parameters = [prompt, *(_typer_parameter(opt) for opt in options)]
    names = [p.name for p in parameters]

    def decorate(command: Command) -> Command:
        signature = inspect.signature(command, eval_str=True)
        own = [p for name, p in signature.parameters.items() if name != "params"]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            params = {name: kwargs.pop(name) for name in names}
            return command(*args, params=params, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=[*parameters, *own])  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
