"""More of the console through pipe input: sessions, reconnecting, history, completion, and
what must never reach the screen (keys, escape sequences). The harness lives in test_repl."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Callable
from pathlib import Path

import test_repl
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console
from test_repl import Console_, flat

from realtime_cli.config import select_endpoint
from realtime_cli.repl import run_repl

# The harness's fixtures (pytest finds fixtures by module attribute).
console = test_repl.console
console_factory = test_repl.console_factory


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
