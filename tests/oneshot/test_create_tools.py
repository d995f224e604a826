"""`rtc create --tool-handler`: the whole function-call loop, real handler processes, against the
local server; what the model received is read off the wire (a relay between rtc and server)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli_run import ROOT, RTC, rtc
from proxy import relay

ECHO = """
import json, os, sys
args = json.load(sys.stdin)
print(json.dumps({"tool": os.environ["RTC_TOOL_NAME"], "call": os.environ["RTC_CALL_ID"],
                  "args": args}))
"""
FAIL = "import sys\nsys.stderr.write('no such city\\n')\nsys.exit(3)\n"
SLEEP = "import time\ntime.sleep(60)\n"
BIG = "import sys\nsys.stdout.write('x' * 10_000_000)\n"


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(body)
    return f"{name}={sys.executable} {path}"


def sent(frames: list[str]) -> list[dict]:
    return [json.loads(f) for f in frames]


def outputs(frames: list[str]) -> dict[str, str]:
    return {
        e["item"]["call_id"]: e["item"]["output"]
        for e in sent(frames)
        if e["type"] == "conversation.item.create" and e["item"]["type"] == "function_call_output"
    }


def test_parallel_calls_all_answered_in_order_then_one_follow_up(
    server_url: str, tmp_path: Path
) -> None:
    handlers = [
        script(tmp_path, "echo", ECHO),
        script(tmp_path, "fail", FAIL),
        script(tmp_path, "slow", SLEEP),
        script(tmp_path, "big", BIG),
    ]
    args = ["--tool", "echo(city: string)", "--tool", "fail()", "--tool", "slow()"]
    args += ["--tool", "big()", "--tool-timeout", "1", "--modality", "text", "--json"]
    for handler in handlers:
        args += ["--tool-handler", handler]
    with relay(server_url) as proxy:
        result = rtc("create", "use echo fail slow big", *args, "--url", proxy.url)
    assert result.returncode == 0, result.stderr
    server = sent(proxy.server_frames)
    calls = [
        e["item"]
        for e in server
        if e["type"] == "response.output_item.done" and e["item"]["type"] == "function_call"
    ]
    assert [c["name"] for c in calls] == ["echo", "fail", "slow", "big"]
    got = outputs(proxy.client_frames)
    # What the model received, in call order, is each handler's output or a clear error.
    assert list(got) == [c["call_id"] for c in calls]
    echo = json.loads(got[calls[0]["call_id"]])
    assert echo == {"tool": "echo", "call": calls[0]["call_id"], "args": {"city": "example"}}
    assert json.loads(got[calls[1]["call_id"]]) == {
        "error": "handler for fail exited with status 3: no such city"
    }
    assert json.loads(got[calls[2]["call_id"]]) == {"error": "handler for slow timed out after 1s"}
    assert "wrote more than" in json.loads(got[calls[3]["call_id"]])["error"]
    creates = [e for e in sent(proxy.client_frames) if e["type"] == "response.create"]
    assert len(creates) == 2  # the request and ONE follow-up
    assert creates[1]["response"] == {
        "output_modalities": ["text"],
        "tools": creates[0]["response"]["tools"],
    }
    # The follow-up answer uses the outputs, and it is the final response rtc exits with.
    done = [e for e in server if e["type"] == "response.done"]
    assert len(done) == 2 and done[-1]["response"]["status"] == "completed"
    answer = done[-1]["response"]["output"][0]["content"][0]["text"]
    assert answer.startswith(got[calls[0]["call_id"]])


def test_person_sees_each_step_and_the_final_answer(tmp_path: Path) -> None:
    result = rtc(
        "create",
        "what is get_weather",
        "--modality",
        "text",
        "--tool",
        "get_weather(city: string)",
        "--tool-handler",
        script(tmp_path, "get_weather", "import sys; sys.stdin.read(); print('Sunny, 21 C')"),
    )
    assert result.returncode == 0, result.stderr
    assert 'tool call get_weather {"city":"example"}' in result.stderr
    assert "tool ran get_weather" in result.stderr and "exit 0" in result.stderr
    assert "tool loop: follow-up response.create" in result.stderr
    # Piped, stdout is the final answer alone and each response's panel is on stderr.
    assert result.stdout == "Sunny, 21 C\n"
    panels = result.stderr.split("╭")[1:]
    assert len(panels) == 2 and "→ get_weather" in panels[0]  # the first panel lists the call
    assert "│ Sunny, 21 C" in panels[1]  # the final panel shows the final answer


def test_forced_tool_choice_is_not_repeated_and_the_loop_ends(
    server_url: str, tmp_path: Path
) -> None:
    with relay(server_url) as proxy:
        result = rtc(
            "create",
            "--tool",
            "f()",
            "--tool-choice",
            "f",
            "--json",
            "--tool-handler",
            script(tmp_path, "f", "print('done')"),
            "--url",
            proxy.url,
        )
    assert result.returncode == 0, result.stderr
    creates = [e for e in sent(proxy.client_frames) if e["type"] == "response.create"]
    assert [c["response"]["tool_choice"] for c in creates] == [
        {"type": "function", "name": "f"},
        "auto",
    ]


def test_max_tool_rounds_ends_a_loop_with_exit_1(tmp_path: Path) -> None:
    result = rtc(
        "create",
        "call f",
        "--tool",
        "f()",
        "--max-tool-rounds",
        "0",
        "--tool-handler",
        script(tmp_path, "f", "print('x')"),
    )
    assert result.returncode == 1
    assert "did not converge after 0 rounds (--max-tool-rounds)" in result.stderr


def test_a_call_without_handler_gets_an_error_output(server_url: str, tmp_path: Path) -> None:
    with relay(server_url) as proxy:
        result = rtc(
            "create",
            "call other",
            "--tool",
            "other()",
            "--tool-handler",
            script(tmp_path, "f", "print('x')"),
            "--url",
            proxy.url,
        )
    assert result.returncode == 0, result.stderr
    assert list(outputs(proxy.client_frames).values()) == [
        '{"error": "rtc has no handler for the tool \'other\'"}'
    ]


def test_star_handler_and_command_that_cannot_start(server_url: str) -> None:
    with relay(server_url) as proxy:
        result = rtc(
            "create",
            "call f",
            "--tool",
            "f()",
            "--tool-handler",
            "*=/no/such/handler",
            "--url",
            proxy.url,
        )
    assert result.returncode == 0, result.stderr
    (output,) = outputs(proxy.client_frames).values()
    assert json.loads(output)["error"].startswith("handler for f could not start")
    assert "tool failed f" in result.stderr


def test_bad_tool_options_are_one_line_usage_errors() -> None:
    for args, message in [
        (["--tool", "f(a: strng)"], "--tool f: field 'a': unknown type 'strng'"),
        (["--tool-handler", "f"], "--tool-handler takes NAME=COMMAND"),
        (["--tool-handler", "f=  "], "--tool-handler f: the command is empty"),
        (["--max-tool-rounds", "x"], "'--max-tool-rounds': 'x' is not a whole number"),
    ]:
        result = rtc("create", "hi", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def test_ctrl_c_during_a_handler_kills_it_and_exits_130(server_url: str, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    body = (
        f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    )
    process = subprocess.Popen(
        [*RTC, "create", "call slow", "--tool", "slow()", "--url", server_url, "--json",
         "--tool-handler", script(tmp_path, "slow", body)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:  # the call is done: its handler starts
        if '"response.done"' in line:
            break
    while not pid_file.exists() or not pid_file.read_text():  # the handler is running
        assert process.poll() is None
        time.sleep(0.01)
    handler_pid = int(pid_file.read_text())
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=20)
    assert process.returncode == 130
    assert "rtc: interrupted: stopping the tool handlers" in err
    assert "Traceback" not in err
    try:
        os.kill(handler_pid, 0)
    except ProcessLookupError:
        pass  # gone: killed with its process group, and reaped
    else:
        raise AssertionError("the handler outlived rtc")


def test_a_profile_brings_its_handlers_and_a_flag_wins_by_name(
    server_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text(
        '[profiles.tools]\nkind = "url"\nurl = "' + server_url + '"\n'
        "[profiles.tools.tool_handlers]\n"
        f'f = "{sys.executable} -c \\"print(\'from the profile\')\\""\n'
        f'g = "{sys.executable} -c \\"print(\'profile g\')\\""\n'
    )
    env = {"RTC_CONFIG_DIR": str(config)}
    result = rtc("create", "call f", "--tool", "f()", "--profile", "tools", "--modality", "text",
                 env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "from the profile" in result.stdout
    flag = script(tmp_path, "g", "print('from the flag')")
    result = rtc("create", "call g", "--tool", "g()", "--profile", "tools", "--modality", "text",
                 "--tool-handler", flag, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "from the flag" in result.stdout and "profile g" not in result.stdout


def test_a_bad_tool_handlers_table_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[profiles.p]\nkind = "local"\ntool_handlers = 3\n')
    result = rtc("create", "hi", "--profile", "p", env={"RTC_CONFIG_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "tool_handlers must be a table of commands" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_tool_approve_asks_and_a_no_tells_the_model(server_url: str, tmp_path: Path) -> None:
    args = ["create", "call f and g", "--tool", "f()", "--tool", "g()", "--modality", "text",
            "--tool-approve", "--tool-handler", script(tmp_path, "f", "print('ran f')"),
            "--tool-handler", script(tmp_path, "g", "print('ran g')"), "--url", server_url]  # fmt: skip
    result = rtc(*args, stdin="y\nn\n")
    assert result.returncode == 0, result.stderr
    assert "rtc: run the handler for f with {}? [y/N]" in result.stderr
    assert "rtc: run the handler for g with {}? [y/N]" in result.stderr
    assert 'ran f {"error": "the user declined to run this tool"}' in result.stdout


def test_tool_approve_leaves_stdin_for_the_answers_unless_the_prompt_is_a_dash() -> None:
    def prompt(*args: str, stdin: str) -> str:
        result = rtc("create", *args, "--tool-approve", "--dry-run", stdin=stdin)
        assert result.returncode == 0, result.stderr
        item = json.loads(result.stdout.splitlines()[0])["item"]
        return str(item["content"][0]["text"])

    assert prompt("call f", stdin="y\n") == "call f"  # not "y\n\ncall f": the y is an answer
    assert prompt("-", stdin="call f\n") == "call f"  # asked for: the prompt from stdin
