"""The README's quick start, `rtc create`, pipe mode and local server sections: every command
shown runs as written and prints what the README says it prints (ids, ports and timings aside).
The Endpoints and Recording sections have their own tests."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from readme import ROOT, blocks, normalise, run, section, shown_in_order

TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
]


def console_examples(text: str) -> list[tuple[str, str]]:
    """``$ command`` lines of ```console blocks, each with the output shown under it."""
    examples = []
    for block in blocks(text, "console"):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            examples.append((command, output))
    return examples


def test_quick_start_first_command(tmp_path: Path) -> None:
    first = blocks(section("## Quick start", "## One-shot: `rtc create`"))[0].strip()
    install, _, command = first.partition(" && ")
    assert install == "pip install ."  # installing is what the suite itself runs under
    result = run(command, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Say hello\n"
    assert "status        completed" in result.stderr


def test_create_section_console_examples_print_what_is_shown(tmp_path: Path) -> None:
    examples = console_examples(
        section("## One-shot: `rtc create`", "### Habits from llm and httpie")
    )
    assert len(examples) == 2
    for command, shown in examples:
        result = run(command, tmp_path, errexit=False)
        printed = result.stdout + result.stderr.replace(_local_notice(result.stderr), "")
        assert normalise(printed) == normalise(shown), command


def _local_notice(stderr: str) -> str:
    match = re.search(r"^rtc: using the built-in local server .*\n", stderr, flags=re.M)
    return match.group(0) if match else ""


def test_create_section_bash_block_runs(tmp_path: Path) -> None:
    assert shutil.which("jq"), "the README's examples use jq: apt-get install jq"
    (tmp_path / "tools.json").write_text(json.dumps(TOOLS))
    [block] = blocks(section("## One-shot: `rtc create`", "### Habits from llm and httpie"))
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) == 6
    outputs = [run(line, tmp_path) for line in lines]
    for line, result in zip(lines, outputs, strict=True):
        assert result.returncode == 0, f"{line}\n{result.stderr}"
    assert "metadata      job=7" in outputs[0].stderr  # piped: the panel is on stderr
    assert "conversation  none (out-of-band)" in outputs[0].stderr
    assert "→ get_weather(" in outputs[3].stderr and '"city"' in outputs[3].stderr
    assert "status        cancelled (client_cancelled)" in outputs[4].stderr
    assert outputs[5].stdout == "completed\n"


def test_pipe_section_blocks_print_what_is_shown(tmp_path: Path) -> None:
    assert shutil.which("jq"), "the README's examples use jq: apt-get install jq"
    found = blocks(section("## Pipe mode: `rtc pipe`", "## The built-in local server: `rtc serve`"))
    assert len(found) == 3
    for block in found:
        result = run(block, tmp_path, errexit=False, merged=True)
        missing = shown_in_order(block, result.stdout)
        assert missing is None, f"{block}\n--- {missing}"


def test_server_section_serve_and_sdk_example(tmp_path: Path) -> None:
    text = section("## The built-in local server: `rtc serve`", "## Endpoints")
    [(command, shown)] = console_examples(text)
    assert command == "rtc serve --port 0 --token-delay-ms 50"
    server = subprocess.Popen(
        [sys.executable, "-m", "realtime_cli", *command.split()[1:]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert normalise(url + "\n") == normalise(shown)
        [example] = blocks(text, "python")
        port = url.rsplit(":", 1)[1].split("/")[0]
        script = example.replace("127.0.0.1:8765", f"127.0.0.1:{port}")
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path
        )
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=10)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "session.created",
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "conversation.item.done",
        "response.output_item.done",
        "response.done",
    ]
