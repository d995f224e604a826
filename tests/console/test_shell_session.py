"""More of the console through pipe input: sessions, reconnecting, history, completion, and
what must never reach the screen (keys, escape sequences). The harness lives in console_harness."""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

from conftest import ThreadServer
from console_harness import Console_, flat
from mcp_secrets import MCP_HEADER, MCP_PLAIN, MCP_TOKEN, MCP_TOOL
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from realtime_cli.console.terminal import open_history, run_repl
from realtime_cli.endpoint.select import select_endpoint
from realtime_cli.protocol.tracker import ResponseState

# The harness's fixtures (pytest finds fixtures by module attribute).


async def test_connection_loss_keeps_the_console_and_reconnect_opens_a_new_session(
    console: Console_,
) -> None:
    await console.line("create -i before --modality text", expect="╰")
    first = console.shell.session
    assert first is not None
    await first.transport._connection.close(1011, "server restarting")  # type: ignore[attr-defined]
    await console.wait_for("type reconnect")
    assert console.shell.state == "disconnected"
    out = await console.line("hello", expect="error")
    assert out == "error: not connected: type reconnect to open a new session\n"
    assert "resp_…" in await console.line("responses")  # the history stays
    out = await console.line("reconnect", expect="type help")
    assert "reconnecting…" in out and "connected to 127.0.0.1:PORT" in out
    assert console.shell.session is not first and console.shell.state == "connected"
    out = await console.line("create -i after --modality text", expect="╰")
    assert "│ after │" in out


async def test_run_repl_keeps_history_in_the_state_directory(server_url: str) -> None:
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        buffer = io.StringIO()
        out = Console(file=buffer, width=100, color_system=None)
        endpoint = select_endpoint(
            url=server_url, api_key=None, model=None, local=False, environ={}
        )
        pipe.send_text("items\rcreate --api-key sk-nothere\rquit\r")
        assert await asyncio.wait_for(run_repl(endpoint, console=out), 10) == 0
    history = Path(os.environ["XDG_STATE_HOME"]) / "rtc" / "history"
    saved = history.read_text()
    assert "+items\n" in saved and "+quit\n" in saved
    assert "sk-nothere" not in saved
    assert history.stat().st_mode & 0o777 == 0o600  # what the user typed: theirs alone


async def test_the_history_file_never_keeps_a_tool_secret(server_url: str) -> None:
    tool = '{"type": "mcp", "server_label": "s", "server_url": "https://mcp.example"'
    lines = [
        f'session --set \'tools:=[{tool}, "authorization": "tok-AUTH-1234567"}}]\'',
        f'session --set \'tools:=[{tool}, "headers": {{"X-Key": "tok-HDR-1234567"}}}}]\'',
        '{"type": "session.update", "session": {"tools": [{"type": "mcp", "server_label": "s",'
        ' "server_url": "https://mcp.example", "authorization": "tok-JSON-1234567"}]}}',
        "create --set tools.0.authorization=tok-SET-1234567",
    ]
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        buffer = io.StringIO()
        out = Console(file=buffer, width=100, color_system=None)
        endpoint = select_endpoint(
            url=server_url, api_key=None, model=None, local=False, environ={}
        )
        pipe.send_text("items\r" + "\r".join(lines) + "\rquit\r")
        assert await asyncio.wait_for(run_repl(endpoint, console=out), 10) == 0
    saved = (Path(os.environ["XDG_STATE_HOME"]) / "rtc" / "history").read_text()
    assert "+items\n" in saved and "+quit\n" in saved
    assert "tok-" not in saved


def test_the_history_file_is_readable_by_its_owner_alone(tmp_path: Path) -> None:
    path = tmp_path / "state" / "rtc" / "history"
    open_history(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    path.chmod(0o644)  # made by an older rtc
    path.write_text("\n# 2024-01-01\n+hello\n")
    history, problem = open_history(path)
    assert problem is None and path.stat().st_mode & 0o777 == 0o600
    assert list(history.load_history_strings()) == ["hello"]


async def test_tab_completes_commands_and_values(console: Console_) -> None:
    for typed, output in [("respo", "no responses yet\n"), ("view qu", "view: quiet\n")]:
        console.type(typed + "\t")
        await asyncio.sleep(0.2)  # the completer runs in the background, as it would for a person
        assert await console.line("") == output


async def test_session_update_and_show_session(console: Console_) -> None:
    line = (
        "session --modality text --turn-detection none --voice marin --set audio.output.speed:=1.2"
    )
    assert await console.line(line, expect="session updated") == (
        "session updated · modalities=text\n"
    )
    out = await console.line("show rtc_1")
    assert flat(out) == flat(
        '{ "type": "session.update", "session": { "type": "realtime", "output_modalities":'
        ' [ "text" ], "audio": { "output": { "voice": "marin", "speed": 1.2 }, "input": {'
        ' "turn_detection": null } } }, "event_id": "rtc_1" }'
    )
    out = await console.line("session")
    assert '"turn_detection": null' in out and '"speed": 1.2' in out
    out = await console.line("session --set max_output_tokens:=0", expect="error")
    assert out.startswith("error: invalid session.update: session.max_output_tokens")


async def test_the_api_key_is_never_shown(
    local_server: Callable[..., str], console_factory: Callable[..., Console_]
) -> None:
    key = "sk-test-SECRET0123456789abcdefWXYZ"
    console = console_factory(local_server(api_key=key), view="events", width=200, key=key)
    await console.wait_for("type help")
    await console.line("create -i hi --modality text", expect="╰")
    await console.line(f"create --api-key {key}", expect="error")
    await console.line(f'{{"type": "conversation.item.delete", "item_id": "{key}"}}')
    for command in ("events", "responses", "session", "show rtc_1", "help create"):
        await console.line(command)
    assert await console.finish() == 0
    transcript = console.buffer.getvalue()
    assert "error: invalid_value" in transcript and "SECRET" not in transcript
    assert "not found: …WXYZ" in transcript  # redacted as everywhere in rtc


async def test_server_text_cannot_drive_the_terminal(console: Console_) -> None:
    raw = '{"type": "response.create", "response": {"output_modalities": ["text"],'
    out = await console.line(raw + ' "instructions": "a\\u001b[2Jb\\u202ec"}}', expect="╰")
    assert "│ a�[2Jb�c │" in out and "\x1b" not in console.buffer.getvalue()


async def test_a_lost_connection_ends_what_was_streaming_and_needs_reconnect(
    console_factory: Callable[..., Console_],
) -> None:
    server = ThreadServer(token_delay_ms=30)
    console = console_factory(server.start())
    try:
        await console.wait_for("type help")
        words = " ".join(f"w{i}" for i in range(300))
        await console.line(f"create -i '{words}' --modality text -m job=7")
        tracker = console.shell.session.tracker  # type: ignore[union-attr]
        await console.until(lambda: "w3 " in (tracker.active or [ResponseState("-")])[0].text)
    finally:
        await asyncio.to_thread(server.stop)  # the server goes away mid-answer
    await console.wait_for("new session")
    out = console.new_output()
    # The response ends as lost, its partial text in a panel, before the way out is said.
    assert out.index("· lost ─") < out.index("closed with code 1001")
    assert "│ w0 w1 w2 w3" in out and "│ status lost" in out and "│ metadata job=7" in out
    (response,) = tracker.responses.values()
    assert response.status == "lost" and not response.active and not tracker.active
    table = await console.line("responses")
    assert table.splitlines()[2].startswith("resp_… lost ")
    # Every command that needs a connection says so first (not the active-response guard).
    for line in ("hello", "create -i again", "cancel", "cancel --all", '{"type": "x.y"}'):
        out = await console.line(line, expect="error")
        assert out == "error: not connected: type reconnect to open a new session\n", line
    assert console.repl.screen_text().count("▸") == 0  # nothing streams any more


async def test_reconnect_clears_the_last_error_of_the_old_session(console: Console_) -> None:
    await console.line("delete item_missing --force", expect="error")
    assert "last error: invalid_value" in console.repl.screen_text()
    await console.line("reconnect", expect="type help")
    assert "last error" not in console.repl.screen_text()


async def test_show_and_session_redact_tool_tokens_and_never_break_a_json_line(
    server_url: str, console_factory: Callable[..., Console_]
) -> None:
    console = console_factory(server_url, width=80)
    await console.wait_for("type help")
    tool = json.dumps(MCP_TOOL)
    await console.line(f"session --set tools:='[{tool}]'", expect="session updated")
    for line in ("session", "show rtc_1", "events --last 2"):
        await console.line(line)
    updated = next(e for e in console.shell.log if e.event["type"] == "session.updated")
    out = await console.line(f"show {updated.event['event_id']}")
    assert '"authorization": "…PQRS"' in out and '"X-Api-Key": "…TUVW"' in out
    transcript = console.buffer.getvalue()
    assert not any(secret in transcript for secret in (MCP_TOKEN, MCP_HEADER, MCP_PLAIN))
    # Long JSON lines are left whole for the terminal to soft-wrap: copied, they are still JSON.
    instructions = "a long instruction " * 10
    await console.line(f"create -i '{instructions.strip()}' --modality text", expect="╰")
    out = await console.line("show rtc_2")
    assert f'    "instructions": "{instructions.strip()}",\n' in out
    assert json.loads(out)["response"]["instructions"] == instructions.strip()


async def test_pasted_json_lines_and_arrays_are_sent_in_order(console: Console_) -> None:
    one = '{"type": "response.create", "response": {"instructions": "one", "output_modalities": ["text"], "conversation": "none"}}'
    two = one.replace('"one"', '"two"')
    out = await console.line(f"\x1b[200~{one}\n{two}\n\x1b[201~")
    await console.until(lambda: console.buffer.getvalue().count("╰") == 2)
    assert [e.event.get("event_id") for e in console.shell.log if e.direction == "→"] == [
        "rtc_1",
        "rtc_2",
    ]
    out += console.new_output()
    assert out.index("│ one │") < out.index("│ two │")
    three, four = one.replace('"one"', '"three"'), two.replace('"two"', '"four"')
    out = await console.line(f"[{three}, {four}]")
    await console.until(lambda: console.buffer.getvalue().count("╰") == 4)
    out += console.new_output()
    assert out.index("│ three │") < out.index("│ four │")
    # A bad event in a paste: which one, where, and nothing of the paste is sent.
    sent = len(console.shell.log)
    bad = '{"type": "response.create", "response": 7}'
    out = await console.line(f"\x1b[200~{one}\n{bad}\x1b[201~", expect="error")
    assert out.startswith("error: event 2: invalid response.create: response: ")
    out = await console.line(f"\x1b[200~{one}\n{{oops}}\x1b[201~", expect="error")
    assert (
        out
        == "error: event 2: not JSON: expecting property name enclosed in double quotes at line 2 column 2\n"
    )
    out = await console.line("[1, 2]", expect="error")
    assert out == "error: event 1: a raw event must be a JSON object\n"
    # Validation happens before any send, and each error above came after it: nothing went out.
    assert len([e for e in list(console.shell.log)[sent:] if e.direction == "→"]) == 0


async def test_reconnect_while_a_response_streams_ends_it_as_lost(
    local_server: Callable[..., str], console_factory: Callable[..., Console_]
) -> None:
    console = console_factory(local_server(token_delay_ms=50))
    await console.wait_for("type help")
    words = " ".join(f"w{i}" for i in range(200))
    await console.line(f"create -i '{words}' --modality text")
    await console.until(lambda: console.shell.active() and console.shell.active()[0].text)
    out = await console.line("reconnect", expect="type help")
    assert out.index("· lost ─") < out.index("reconnecting…") < out.index("connected to")
    assert "│ w0" in out
