"""`rtc replay`: a recording shows as the live run showed it; the corpus replays cleanly; --json
gives back the recorded server events; pacing, cut-short files and malformed lines."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli_run import ROOT, rtc

from realtime_cli.errors import ExitCode, RtcError, UsageError
from realtime_cli.tools.replay import ReplayJob, run_replay

CORPUS = ROOT / "tests" / "data" / "realtime_corpus"
ROW = re.compile(r"^ +\d+\.\d{3} [←→] ")


def rows(text: str, arrows: str = "←→") -> list[str]:
    return [line for line in text.splitlines() if ROW.match(line) and line.split()[1] in arrows]


def untimed(lines: list[str]) -> list[str]:
    return [ROW.sub("", line) for line in lines]


def panels(text: str) -> list[str]:
    return re.findall(r"^╭.*?^╰.*?$", text, flags=re.M | re.S)


def record(tmp_path: Path, server_url: str, *args: str, name: str = "rec.jsonl") -> Path:
    path = tmp_path / name
    result = rtc(*args, "--url", server_url, "--record", str(path))
    assert result.returncode == 0, result.stderr
    return path


def replay(path: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    return rtc("replay", str(path), *args)


def server_events(path: Path) -> list[dict[str, Any]]:
    return [
        row["event"]
        for row in map(json.loads, path.read_text().splitlines())
        if row.get("dir") == "server"
    ]


def test_replay_of_create_events_shows_the_live_rows_and_panel(
    server_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "create.jsonl"
    live = rtc("create", "hello there replay", "--modality", "text", "--events", "-m", "k=v",
               "--url", server_url, "--record", str(path))  # fmt: skip
    assert live.returncode == 0, live.stderr
    shown = replay(path, "--instant")
    assert shown.returncode == 0, shown.stderr
    # The same server rows, timing column aside (the recorded times are the live ones, too).
    assert untimed(rows(shown.stdout, "←")) == untimed(rows(live.stdout, "←"))
    assert rows(shown.stdout, "←") == rows(live.stdout, "←")
    # Plus the client events rtc sent, which `create --events` does not show.
    assert [r.split()[2] for r in rows(shown.stdout, "→")] == [
        "conversation.item.create",
        "response.create",
    ]
    assert panels(shown.stdout) == panels(live.stdout) and len(panels(live.stdout)) == 1
    assert "│ hello there replay" in panels(live.stdout)[0]
    assert "metadata      k=v" in panels(live.stdout)[0]
    assert shown.stderr.splitlines()[0].startswith("rtc: replaying create.jsonl: recorded ")
    server = len(server_events(path))
    assert shown.stderr.splitlines()[-1] == (
        f"rtc: replayed {server + 2} events ({server} server, 2 client) · 1 response (1 completed)"
    )


def test_replay_json_is_exactly_the_recorded_server_events(server_url: str, tmp_path: Path) -> None:
    path = tmp_path / "json.jsonl"
    live = rtc("create", "json please", "--json", "--url", server_url, "--record", str(path))
    assert live.returncode == 0, live.stderr
    shown = replay(path, "--json")
    assert shown.returncode == 0 and shown.stderr.startswith("rtc: replaying")
    printed = [json.loads(line) for line in shown.stdout.splitlines()]
    assert printed == server_events(path) == [json.loads(x) for x in live.stdout.splitlines()]
    # Compact, one object per line, as rtc pipe prints them: ready for jq.
    assert shown.stdout.splitlines() == [
        json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in printed
    ]


def test_replay_of_a_pipe_recording_with_audio_and_an_error(
    server_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "pipe.jsonl"
    script = """\
{"type": "response.create", "response": {"instructions": "one two three"}}
{"rtc": "wait", "for": "response.done"}
{"type": "response.cancel", "event_id": "late"}
{"rtc": "wait", "for": "error"}
"""
    result = rtc("pipe", "--url", server_url, "--record", str(path), stdin=script)
    assert result.returncode == 0, result.stderr
    shown = replay(path, "--instant")
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"← response.output_audio.delta ×3 14400 B audio resp_", shown.stdout)
    assert "│ [audio 14,400 bytes, 0.30 s]" in shown.stdout  # the panel's audio line
    assert "notice: response_cancel_not_active: " in shown.stdout
    assert "← answers late (response.cancel)" in shown.stdout


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.jsonl")))
def test_every_corpus_file_replays_cleanly(name: str) -> None:
    result = replay(CORPUS / name, "--instant")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "could not show" not in result.stderr
    for line in result.stderr.splitlines():  # every notice is one line that names its line
        assert line.startswith("rtc: "), line
    assert re.search(r"rtc: replayed \d+ events", result.stderr)
    as_json = replay(CORPUS / name, "--json")
    assert as_json.returncode == 0
    wrapped = [json.loads(line) for line in (CORPUS / name).read_text().splitlines()]
    expected = [
        row["event"]
        for row in wrapped
        if isinstance(row.get("event"), dict) and row.get("direction", "server") == "server"
    ]
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == expected


def test_corpus_notices_name_their_lines() -> None:
    spec = replay(CORPUS / "openapi_examples.jsonl", "--instant")
    skipped = [line for line in spec.stderr.splitlines() if "skipped" in line]
    assert skipped == [
        f"rtc: openapi_examples.jsonl: line {n}: skipped: no event" for n in (10, 52, 62, 111)
    ]
    beta = replay(CORPUS / "beta_text_response_liusida.jsonl", "--instant")
    assert (
        'rtc: beta_text_response_liusida.jsonl: line 85: response.done holds "[Object]" '
        "placeholders (elided where it was captured): shown as far as it goes"
    ) in beta.stderr.splitlines()
    # Beta names replay as their GA twins, and the mangled response.done still ends the panel.
    assert "response.output_text.delta ×77 325 chars" in beta.stdout
    (panel,) = panels(beta.stdout)
    assert "· completed" in panel and "usage         151 total · 72 in · 79 out" in panel


def test_plain_server_events_replay_without_an_envelope(server_url: str, tmp_path: Path) -> None:
    live = rtc("create", "plain events", "--json", "--url", server_url)
    plain = tmp_path / "plain.jsonl"
    plain.write_text(live.stdout)
    shown = replay(plain, "--instant")
    assert shown.returncode == 0 and "rtc: replaying" not in shown.stderr  # no header
    (panel,) = panels(shown.stdout)
    assert "│ plain events" in panel and "completed" in panel
    assert all(line.startswith("   0.000 ←") for line in rows(shown.stdout))


def test_a_recording_cut_mid_line_replays_up_to_the_last_complete_line(
    server_url: str, tmp_path: Path
) -> None:
    path = record(tmp_path, server_url, "create", "cut me short", "--modality", "text")
    whole = path.read_text().splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl"
    last = len(whole) - 3  # keep half of a line before the response.done
    cut.write_text("".join(whole[:last]) + whole[last][: len(whole[last]) // 2])
    shown = replay(cut, "--instant")
    assert shown.returncode == 0
    assert (
        f"rtc: cut.jsonl: line {last + 1}: cut short (the recording ended mid-line): ignored"
        in shown.stderr
    )
    as_json = replay(cut, "--json")
    assert [json.loads(x) for x in as_json.stdout.splitlines()] == [
        row["event"] for row in map(json.loads, whole[1:last]) if row["dir"] == "server"
    ]


def test_malformed_lines_are_skipped_with_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text(
        "\n".join(
            [
                '{"type": "session.created", "session": {"id": "sess_1"}}',
                "not json at all",
                "[1, 2]",
                '{"no": "type"}',
                '{"t": 1, "dir": "server", "raw": "garbage frame"}',
                '{"t": 1, "dir": "sideways", "event": {"type": "x"}}',
                "",
                '{"type": "error", "error": {"code": "boom", "message": "it broke"}}',
                '{"type": "brand.new.event", "anything": [1, {"deep": null}]}',
                '{"type": "response.done", "response": "[Object]"}',
            ]
        )
        + "\n"
    )
    shown = replay(path, "--instant")
    assert shown.returncode == 0, shown.stderr
    notices = [line for line in shown.stderr.splitlines() if "skipped" in line]
    assert notices == [
        "rtc: odd.jsonl: line 2: skipped: not JSON (Expecting value: line 1 column 1 (char 0))",
        "rtc: odd.jsonl: line 3: skipped: not a JSON object",
        "rtc: odd.jsonl: line 4: skipped: not an event with a string 'type'",
        "rtc: odd.jsonl: line 5: skipped: a frame that was not a JSON event (kept as raw text)",
        "rtc: odd.jsonl: line 6: skipped: unknown direction 'sideways'",
    ]
    assert "error: boom: it broke" in shown.stdout
    assert "← brand.new.event" in shown.stdout  # unknown events are shown, never fatal


def test_pacing_follows_the_recorded_times(tmp_path: Path) -> None:
    path = tmp_path / "paced.jsonl"
    path.write_text(
        "".join(
            json.dumps({"t": t, "dir": "server", "event": {"type": "session.updated"}}) + "\n"
            for t in (0.5, 1.0, 1.0, 3.0, 93.0)
        )
    )

    def slept(**options: Any) -> list[float]:
        sleeps: list[float] = []
        job = ReplayJob(path, stdout=io.StringIO(), stderr=io.StringIO(), sleep=sleeps.append,
                        **options)  # fmt: skip
        assert run_replay(job) == ExitCode.OK
        return sleeps

    assert slept() == [0.5, 2.0, 2.0]  # a 90 s silence is cut to 2 s
    assert slept(speed=4) == [0.125, 0.5, 2.0]
    assert slept(instant=True) == []
    assert slept(json_output=True) == []  # --json prints at once...
    assert slept(json_output=True, speed=2) == [0.25, 1.0, 2.0]  # ...unless --speed asks


def test_bad_files_and_options() -> None:
    with pytest.raises(UsageError, match=r"cannot read .*nowhere\.jsonl: No such file"):
        run_replay(ReplayJob(Path("nowhere.jsonl"), stderr=io.StringIO()))
    empty = replay("/dev/null")
    assert empty.returncode == 1 and "no events in /dev/null" in empty.stderr
    with pytest.raises(RtcError, match="no events"):
        run_replay(ReplayJob(Path("/dev/null"), stdout=io.StringIO(), stderr=io.StringIO()))
    result = replay(CORPUS / "observed_errors.jsonl", "--speed", "0")
    assert result.returncode == 2 and "--speed must be more than 0" in result.stderr


def test_a_reconnect_header_shows_a_note(tmp_path: Path) -> None:
    header = {"rtc": "recording", "format": 1, "endpoint": "ws://h", "started": "S"}
    path = tmp_path / "two.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(row)
            for row in [
                header,
                {"t": 0.1, "dir": "server", "event": {"type": "session.created"}},
                {**header, "t": 5.0, "started": "S2"},
                {"t": 5.1, "dir": "server", "event": {"type": "session.created"}},
            ]
        )
    )
    shown = replay(path, "--instant")
    assert "new connection: recorded S2 · ws://h" in shown.stdout
