"""Narrow terminals (issue 15 #4): ids are never cut in items, responses and events; the other
columns give way first."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.text import Text

from realtime_cli.protocol.tracker import ResponseState
from realtime_cli.render import items_table, log_row, print_listed_row, responses_table

ITEM_ID = "item_ErnZzNXPEfSZlgYFD16aB"
RESP_ID = "resp_Q7b3kLm9XyZ0aBcDeFgHi"
EVENT_ID = "event_Zx9Yw8Vu7Ts6Rq5Po4NmL"


def screen(renderable: object, width: int, *, terminal: bool = True) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=terminal, color_system=None)
    if isinstance(renderable, Text):
        print_listed_row(console, renderable)
    else:
        console.print(renderable)
    return out.getvalue()


@pytest.mark.parametrize("width", [40, 50, 60, 80, 140])
def test_items_keep_whole_ids_and_drop_the_type_column_first(width: int) -> None:
    item = {
        "id": ITEM_ID,
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "a long answer " * 10}],
    }
    shown = screen(items_table([item]), width)
    assert ITEM_ID in shown, shown
    assert max(len(line) for line in shown.splitlines()) <= width
    if width <= 60:
        assert "messa" not in shown  # the useless column left first
    if width >= 80:
        assert "message" in shown and "assistant" in shown


@pytest.mark.parametrize("width", [50, 60, 80])
def test_responses_keep_oob_beside_the_id(width: int) -> None:
    response = ResponseState(
        id=RESP_ID,
        status="incomplete",
        status_details={"reason": "max_output_tokens"},
        usage={"total_tokens": 1234, "input_tokens": 1000, "output_tokens": 234},
        t_created=1.0,
        t_done=2.5,
        metadata={"run": "7"},
        raw={"conversation_id": None},
    )
    shown = screen(responses_table([response]), width)
    assert f"{RESP_ID} (oob)" in shown, shown


@pytest.mark.parametrize("width", [50, 60])
def test_events_listing_wraps_rather_than_cutting_event_ids(width: int) -> None:
    event = {
        "type": "response.output_text.delta",
        "event_id": EVENT_ID,
        "response_id": RESP_ID,
        "delta": "x",
    }
    shown = screen(log_row(1.5, "←", event), width)
    assert EVENT_ID in shown and RESP_ID in shown, shown
