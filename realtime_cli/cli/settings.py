"""Where settings come from: ``rtc config`` and ``rtc profile list|show|add``."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any, Literal

import typer

from realtime_cli.cli.app import app
from realtime_cli.cli.params import (
    ApiVersionOpt,
    AzureEndpointOpt,
    Connection,
    DeploymentOpt,
    HeaderOpt,
    SubprotocolOpt,
    connects,
    warn,
)


@app.command("config")
@connects()
def config_command(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the settings as JSON.")
    ] = False,
    *,
    connection: Connection,
) -> None:
    """Show the effective connection settings and where each came from (flag, environment,
    profile, default). Keys are redacted to their last 4 characters; a key_command is run.

    Example: rtc config --profile work
    """
    import json

    from realtime_cli.endpoint.explain import effective
    from realtime_cli.render import make_console, print_settings
    from realtime_cli.session.transport import proxy_for

    rows, data = effective(connection.selection(), proxy_for, warn)
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
    from realtime_cli.endpoint.explain import profile_list as rows
    from realtime_cli.endpoint.profiles import config_dir, load
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
    from realtime_cli.endpoint.explain import profile_rows
    from realtime_cli.endpoint.profiles import config_dir, load
    from realtime_cli.render import make_console, print_settings

    config = load(config_dir(os.environ))
    print_settings(make_console(), profile_rows(config.get(name), config, os.environ))


@profile_app.command("add")
def profile_add(
    name: Annotated[str, typer.Argument(help="The profile's name.")],
    kind: Annotated[
        Literal["openai", "azure", "url", "local"] | None,
        typer.Option(
            "--kind",
            metavar="openai|azure|url|local",
            help="[default: from --url/--azure-endpoint, else openai]",
        ),
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Endpoint URL (kind url).", metavar="URL")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="OpenAI base URL, like OPENAI_BASE_URL.", metavar="URL"),
    ] = None,
    azure_endpoint: AzureEndpointOpt = None,
    deployment: DeploymentOpt = None,
    api_version: ApiVersionOpt = None,
    model: Annotated[str | None, typer.Option("--model", help="Model.", metavar="MODEL")] = None,
    auth: Annotated[
        Literal["bearer", "api-key"] | None,
        typer.Option(
            "--auth",
            metavar="bearer|api-key",
            help="How the key is sent (bearer for a Microsoft Entra token).",
        ),
    ] = None,
    key_env: Annotated[
        str | None,
        typer.Option("--key-env", help="Read the key from this variable.", metavar="NAME"),
    ] = None,
    key_command: Annotated[
        str | None,
        typer.Option(
            "--key-command",
            metavar="COMMAND",
            help="Command printing the key (run without a shell).",
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", metavar="KEY", help="Store the key itself (plain text; prefer --key-env)."
        ),
    ] = None,
    header: HeaderOpt = None,
    subprotocol: SubprotocolOpt = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-s",
            metavar="PATH=VALUE",
            help="PATH=VALUE or PATH:=JSON into the session settings.",
        ),
    ] = None,
    default: Annotated[bool, typer.Option("--default", help="Make it the default.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace a profile of that name.")] = False,
) -> None:
    """Add a profile to config.toml (written with mode 0600).

    Example: rtc profile add work --azure-endpoint https://work.openai.azure.com
    --deployment gpt-realtime --key-command 'pass show azure/work' --default
    """
    import shlex

    from realtime_cli.endpoint.headers import parse_headers
    from realtime_cli.endpoint.profile_write import add_profile
    from realtime_cli.endpoint.profiles import config_dir
    from realtime_cli.protocol.response_options import set_path

    session: dict[str, Any] = {}
    for assignment in set_ or []:
        set_path(session, assignment, prefix="session")
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
        warn(f"rtc: warning: the key is stored in plain text in {path} (mode 0600)")
    typer.echo(f"added profile {name!r} to {path}" + (" (default)" if default else ""))
