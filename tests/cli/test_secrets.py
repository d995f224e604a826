"""A known key, given every way rtc accepts one, never shows up in anything rtc prints or writes:
stdout, stderr, recordings, the config and state directories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_run import rtc
from console_harness import Console_
from proxy import relay, serving
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from realtime_cli.cli.params import Connection
from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.endpoint.profiles import ConfigFile, Profile
from realtime_cli.endpoint.select import ConnectionOptions, select
from realtime_cli.protocol.redact import redact, redact_tools, redact_url
from realtime_cli.protocol.service import KEY_PROTOCOL

ROOT = Path(__file__).resolve().parents[2]
RTC = [sys.executable, "-m", "realtime_cli"]
KEY = "sk-proj-LEAKCHECK-0123456789abcdefghijklmn"
TURN = (
    '{"type": "conversation.item.create", "item": {"type": "message", "role": "user", '
    '"content": [{"type": "input_text", "text": "hello"}]}}\n'
    '{"type": "response.create", "response": {"output_modalities": ["text"]}}\n'
)


def test_the_key_never_leaks(local_server: Callable[..., str], tmp_path: Path) -> None:
    url = local_server(api_key=KEY, token_delay_ms=2)
    bin_dir = tmp_path / "bin"  # outside the directories rtc may write to
    bin_dir.mkdir()
    helper = bin_dir / "get-key"
    helper.write_text(f"#!{sys.executable}\nprint({KEY!r})\n")
    helper.chmod(0o700)
    config_dir = Path(os.environ["RTC_CONFIG_DIR"])
    (config_dir / "config.toml").write_text(
        f'default_profile = "cmd"\n'
        f'[profiles.cmd]\nurl = "{url}"\nkey_command = ["{helper}"]\n'
        f'[profiles.env]\nurl = "{url}"\nkey_env = "LEAK_KEY"\n'
        f'[profiles.az]\nazure_endpoint = "{url.replace("ws://", "http://").split("/v1")[0]}"\n'
        f'deployment = "dep"\nkey_command = ["{helper}"]\n'
    )
    recording = tmp_path / "out" / "session.jsonl"
    recording.parent.mkdir()
    flag = ["--url", url, "--api-key", KEY]
    env_key = {"OPENAI_API_KEY": KEY, "RTC_URL": url}
    runs: list[tuple[list[str], dict[str, str], str | None]] = [
        (["create", "hello", *flag], {}, None),
        (["create", "hello", *flag, "--events"], {}, None),
        (["create", "hello", *flag, "--json"], {}, None),
        (["create", "hello", "--events", "--record", str(recording)], env_key, None),
        (["create", "hello", "--json"], {}, None),  # default profile: key_command
        (["create", "hello", "--profile", "env", "--events"], {"LEAK_KEY": KEY}, None),
        (["create", "hello", "--profile", "az", "--json"], {}, None),
        (["pipe", *flag], {}, TURN),
        (["pipe", "--pretty"], env_key, TURN),
        (["pipe", "--profile", "cmd", "--json"], {}, TURN),
        (["doctor", *flag], {}, None),
        (["doctor", "--json"], {}, None),
        (["doctor", "--profile", "az"], {}, None),
        (["config"], {}, None),
        (["config", "--json", *flag], {}, None),
        (["config", "--profile", "env"], {"LEAK_KEY": KEY}, None),
        (["config", "--json"], env_key, None),
        (["profile", "show", "cmd"], {}, None),
        (["profile", "list"], {}, None),
        # A wrong key: the server's error names it masked, rtc adds nothing of it.
        (["create", "hello", "--url", url, "--api-key", KEY[::-1]], {}, None),
    ]
    for args, extra, stdin in runs:
        result = subprocess.run(
            [*RTC, *args], capture_output=True, text=True, timeout=120, cwd=ROOT,
            input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
            env={**os.environ, **extra},
        )  # fmt: skip
        expected = 3 if KEY[::-1] in args else 0
        assert result.returncode == expected, (args, result.stderr)
        for secret in (KEY, KEY[::-1]):
            assert secret not in result.stdout, args
            assert secret not in result.stderr, args
        if args[0] in ("config", "profile"):
            assert KEY[-4:] in result.stdout or "key_command" in result.stdout, args
    assert recording.stat().st_size > 0
    written = [
        path
        for directory in (config_dir, Path(os.environ["XDG_STATE_HOME"]), recording.parent)
        for path in directory.rglob("*")
        if path.is_file()
    ]
    assert recording in written
    for path in written:
        content = path.read_bytes()
        assert KEY.encode() not in content, path
        assert KEY[::-1].encode() not in content, path


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_key_in_the_url_query_is_redacted_in_config(how: str) -> None:
    url = f"wss://res.openai.azure.com/openai/realtime?api-key={KEY}&deployment=d"
    args = [*RTC, "config", *(["--url", url] if how == "flag" else [])]
    env = {**os.environ, **({"RTC_URL": url} if how == "env" else {})}
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr
    assert KEY not in result.stdout + result.stderr
    assert "api-key=…klmn" in result.stdout


# -- a server that echoes what it was sent -----------------------------------------------------

SHORT_KEY = "Qz7-x9"  # short keys are scrubbed too (any of 4 characters or more)
SESSION_CREATED = {
    "type": "session.created",
    "event_id": "event_1",
    "session": {"type": "realtime", "object": "realtime.session", "id": "sess_1"},
}


def _credential(connection: ServerConnection) -> str:
    assert connection.request is not None
    return connection.request.headers.get("Authorization", "").partition(" ")[2]


def _echo_authorization(connection: ServerConnection, request: Request) -> Response:
    """A 401 at the handshake whose body echoes the Authorization header, as some proxies do."""
    header = request.headers.get("Authorization", "")
    body = json.dumps({"error": {"message": f"bad token: {header}"}}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return Response(401, "Unauthorized", Headers(headers), body)


async def _never(connection: ServerConnection) -> None:
    raise AssertionError("the handshake is refused: no connection")


@pytest.mark.parametrize("key", [KEY, SHORT_KEY])
@pytest.mark.parametrize("command", ["create", "pipe", "doctor"])
def test_a_handshake_error_that_echoes_the_key_does_not_show_it(command: str, key: str) -> None:
    args = [command, *(["hello"] if command == "create" else [])]
    with serving(_never, process_request=_echo_authorization) as url:
        result = rtc(
            *args, "--url", url, "--api-key", key, stdin=TURN if command == "pipe" else None
        )
    assert result.returncode == 3, result.stderr
    shown = "…klmn" if key == KEY else "****"
    assert f"HTTP 401 Unauthorized at the handshake: bad token: Bearer {shown}" in result.stderr
    assert key not in result.stdout + result.stderr


async def _errors_naming_the_key(connection: ServerConnection) -> None:
    """session.created, then an error naming the key for every client event."""
    await connection.send(json.dumps(SESSION_CREATED))
    async for frame in connection:
        event = json.loads(frame)
        error = {
            "type": "invalid_request_error",
            "code": "invalid_value",
            "message": f"Incorrect API key provided: {_credential(connection)}.",
            "event_id": event.get("event_id"),
        }
        await connection.send(json.dumps({"type": "error", "event_id": "event_2", "error": error}))


async def _closes_naming_the_key(connection: ServerConnection) -> None:
    """session.created, then a close whose reason names the key."""
    await connection.send(json.dumps(SESSION_CREATED))
    await connection.recv()
    await connection.close(1008, f"revoked: {_credential(connection)}")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["create", "hello"], 1),
        (["create", "hello", "--events"], 1),
        (["create", "hello", "--json"], 1),
        (["pipe", "--idle-timeout", "3"], 1),
        (["pipe", "--pretty", "--idle-timeout", "3"], 1),
    ],
)
def test_a_server_that_echoes_the_key_in_errors_does_not_make_rtc_show_it(
    args: list[str], code: int
) -> None:
    stdin = TURN if args[0] == "pipe" else None
    with serving(_errors_naming_the_key) as url:
        result = rtc(*args, "--url", url, "--api-key", KEY, stdin=stdin)
    assert result.returncode == code, result.stderr
    assert "Incorrect API key provided: …klmn." in result.stdout + result.stderr
    assert KEY not in result.stdout + result.stderr


@pytest.mark.parametrize("command", ["create", "pipe"])
def test_a_close_reason_naming_the_key_is_not_shown(command: str) -> None:
    args = [command, *(["hello"] if command == "create" else [])]
    with serving(_closes_naming_the_key) as url:
        result = rtc(
            *args, "--url", url, "--api-key", KEY, stdin=TURN if command == "pipe" else None
        )
    assert result.returncode == 4, result.stderr
    assert "closed with code 1008 (revoked: …klmn)" in result.stderr
    assert KEY not in result.stdout + result.stderr


# -- MCP tokens in session settings ------------------------------------------------------------

from mcp_secrets import MCP_HEADER, MCP_SECRETS, MCP_TOKEN, MCP_TOOL  # noqa: E402


def _mcp_profile(url: str) -> str:
    headers = ", ".join(f'"{k}" = "{v}"' for k, v in MCP_TOOL["headers"].items())  # type: ignore[attr-defined]
    return (
        f'[profiles.mcp]\nurl = "{url}"\n'
        "[profiles.mcp.session]\ninstructions = 'Be brief.'\n"
        "[[profiles.mcp.session.tools]]\n"
        + "".join(f'{k} = "{v}"\n' for k, v in MCP_TOOL.items() if k != "headers")
        + f"headers = {{ {headers} }}\n"
    )


def test_mcp_tokens_are_redacted_in_config_and_profile_show(tmp_path: Path) -> None:
    config = Path(os.environ["RTC_CONFIG_DIR"]) / "config.toml"
    config.write_text(_mcp_profile("ws://127.0.0.1:9/v1/realtime"))
    for args in (["config", "--profile", "mcp"], ["config", "--profile", "mcp", "--json"]):
        result = rtc(*args)
        assert result.returncode == 0, result.stderr
        for secret in MCP_SECRETS:
            assert secret not in result.stdout + result.stderr, (args, secret)
        assert "…PQRS" in result.stdout and "…TUVW" in result.stdout, args
        assert "mcp.example.com" in result.stdout  # the rest of the tool is shown
    result = rtc("profile", "show", "mcp")
    assert result.returncode == 0, result.stderr
    assert "…PQRS" in result.stdout and "…TUVW" in result.stdout and "…ALUE" in result.stdout
    for secret in MCP_SECRETS:
        assert secret not in result.stdout + result.stderr, secret


def test_mcp_tokens_are_sent_intact_but_never_recorded_or_shown(
    local_server: Callable[..., str], tmp_path: Path
) -> None:
    recording = tmp_path / "session.jsonl"
    with relay(local_server(token_delay_ms=1)) as wire:
        config = Path(os.environ["RTC_CONFIG_DIR"]) / "config.toml"
        config.write_text(_mcp_profile(wire.url))
        turn = (
            '{"type": "response.create", "response": {"output_modalities": ["text"], '
            f'"tools": [{json.dumps(MCP_TOOL)}]}}}}\n'
        )
        runs = [
            ["create", "hello", "--profile", "mcp", "--events", "--record", str(recording)],
            ["pipe", "--profile", "mcp", "--pretty"],
            ["pipe", "--profile", "mcp", "--json"],
        ]
        for args in runs:
            result = rtc(*args, stdin=turn if args[0] == "pipe" else None)
            assert result.returncode == 0, (args, result.stderr)
            for secret in (MCP_TOKEN, MCP_HEADER):
                assert secret not in result.stdout + result.stderr, (args, secret)
    sent = [json.loads(frame) for frame in wire.client_frames]
    assert MCP_TOOL in sent[0]["session"]["tools"]  # on the wire, the tool is intact
    assert any(MCP_TOOL in (e.get("response") or {}).get("tools", []) for e in sent)
    written = recording.read_text()
    assert '"session.update"' in written and '"session.updated"' in written
    for secret in MCP_SECRETS:
        assert secret not in written, secret
    assert '"authorization":"…PQRS"' in written.replace(" ", "")


async def test_the_console_does_not_show_mcp_tokens_it_sent(
    server_url: str, console_factory: Callable[..., Console_]
) -> None:
    console = console_factory(server_url, view="events", width=300)
    await console.wait_for("type help")
    session = {"type": "realtime", "tools": [MCP_TOOL]}
    line = json.dumps({"type": "session.update", "session": session})
    await console.line(line, expect="session.updated")
    await console.line("events")
    shown = await console.line("show rtc_1")
    assert "mcp.example.com" in shown and "…PQRS" in shown
    assert await console.finish() == 0
    transcript = console.buffer.getvalue()
    for secret in MCP_SECRETS:
        assert secret not in transcript.replace(line, ""), secret  # but in the line typed


def test_redact_tools_redacts_every_tool_and_changes_nothing_else() -> None:
    event = {"type": "response.create", "response": {"tools": [MCP_TOOL, {"type": "function"}]}}
    redacted = redact_tools(event)
    tool = redacted["response"]["tools"][0]
    assert tool["authorization"] == "…PQRS"
    assert tool["headers"] == {"X-Api-Key": "…TUVW", "X-Region": "…ALUE"}
    assert event["response"]["tools"][0] is MCP_TOOL and MCP_TOOL["authorization"] == MCP_TOKEN
    assert redact_tools(redacted) == redacted  # already redacted: left as it is
    plain = {"type": "session.update", "session": {"tools": [{"type": "function"}]}}
    assert redact_tools(plain) is plain


# -- reprs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [KEY, "Zq9x"])
def test_no_repr_holds_the_key(key: str, tmp_path: Path) -> None:
    profile = Profile(
        "p",
        "url",
        url=f"wss://h.example/v1/realtime?api-key={key}",
        api_key=key,
        key_command=("echo", key),
        headers={"Authorization": f"Bearer {key}"},
        subprotocols=(KEY_PROTOCOL + key,),
        session={"type": "realtime", "tools": [{**MCP_TOOL, "authorization": key}]},
    )
    config = ConfigFile(tmp_path / "config.toml", True, "p", {"p": profile}, {"api_key": key})
    options = ConnectionOptions(
        api_key=key,
        profile="p",
        headers=(f"X-Token: {key}",),
        subprotocols=(KEY_PROTOCOL + key,),
    )
    selection = select(options, {"OPENAI_API_KEY": key, "SECRET": key}, config)
    endpoint = selection.endpoint()
    assert endpoint.headers["Authorization"] == f"Bearer {key}"  # the real thing is there
    values: dict[str, Any] = {"api_key": key, "header": [f"Authorization: Bearer {key}"]}
    objects = [selection, selection.key, endpoint, profile, config, Connection(values)]
    for thing in objects:
        assert key not in repr(thing), type(thing).__name__
        assert key not in str(thing), type(thing).__name__
    assert "model='gpt-realtime'" in repr(endpoint)  # still useful to read


# -- short secrets -------------------------------------------------------------------------------


def test_secrets_of_four_characters_or_more_are_scrubbed_and_never_shown() -> None:
    for key in ("abcd", "Qz7-x9", "0123456789a"):
        endpoint = select(ConnectionOptions(url="ws://h/x", api_key=key), {}, None).endpoint()
        assert endpoint.scrub(f"bad key {key}!") == "bad key ****!"
        assert redact(key) == "****"
        assert key not in redact_url(f"wss://h/x?api-key={key}")
    # Shorter ones cannot be told from ordinary text: scrubbing "abc" would garble output.
    assert (
        select(ConnectionOptions(url="ws://h/x", api_key="abc"), {}, None).endpoint().secrets == ()
    )
    for length in range(12, 40):
        secret = "".join(chr(65 + i % 26) for i in range(length))
        assert redact(secret) == "…" + secret[-4:]  # the last 4 at most
    # A secret inside another is scrubbed whole, whichever order they come in.
    endpoint = Endpoint("ws://h/x", secrets=("Bearer-part", "xx-Bearer-part-yy"))
    assert endpoint.scrub("xx-Bearer-part-yy") == "…t-yy"
