"""The tool loop in the console, through prompt-toolkit's pipe input against the local server:
the approval question, calls answered by hand (`tool-output`), `calls`, approve/deny."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from console_harness import Console_, flat

from realtime_cli.console.tool_calls import ConsoleTools, ToolSettings
from realtime_cli.session.handlers import Handlers

WEATHER = "--tool 'get_weather(city: string)' --modality text"


def started(
    url: str, factory: Callable[..., Console_], handlers: list[str], approve: bool = True
) -> Console_:
    console = factory(url)
    ConsoleTools(console.shell, ToolSettings(Handlers(handlers), approve=approve))
    return console


def handler(tmp_path: Path, body: str) -> str:
    path = tmp_path / "handler.py"
    path.write_text(body)
    return f"get_weather={sys.executable} {path}"


def call_id(text: str) -> str:
    found = re.search(r"\bcall_[A-Za-z0-9]{21}\b", text)
    assert found, text
    return found.group(0)


async def test_console_asks_then_runs_the_handler_and_follows_up(
    server_url: str, console_factory: Callable[..., Console_], tmp_path: Path
) -> None:
    script = "import json, sys\nprint('Sunny in', json.load(sys.stdin)['city'])\n"
    console = started(server_url, console_factory, [handler(tmp_path, script)])
    await console.wait_for("type help")
    out = await console.line(f"create 'what is get_weather' {WEATHER}", expect="y/n")
    assert 'tool call get_weather {"city":"example"}' in flat(out)
    assert 'for get_weather {"city":"example"}' in flat(out)  # the question shows both
    listed = await console.line("calls", expect="waiting for y/n")
    assert 'get_weather {"city":"example"} · waiting for y/n' in flat(listed)
    out = await console.line("y", expect="│ Sunny in example")
    assert "tool ran get_weather" in out and "exit 0" in out
    assert "follow-up response.create" in out
    assert "no pending calls" in await console.line("calls", expect="no pending")
    chain = await console.line("responses", expect="tool loop:")
    assert re.search(r"tool loop: resp_… \(get_weather\) → resp_… completed", flat(chain))
    assert await console.finish() == 0


async def test_denied_call_tells_the_model(
    server_url: str, console_factory: Callable[..., Console_], tmp_path: Path
) -> None:
    console = started(server_url, console_factory, [handler(tmp_path, "print('ran')")])
    await console.wait_for("type help")
    out = await console.line(f"create 'get_weather now' {WEATHER}", expect="y/n")
    out = await console.line(f"deny {call_id(out)}", expect='│ {"error"')
    assert "the user declined to run this tool" in flat(out)
    assert await console.finish() == 0


async def test_call_without_handler_is_answered_by_hand(
    server_url: str, console_factory: Callable[..., Console_], tmp_path: Path
) -> None:
    console = started(server_url, console_factory, [])
    await console.wait_for("type help")
    out = await console.line(f"create 'get_weather please' {WEATHER}", expect="╰")
    assert "no handler: tool-output CALL_ID TEXT answers it" in flat(out)
    call = call_id(out)
    listed = await console.line("calls", expect="needs tool-output")
    assert f'{call} get_weather {{"city":"example"}} · needs tool-output' in flat(listed)
    bad = await console.line("tool-output call_nope hi", expect="error")
    assert "tool-output: 'call_nope' is not a pending call (pending: call_" in flat(bad)
    bad = await console.line(f"tool-output {call} {{oops", expect="error")
    assert "tool-output: not JSON" in bad
    out = await console.line(f'tool-output {call} {{"temp": 21, "sky": "clear"}}', expect="╰")
    assert '{"temp":21,"sky":"clear"}' in out  # the model's answer is the output sent
    assert "no pending calls" in await console.line("calls", expect="no pending")
    # --no-create leaves the response.create to the user; @FILE reads the output from a file.
    out = await console.line(f"create 'get_weather again' {WEATHER}", expect="╰")
    (tmp_path / "out.txt").write_text("Rain all day")
    call = call_id(out)
    out = await console.line(f"tool-output --no-create {call} @{tmp_path / 'out.txt'}")
    assert "╰" not in out
    out = await console.line("create --modality text", expect="╰")
    assert "Rain all day" in out
    assert await console.finish() == 0


async def test_tab_completes_pending_call_ids_and_tools_files(
    server_url: str, console_factory: Callable[..., Console_], tmp_path: Path
) -> None:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from realtime_cli.console.terminal import ConsoleCompleter as _Completer

    console = started(server_url, console_factory, [])
    await console.wait_for("type help")
    out = await console.line(f"create 'get_weather please' {WEATHER}", expect="╰")
    completer = _Completer(console.shell)

    def complete(text: str) -> list[str]:
        document = Document(text, len(text))
        return [c.text for c in completer.get_completions(document, CompleteEvent())]

    assert complete("tool-output call_") == [call_id(out)]
    assert complete("approve ") == [call_id(out)]
    (tmp_path / "tools.json").write_text("[]")
    assert complete(f"create --tools {tmp_path}/too") == ["ls.json"]
    assert await console.finish() == 0


async def test_mcp_approval_request_is_shown_listed_and_approved(
    server_url: str, console_factory: Callable[..., Console_]
) -> None:
    console = started(server_url, console_factory, [])
    await console.wait_for("type help")
    mcp = (
        '{"type": "mcp", "server_label": "deepwiki", "server_url": "https://mcp.example.com",'
        ' "allowed_tools": ["ask_question"], "require_approval": "always"}'
    )
    out = await console.line(
        f"create 'ask deepwiki about rtc' --modality text --set 'tools:=[{mcp}]'", expect="╰"
    )
    found = re.search(r"MCP approval request (mcpr_\w+): deepwiki\.ask_question \{\}", flat(out))
    assert found, out
    request = found.group(1)
    assert f"│ ? deepwiki.ask_question({{}}) approve {request} / deny │" in out  # the panel
    listed = await console.line("calls", expect="approve or deny")
    assert f"{request} MCP deepwiki.ask_question {{}} · approve or deny" in flat(listed)
    await console.line(f"approve {request}", expect="approved: mcp_approval_response sent")
    out = await console.line("create --modality text", expect="╰")
    assert "The call of deepwiki.ask_question was approved" in flat(out)
    bad = await console.line(f"deny {request}", expect="error")
    assert f"{request!r} is not waiting for approval (waiting: none)" in flat(bad)
    assert await console.finish() == 0
