"""The console's meters: the panel's row, the toolbar's totals, `responses --totals`, and the
totals line at exit (transcripts masked as in test_console)."""

from __future__ import annotations

from console_harness import Console_


async def test_totals_in_the_toolbar_on_demand_and_at_exit(console: Console_) -> None:
    console.new_output()
    out = await console.line("create --instructions hello --modality text", expect="╰")
    assert "│ meters est. $0.00002 (gpt-realtime) │" in out
    await console.line("create --instructions 'hello again' --modality text", expect="╰")
    toolbar = console.repl.screen_text()
    assert "2 resp · 7 tok · $0.000064" in toolbar
    out = await console.line("responses --totals")
    assert out == ("session totals: 2 responses (2 completed) · 4 in / 3 out tokens · $0.000064\n")
    assert await console.finish() == 0
    assert console.new_output().endswith(
        "session totals: 2 responses (2 completed) · 4 in / 3 out tokens · $0.000064\n"
    )
