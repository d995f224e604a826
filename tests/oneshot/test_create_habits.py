"""Habits users bring from llm and httpie to `rtc create`: real processes, real stdin pipes."""

from __future__ import annotations

import json
from pathlib import Path

from cli_run import rtc
from proxy import relay


def sent_events(proxy_frames: list[str]) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(frame) for frame in proxy_frames]


def texts(sent: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [
        part["text"]
        for event in sent
        if event["type"] == "conversation.item.create"
        for part in event["item"]["content"]
    ]


def test_the_prompt_comes_from_stdin_and_a_file_on_stdin_is_context(
    server_url: str, tmp_path: Path
) -> None:
    result = rtc("create", "-o", "text", "--url", server_url, stdin="what is the sea\n")
    assert (result.returncode, result.stdout) == (0, "what is the sea\n"), result.stderr
    result = rtc("create", "-", "-o", "text", "--url", server_url, stdin="dash question\n")
    assert result.stdout == "dash question\n"
    with relay(server_url) as proxy:
        result = rtc("create", "summarise this", "--url", proxy.url, stdin="line 1\nline 2\n")
    assert result.returncode == 0, result.stderr
    assert texts(sent_events(proxy.client_frames)) == ["line 1\nline 2\n\nsummarise this"]


def test_continue_recreates_the_previous_exchange(server_url: str, tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path)}
    first = rtc("create", "my name is Ada", "-o", "text", "--url", server_url, env=env)
    assert first.stdout == "my name is Ada\n", first.stderr
    with relay(server_url) as proxy:
        result = rtc("create", "-c", "and then?", "-o", "text", "--url", proxy.url, env=env)
    assert result.returncode == 0, result.stderr
    sent = sent_events(proxy.client_frames)
    assert texts(sent) == ["my name is Ada", "my name is Ada", "and then?"]
    assert [e["item"]["role"] for e in sent if "item" in e] == ["user", "assistant", "user"]
    assert (tmp_path / "rtc" / "last_exchange.json").stat().st_mode & 0o077 == 0
    # Without -c a run starts afresh (and becomes what the next -c continues).
    with relay(server_url) as proxy:
        rtc("create", "new topic", "--url", proxy.url, env=env)
    assert texts(sent_events(proxy.client_frames)) == ["new topic"]


def test_dry_run_prints_the_validated_events_and_connects_nowhere() -> None:
    result = rtc("create", "hi", "-m", "run=1", "--dry-run", "--url", "ws://127.0.0.1:9/nowhere")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "hi"}],
            },
        },
        {"type": "response.create", "response": {"metadata": {"run": "1"}}},
    ]
    assert result.stderr == ""
    bad = rtc("create", "--dry-run", "--max-output-tokens", "0")
    assert bad.returncode == 2 and "max_output_tokens" in bad.stderr and bad.stdout == ""


def test_unknown_set_fields_warn_and_go_raw_sends_anything(server_url: str) -> None:
    with relay(server_url) as proxy:
        result = rtc("create", "-s", "shiny=1", "--url", proxy.url, "-o", "text")
    assert result.stderr.startswith(
        "rtc: warning: response.shiny is not a field rtc knows; sent anyway"
    )
    assert "unknown_parameter (response.shiny)" in result.stderr  # the server's own answer
    assert sent_events(proxy.client_frames)[0]["response"] == {"shiny": "1"}
    wrong_type = rtc("create", "-s", "metadata.x:=1", "--url", server_url)
    assert wrong_type.returncode == 2 and "expected a string" in wrong_type.stderr
    with relay(server_url) as proxy:
        rtc("create", "--raw", "-s", "metadata.x:=1", "--url", proxy.url)
    assert sent_events(proxy.client_frames)[0]["response"] == {"metadata": {"x": 1}}


def test_events_view_shows_the_events_rtc_sent(server_url: str) -> None:
    result = rtc("create", "hi", "--events", "--modality", "text", "--url", server_url)
    rows = result.stdout.splitlines()
    assert "→ conversation.item.create rtc_1" in rows[1]
    assert "→ response.create rtc_2" in rows[2]
