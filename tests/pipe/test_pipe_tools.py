"""`rtc pipe --tool-handler`: handlers answer calls, and the end of work waits for the loop."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cli_run import rtc

TOOL = {
    "type": "function",
    "name": "lookup",
    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
}


def test_pipe_waits_for_a_slow_handler_and_the_follow_up(tmp_path: Path) -> None:
    handler = tmp_path / "slow.py"
    # Slower than --idle-timeout: a handler at work is not an idle server.
    handler.write_text("import sys, time\nq = sys.stdin.read()\ntime.sleep(1)\nprint('found', q)\n")
    lines = [
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "please lookup"}],
            },
        },
        {"type": "response.create", "response": {"output_modalities": ["text"], "tools": [TOOL]}},
    ]
    result = rtc(
        "pipe",
        "--idle-timeout",
        "0.3",
        "--tool-handler",
        f"lookup={sys.executable} {handler}",
        stdin="".join(json.dumps(line) + "\n" for line in lines),
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    done = [e["response"] for e in events if e["type"] == "response.done"]
    assert [d["output"][0]["type"] for d in done] == ["function_call", "message"]
    assert done[1]["output"][0]["content"][0]["text"] == 'found {"q":"example"}'


def test_pipe_reports_a_failed_handler_and_goes_on(tmp_path: Path) -> None:
    lines = [
        {
            "type": "response.create",
            "response": {"tools": [TOOL], "tool_choice": "required", "output_modalities": ["text"]},
        },
    ]
    result = rtc(
        "pipe",
        "--tool-handler",
        f"lookup={sys.executable} -c 'raise SystemExit(4)'",
        stdin="".join(json.dumps(line) + "\n" for line in lines),
    )
    assert result.returncode == 0, result.stderr
    assert "rtc: tool failed lookup: handler for lookup exited with status 4" in result.stderr
    done = [json.loads(x) for x in result.stdout.splitlines() if '"response.done"' in x]
    assert len(done) == 2
    assert "exited with status 4" in done[1]["response"]["output"][0]["content"][0]["text"]
