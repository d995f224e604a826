"""rtc rerun reproduces a recorded session; rtc diff says exactly what changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from cli_run import rtc

from realtime_cli.pipe.ledger import Ledger
from realtime_cli.session.recording import Entry
from realtime_cli.tools.diff import word_diff
from realtime_cli.tools.rerun import plan


def user(text: str) -> str:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return json.dumps({"type": "conversation.item.create", "item": item})


def create(instructions: str | None = None) -> str:
    response: dict[str, object] = {"output_modalities": ["text"]}
    if instructions:
        response["instructions"] = instructions
    return json.dumps({"type": "response.create", "response": response})


WAIT = '{"rtc": "wait", "for": "response.done"}'


def record(url: str, path: Path, second: str = "four five six") -> None:
    lines = [user("one two three"), create(), WAIT, user(second), create("Repeat it")]
    result = rtc("pipe", "--url", url, "--record", str(path), stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr


def test_plan_waits_for_answers_where_the_recording_did() -> None:
    def entry(t: float, direction: str, event: dict[str, object]) -> Entry:
        return Entry(int(t * 10), t, direction, event)

    entries = [
        entry(0.0, "server", {"type": "session.created", "session": {}}),
        entry(0.1, "client", {"type": "response.create", "event_id": "a"}),
        entry(0.2, "server", {"type": "response.created", "response": {"id": "r1"}}),
        entry(0.3, "client", {"type": "response.cancel", "event_id": "b", "response_id": "r1"}),
        entry(0.5, "server", {"type": "response.done", "response": {"id": "r1"}}),
        entry(2.5, "client", {"type": "response.create", "event_id": "c"}),
    ]
    steps = plan(entries, Ledger())
    assert [(s.event["event_id"], s.settled, round(s.pause, 3)) for s in steps] == [
        ("a", True, 0.1),
        ("b", False, 0.1),  # sent mid-response: it does not wait for the response to end
        ("c", True, 2.0),  # sent once all was answered, 2 s after the last answer
    ]


def test_word_diff() -> None:
    assert word_diff("one two three", "one four three") == "one [-two-] {+four+} three"
    assert word_diff("a b", "a b c") == "a b {+c+}"


def test_rerun_reproduces_the_recording_and_diff_says_they_match(
    tmp_path: Path, local_server: Callable[..., str]
) -> None:
    url = local_server(token_delay_ms=1)
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    record(url, before)
    result = rtc("rerun", str(before), "--url", url, "--record", str(after))
    assert result.returncode == 0, result.stderr
    assert "rtc: rerun: sent 4 client events · 2 responses (2 completed)" in result.stderr
    result = rtc("diff", str(before), str(after))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("response 1: same") == 1
    assert "response 2: same" in result.stdout
    assert f"{before} and {after}: match" in " ".join(result.stdout.split())
    report = json.loads(rtc("diff", str(before), str(after), "--json").stdout)
    assert report["match"] is True
    assert [r["a"]["text"] for r in report["responses"]] == ["one two three", "four five six"]
    assert [r["differences"] for r in report["responses"]] == [[], []]


def test_a_slower_server_is_a_latency_regression_and_nothing_else(
    tmp_path: Path, local_server: Callable[..., str]
) -> None:
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    record(local_server(token_delay_ms=1), before)
    slow = local_server(token_delay_ms=300)
    result = rtc(
        "rerun", str(before), "--url", slow, "--record", str(after), "--as-fast-as-possible"
    )
    assert result.returncode == 0, result.stderr
    assert rtc("diff", str(before), str(after)).returncode == 0  # timings shown, not counted
    result = rtc("diff", str(before), str(after), "--json", "--max-latency-regression", "20%")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    for response in report["responses"]:
        kinds = {d.split(":")[0] for d in response["differences"]}
        assert kinds == {"latency"}, response["differences"]
        assert any(d.startswith("latency: done") for d in response["differences"])


def test_another_prompt_is_a_text_and_usage_difference(
    tmp_path: Path, local_server: Callable[..., str]
) -> None:
    url = local_server(token_delay_ms=1)
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    record(url, before)
    record(url, after, second="four seven six eight")
    result = rtc("diff", str(before), str(after), "--json")
    assert result.returncode == 1
    first, second = json.loads(result.stdout)["responses"]
    assert first["differences"] == []
    assert second["word_diff"] == "four [-five-] {+seven+} six {+eight+}"
    assert second["differences"] == [
        "text: four [-five-] {+seven+} six {+eight+}",
        "usage: 11 in / 3 out → 12 in / 4 out tokens",
        "cost: $0.000092 → $0.000112",
    ]
    result = rtc(
        "diff", str(before), str(after), "--ignore", "text", "--ignore", "usage", "--ignore", "cost"
    )
    assert result.returncode == 0, result.stdout


def test_diff_bad_input_is_one_line(tmp_path: Path) -> None:
    missing = rtc("diff", str(tmp_path / "nope.jsonl"), str(tmp_path / "nope2.jsonl"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad = rtc("diff", "a", "b", "--ignore", "colour")
    assert bad.returncode == 2 and "unknown aspect 'colour'" in bad.stderr
    bad = rtc("diff", "a", "b", "--max-latency-regression", "lots")
    assert bad.returncode == 2 and "want a percentage" in bad.stderr


def test_a_recording_without_its_audio_cannot_be_rerun(tmp_path: Path) -> None:
    path = tmp_path / "quiet.jsonl"
    path.write_text(
        '{"rtc": "recording", "format": 1, "audio": false}\n'
        '{"t": 0.1, "dir": "client", "event": {"type": "input_audio_buffer.append"}}\n'
    )
    result = rtc("rerun", str(path), "--url", "ws://127.0.0.1:9/v1/realtime")
    assert result.returncode == 2
    assert "line 2: an audio append without its audio" in result.stderr
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"t": 0.1, "dir": "server", "event": {"type": "session.created"}}\n')
    result = rtc("rerun", str(empty), "--url", "ws://127.0.0.1:9/v1/realtime")
    assert result.returncode == 2 and "no client events to send" in result.stderr


def test_other_session_instructions_are_exactly_a_text_usage_and_cost_difference(
    tmp_path: Path,
) -> None:
    """A rerun through a profile whose session settings carry other instructions: the built-in
    server answers with them (no user message), and diff says exactly that."""
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "config.toml").write_text(
        '[profiles.bye]\nkind = "local"\n\n[profiles.bye.session]\ninstructions = "Say goodbye"\n'
    )
    env = {"RTC_CONFIG_DIR": str(config)}
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    result = rtc("create", "--local", "--modality", "text", "--record", str(before), env=env)
    assert result.returncode == 0, result.stderr
    result = rtc("rerun", str(before), "--profile", "bye", "--record", str(after), env=env)
    assert result.returncode == 0, result.stderr
    result = rtc("diff", str(before), str(after), "--json")
    assert result.returncode == 1
    [response] = json.loads(result.stdout)["responses"]
    assert response["b"]["text"] == "Say goodbye"
    kinds = [d.split(":")[0] for d in response["differences"]]
    assert kinds == ["text", "usage", "cost"], response["differences"]
    assert response["word_diff"].endswith("{+Say goodbye+}")
