"""Meters from known timings and usage; the price table, its lookup and its overrides."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from realtime_cli.console.live_region import Status, toolbar_fragments
from realtime_cli.endpoint.profiles import parse
from realtime_cli.endpoint.select import ConnectionOptions, select
from realtime_cli.errors import UsageError
from realtime_cli.protocol.meters import Totals, dollars, measure, meter_line, tokens_of
from realtime_cli.protocol.prices import DEFAULT_PRICES, PriceTable
from realtime_cli.protocol.tracker import Tracker
from realtime_cli.render import response_panel

# A voice turn as the live service reports it (corpus shape): cached text and audio.
USAGE = {
    "total_tokens": 1500,
    "input_tokens": 1000,
    "output_tokens": 500,
    "input_token_details": {
        "text_tokens": 600,
        "audio_tokens": 400,
        "image_tokens": 0,
        "cached_tokens": 300,
        "cached_tokens_details": {"text_tokens": 200, "audio_tokens": 100},
    },
    "output_token_details": {"text_tokens": 100, "audio_tokens": 400},
}


def tracked(usage: dict[str, object] | None = USAGE, status: str = "completed") -> Tracker:
    """A response requested at 1.0 s, created at 1.25, deltas at 1.5 and 2.5, done at 3.5."""
    tracker = Tracker()
    tracker.sent({"type": "response.create", "event_id": "rtc_1"}, 1.0)
    tracker.feed({"type": "response.created", "response": {"id": "resp_1"}}, 1.25)
    delta = {"type": "response.output_text.delta", "response_id": "resp_1", "delta": "hi"}
    tracker.feed(delta, 1.5)
    tracker.feed(delta, 2.5)
    done = {"id": "resp_1", "status": status, "usage": usage}
    tracker.feed({"type": "response.done", "response": done}, 3.5)
    return tracker


def test_timings_rate_tokens_and_cost_of_a_response() -> None:
    meter = measure(tracked().responses["resp_1"], "gpt-realtime")
    assert (meter.created, meter.first_delta, meter.done) == (0.25, 0.5, 2.5)
    assert meter.tokens_per_s == 250.0  # 500 output tokens over 2 s of streaming
    tokens = meter.tokens
    assert (tokens.input_text, tokens.input_audio, tokens.cached_text, tokens.cached_audio) == (
        600,
        400,
        200,
        100,
    )
    assert (tokens.output_text, tokens.output_audio) == (100, 400)
    # text: 400 × $4 + 200 × $0.40 + 100 × $16; audio: 300 × $32 + 100 × $0.40 + 400 × $64
    expected = (400 * 4 + 200 * 0.4 + 100 * 16 + 300 * 32 + 100 * 0.4 + 400 * 64) / 1e6
    assert meter.cost == pytest.approx(expected)
    assert meter.as_json()["timings_ms"] == {"created": 250.0, "first_delta": 500.0, "done": 2500.0}
    assert meter_line(meter) == "250.0 tok/s · est. $0.03852 (gpt-realtime)"


def test_usage_without_details_is_text_and_no_usage_costs_nothing_known() -> None:
    tokens = tokens_of({"input_tokens": 10, "output_tokens": 4, "input_token_details": {}})
    assert (tokens.input_text, tokens.output_text, tokens.output_audio) == (10, 4, 0)
    tokens = tokens_of({"input_tokens": 10, "input_token_details": {"cached_tokens": 6}})
    assert tokens.cached_text == 6
    meter = measure(tracked(usage=None).responses["resp_1"], "gpt-realtime")
    assert meter.cost is None and meter.tokens_per_s is None
    assert meter.done == 2.5


def test_a_response_the_server_started_counts_from_its_created() -> None:
    tracker = Tracker()
    tracker.feed({"type": "response.created", "response": {"id": "r"}}, 2.0)
    tracker.feed({"type": "response.done", "response": {"id": "r", "status": "completed"}}, 2.5)
    meter = measure(tracker.responses["r"], "gpt-realtime")
    assert (meter.created, meter.first_delta, meter.done) == (None, None, 0.5)


def test_unknown_model_says_unknown_price_and_snapshots_fall_back_to_their_alias() -> None:
    response = tracked().responses["resp_1"]
    meter = measure(response, "my-own-model")
    assert meter.cost is None
    assert meter.cost_text() == "unknown price"
    assert meter_line(meter) == "250.0 tok/s · unknown price (my-own-model)"
    assert meter.as_json()["price"] == "unknown price"
    table = PriceTable()
    assert table.lookup("gpt-realtime-2025-08-28") == DEFAULT_PRICES["gpt-realtime"]
    assert table.lookup("gpt-realtime-mini-2030-01-01") == DEFAULT_PRICES["gpt-realtime-mini"]
    assert table.lookup("gpt-6-realtime") is None


def test_overrides_per_model_and_per_profile() -> None:
    table = PriceTable({"gpt-realtime": {"audio_output": 0.0}, "mine": {"text_output": 1e6}})
    assert table.lookup("gpt-realtime").audio_output == 0.0  # type: ignore[union-attr]
    assert table.lookup("gpt-realtime").text_input == 4.0  # type: ignore[union-attr]
    assert table.lookup("mine").text_output == 1e6  # type: ignore[union-attr]
    assert table.lookup("mine").text_input == 0.0  # type: ignore[union-attr]
    profile = PriceTable(profile={"text_input": 1.0})
    assert profile.lookup("any-azure-deployment").text_input == 1.0  # type: ignore[union-attr]


def test_config_toml_prices_reach_the_endpoint(tmp_path: Path) -> None:
    text = """\
default_profile = "eu"

[prices."gpt-realtime"]
audio_output = 50.5

[profiles.eu]
url = "wss://example.com/v1/realtime"
model = "eu-deployment"

[profiles.eu.prices]
text_output = 20
"""
    config = parse(text, tmp_path / "config.toml")
    options = ConnectionOptions(profile="eu")
    endpoint = select(options, {}, config).endpoint()
    assert endpoint.prices.lookup("gpt-realtime").audio_output == 50.5  # type: ignore[union-attr]
    assert endpoint.prices.lookup("eu-deployment").text_output == 20.0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[prices."gpt-realtime"]\naudio_out = 1\n', "unknown rate 'audio_out'"),
        ('[prices."gpt-realtime"]\naudio_output = -1\n', "must be USD per 1M tokens"),
        ("prices = 3\n", "prices must be a table"),
        ('[profiles.a]\nprices = { text_input = "x" }\n', "profiles.a.prices.text_input"),
    ],
)
def test_bad_price_tables_are_one_line_errors(text: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text, tmp_path / "config.toml")
    assert message in caught.value.message
    assert "\n" not in caught.value.message


def test_totals_add_up_by_status_with_unknown_prices_said() -> None:
    totals = Totals()
    totals.add(measure(tracked().responses["resp_1"], "gpt-realtime"))
    totals.add(measure(tracked(status="cancelled").responses["resp_1"], "gpt-realtime"))
    assert totals.line() == (
        "2 responses (1 cancelled, 1 completed) · 2000 in / 1000 out tokens · $0.07704"
    )
    totals.add(measure(tracked().responses["resp_1"], "unknown-model"))
    assert totals.cost_text() == "$0.07704 (+1 unknown price)"
    assert totals.short() == "3 resp · 4500 tok · $0.07704 (+1 unknown price)"
    assert totals.as_json()["by_status"] == {"completed": 2, "cancelled": 1}


def test_dollars() -> None:
    assert [dollars(x) for x in (0, 0.000512, 0.1, 1.256)] == ["$0", "$0.000512", "$0.1", "$1.26"]


def test_the_panel_and_the_toolbar_show_the_meters() -> None:
    buffer = io.StringIO()
    response = tracked().responses["resp_1"]
    Console(file=buffer, width=70, color_system=None).print(
        response_panel(response, measure(response, "gpt-realtime"))
    )
    assert "│ meters        250.0 tok/s · est. $0.03852 (gpt-realtime)" in buffer.getvalue()
    totals = Totals()
    totals.add(measure(response, "gpt-realtime"))
    status = Status(state="connected", endpoint="127.0.0.1:8765", totals=totals.short())
    text = "".join(t for _, t in toolbar_fragments(status, 200))
    assert text == (
        " ● connected · 127.0.0.1:8765 · help · Tab · Ctrl-D quits · 1 resp · 1500 tok · $0.03852"
    )
    # Narrow: the totals go before the state does.
    text = "".join(t for _, t in toolbar_fragments(status, 40))
    assert "resp" not in text and "connected" in text


def test_no_rate_from_a_moment_of_streaming() -> None:
    """A one-delta answer, done half a millisecond after its delta: no tok/s at all."""
    tracker = Tracker()
    tracker.sent({"type": "response.create", "event_id": "rtc_1"}, 1.0)
    tracker.feed({"type": "response.created", "response": {"id": "resp_1"}}, 1.001)
    delta = {"type": "response.output_text.delta", "response_id": "resp_1", "delta": "hi"}
    tracker.feed(delta, 1.028)
    usage = {"total_tokens": 4, "input_tokens": 2, "output_tokens": 2}
    done = {"id": "resp_1", "status": "completed", "usage": usage}
    tracker.feed({"type": "response.done", "response": done}, 1.0285)
    meter = measure(tracker.responses["resp_1"], "gpt-realtime")
    assert meter.tokens_per_s is None
    assert "tok/s" not in meter_line(meter) and "est. $" in meter_line(meter)
