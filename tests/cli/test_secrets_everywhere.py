"""One sweep (the companion of test_secrets.py): every command, run with a known key and known
tool secrets, through successes, failures, server faults, recordings, exports, ``rtc config``,
the console's history and ``show``, and a traceback forced by a bug, and neither secret appears
in any output or any file rtc wrote."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from cli_run import ROOT, RTC
from faulty import served
from mcp_secrets import MCP_SECRETS, MCP_TOOL
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from realtime_cli.console.terminal import run_repl
from realtime_cli.endpoint.select import select_endpoint

KEY = "sk-proj-SWEEP-0123456789abcdefghijklmnopqr"
SECRETS = (KEY, *MCP_SECRETS)
TOOLS = json.dumps([MCP_TOOL])
# A bug in rtc while it shows an event: Python prints a traceback (the last resort of cli.main
# is not reached by a ZeroDivisionError); the key and the tool's token are in the frames' locals
# but must not be in what is printed.
FORCED_BUG = (
    "import sys, realtime_cli.oneshot.run as o; "
    "o.Run.show = lambda self, received: 1 / 0; "
    "from realtime_cli.cli import main; sys.argv[0] = 'rtc'; main()"
)


def _run(args: list[str], stdin: str | None = None, python: list[str] | None = None) -> str:
    result = subprocess.run(
        [*(python or RTC), *args], capture_output=True, text=True, timeout=120, cwd=ROOT,
        input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
    )  # fmt: skip
    return f"{result.returncode}\n{result.stdout}\n{result.stderr}"  # (args hold the secrets)


async def _console(url: str) -> str:
    """The console in-process, with its history file: tools typed, then shown."""
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        buffer = io.StringIO()
        out = Console(file=buffer, width=200, color_system=None)
        endpoint = select_endpoint(url=url, api_key=KEY, model=None, local=False, environ={})
        typed = [
            f"session --set 'tools:={TOOLS}'",
            json.dumps({"type": "session.update", "session": {"tools": [MCP_TOOL]}}),
            f"create -i hi --modality text --set 'tools:={TOOLS}'",
            "show rtc_1",
            "events",
            "quit",
        ]
        pipe.send_text("\r".join(typed) + "\r")
        assert await asyncio.wait_for(run_repl(endpoint, console=out), 20) == 0
    transcript = buffer.getvalue()
    assert "…PQRS" in transcript  # show printed the tool, redacted
    for line in typed:  # what the user typed is theirs to see; nothing else may hold it
        transcript = transcript.replace(line, "")
    return transcript


def test_no_command_shows_or_writes_a_secret(
    local_server: Callable[..., str], tmp_path: Path
) -> None:
    url = local_server(api_key=KEY, token_delay_ms=1)
    work = tmp_path / "work"
    work.mkdir()
    (Path(os.environ["RTC_CONFIG_DIR"]) / "config.toml").write_text(
        f'[profiles.sweep]\nurl = "{url}"\napi_key = "{KEY}"\n'
        f"session = '{json.dumps({'tools': [MCP_TOOL]})}'\n"
    )
    rec = str(work / "rec.jsonl")
    key = ["--url", url, "--api-key", KEY]
    with_tools = ["-s", f"tools:={TOOLS}"]
    turn = json.dumps({"type": "response.create", "response": {"tools": [MCP_TOOL]}}) + "\n"
    bad = json.dumps({"type": "response.create", "response": {"tools": [MCP_TOOL], "x": 1}})
    outputs = [
        _run(["create", "hi", *key, *with_tools, "--record", rec]),
        _run(["create", "hi", "--profile", "sweep", "--events"]),
        _run(["create", "hi", *key, *with_tools, "--json"]),
        _run(["create", "hi", *key, "-s", f"tools:={TOOLS}", "--max-output-tokens", "0"]),
        _run(["create", "hi", "--url", url, "--api-key", KEY[::-1]]),  # refused: wrong key
        _run(["pipe", *key, "--record", str(work / "pipe.jsonl")], stdin=turn + bad + "\n"),
        _run(["pipe", "--profile", "sweep", "--pretty"], stdin=turn),
        _run(["replay", rec, "--instant"]),
        _run(["replay", rec, "--json"]),
        _run(["export", rec, "--format", "md", "--out", str(work / "rec.md")]),
        _run(["export", rec, "--format", "md"]),
        _run(["config", "--profile", "sweep"]),
        _run(["config", "--profile", "sweep", "--json"]),
        _run(["config", *key]),
        _run(["profile", "show", "sweep"]),
        _run(["doctor", "--profile", "sweep"]),
        _run(["create", "hi", *key, *with_tools], python=[sys.executable, "-c", FORCED_BUG]),
    ]
    for mode in ("drop", "expired", "invalid_key", "stall"):
        with served(mode) as (fault_url, _):
            fault = ["--url", fault_url, "--api-key", KEY, "--timeout", "2"]
            outputs.append(_run(["create", "hi", *fault, *with_tools, "--record", rec + mode]))
            outputs.append(_run(["pipe", *fault], stdin=turn))
    outputs.append(asyncio.run(_console(url)))
    assert "ZeroDivisionError" in outputs[16] and "Traceback" in outputs[16]  # it was forced
    assert "…PQRS" in outputs[12] or "…PQRS" in outputs[11]  # redacted, not missing
    for output in outputs:
        for secret in SECRETS:
            assert secret not in output, (secret, output[:300])
    written = [
        path
        for directory in (work, Path(os.environ["XDG_STATE_HOME"]))
        for path in directory.rglob("*")
        if path.is_file()
    ]
    names = {path.name for path in written}
    assert {"rec.jsonl", "pipe.jsonl", "rec.md", "history"} <= names, names
    for path in written:
        content = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in content, (path, secret)
