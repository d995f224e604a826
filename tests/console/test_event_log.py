"""The console's event log is bounded by count and bytes, keeps long strings cut, and `events`
says when older events were dropped (issue #10)."""

from __future__ import annotations

from console_harness import Console_

from realtime_cli.console.event_log import STRING_KEPT, EventLog


def delta(n: int) -> dict[str, object]:
    return {"type": "response.output_text.delta", "response_id": "r", "delta": f"w{n} "}


def test_the_log_keeps_the_newest_events_by_count_and_says_how_many_went() -> None:
    log = EventLog(size=3, max_bytes=10**9)
    for n in range(10):
        log.append(float(n), "←", delta(n), 80)
    assert [entry.t for entry in log] == [7.0, 8.0, 9.0]
    assert log.dropped == 7
    assert "7 older events dropped (the log keeps the last 3 events" in log.describe_bounds()


def test_the_log_is_bounded_by_bytes_too() -> None:
    log = EventLog(size=1000, max_bytes=1000)
    for n in range(100):
        log.append(float(n), "←", delta(n), 100)
    assert len(log) == 10 and log.bytes == 1000 and log.dropped == 90
    log.append(100.0, "←", delta(100), 5000)  # bigger than the bound alone: still kept
    assert [entry.t for entry in log] == [100.0]


def test_a_huge_string_is_kept_cut_and_small_events_are_kept_as_they_are() -> None:
    log = EventLog()
    answer = "word " * 400_000  # 2 MB
    done = {"type": "response.output_text.done", "response_id": "r", "text": answer}
    small = delta(1)
    log.append(0.0, "←", done, len(answer) + 100)
    log.append(0.1, "←", small, 80)
    kept, kept_small = list(log)
    text = kept.event["text"]
    assert len(text) < STRING_KEPT + 100
    assert text.startswith("word word") and text.endswith(
        "more characters, not kept in the event log]"
    )
    assert f"{len(answer) - STRING_KEPT:,} more characters" in text
    assert done["text"] is answer  # the event itself (the tracker's) is left whole
    assert kept_small.event is small  # no copy of what is small


async def test_events_says_when_older_events_were_dropped(console: Console_) -> None:
    console.shell.log = EventLog(size=4)
    await console.line("create -i hello --modality text", expect="╰")
    out = await console.line("events --type session.*", expect="no events")
    assert "older events dropped (the log keeps the last 4 events" in out
    assert "no events of type session.*" in out
