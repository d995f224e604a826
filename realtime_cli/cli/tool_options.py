"""The console's tool-loop options (bare ``rtc`` and ``rtc repl``): the same words as ``rtc
create``'s (``protocol.create_grammar``), except that the console asks before running a handler
unless told ``--no-tool-approve``."""

from __future__ import annotations

import functools
import inspect
from typing import Any

from realtime_cli.cli.params import Command, Connection, _typer_parameter
from realtime_cli.protocol.create_grammar import CREATE_OPTIONS, Opt

_SHARED = ("--tool-handler", "--tool-timeout", "--max-tool-rounds")
CONSOLE_TOOL_OPTIONS: tuple[Opt, ...] = (
    *(opt for opt in CREATE_OPTIONS if opt.name in _SHARED),
    Opt(
        "--no-tool-approve",
        None,
        "Run handlers without asking first (the console asks by default).",
        kind="flag",
    ),
)


def tool_options(command: Command) -> Command:
    """Add the console's tool options to a command, which receives them as ``tools``."""
    added = [_typer_parameter(opt) for opt in CONSOLE_TOOL_OPTIONS]
    names = [p.name for p in added]
    signature = inspect.signature(command, eval_str=True)
    own = [p for name, p in signature.parameters.items() if name != "tools"]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in names}
        return command(*args, tools=values, **kwargs)

    keyword = [p for p in own if p.kind == inspect.Parameter.KEYWORD_ONLY]
    positional = [p for p in own if p.kind != inspect.Parameter.KEYWORD_ONLY]
    parameters = [*positional, *added, *keyword]
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def console_tools(values: dict[str, Any], from_profile: list[str]) -> Any:
    """The ``ToolSettings`` of the console from its options and the profile's handlers (exit 2
    for a bad one)."""
    from realtime_cli.console.tool_calls import ToolSettings

    handlers = [*from_profile, *(values["tool_handlers"] or ())]
    fields = tool_loop_fields({**values, "tool_handlers": handlers, "tool_approve": False})
    return ToolSettings(
        handlers=fields["handlers"],
        approve=not values["no_tool_approve"],
        timeout=fields["tool_timeout"],
        max_rounds=fields["max_tool_rounds"],
    )


def profile_handlers(connection: Connection) -> list[str]:
    """The profile's ``tool_handlers`` as ``--tool-handler`` specs (the flags come after, and a
    flag for the same tool wins)."""
    profile = connection.selection().profile
    handlers = profile.tool_handlers if profile is not None else {}
    return [f"{name}={command}" for name, command in handlers.items()]


def tool_loop_fields(params: dict[str, Any]) -> dict[str, Any]:
    """CreateJob's tool-loop fields from ``--tool-handler`` and friends (checked here, exit 2)."""
    from realtime_cli.errors import UsageError
    from realtime_cli.protocol.tool_loop import DEFAULT_MAX_ROUNDS
    from realtime_cli.session.handlers import DEFAULT_TIMEOUT, Handlers

    rounds = params["max_tool_rounds"]
    if rounds is not None:
        try:
            rounds = int(rounds)
        except ValueError:
            rounds = -1
        if rounds < 0:
            raise UsageError(
                f"Invalid value for '--max-tool-rounds': {params['max_tool_rounds']!r} "
                "is not a whole number >= 0."
            )
    timeout = params["tool_timeout"]
    return {
        "handlers": Handlers(params["tool_handlers"] or ()),
        "max_tool_rounds": DEFAULT_MAX_ROUNDS if rounds is None else rounds,
        "tool_timeout": DEFAULT_TIMEOUT if timeout is None else (timeout or None),
        "tool_approve": params["tool_approve"],
    }
