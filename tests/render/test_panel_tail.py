"""A huge answer's panel shows its end and says how much is above (issue #10): rich laid a
20 MB answer out in one piece, for minutes."""

from __future__ import annotations

import io
import re

from rich.console import Console

from realtime_cli.protocol.tracker import ResponseState
from realtime_cli.render.panels import PANEL_CHARS, response_panel
from tests.deadline import deadline


def shown(response: ResponseState) -> str:
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(response_panel(response))
    return out.getvalue()


def test_the_panel_of_a_huge_answer_shows_its_end_and_how_to_see_it_all() -> None:
    response = ResponseState("resp_big", status="completed")
    for n in range(1_000_000):  # 11 MB: the old panel took a minute or more
        response.parts("text").append(f"word{n} ")
    with deadline(20, "the panel of an 11 MB answer"):
        text = shown(response)
    assert len(text) < PANEL_CHARS * 2  # what a person can read, not 5 MB
    above = re.search(r"… ([0-9,]+) characters above · the whole answer: show resp_big in", text)
    assert above is not None
    assert 0 <= int(above[1].replace(",", "")) - (len(response.answer_parts) - PANEL_CHARS) < 80
    assert "--json, or a --record recording" in text
    assert "word999999" in text and "word999700 " in text and "word1000 " not in text


def test_a_short_answer_is_shown_whole() -> None:
    response = ResponseState("resp_small", status="completed", text="Hello there.")
    text = shown(response)
    assert "Hello there." in text and "above" not in text
