"""Console defects found after a day of real use (issue 15): each test is what a user typed and
what they should have seen."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from console_harness import Console_, flat


async def test_unknown_ids_are_refused_locally_with_the_known_ones(
    local_server: Callable[..., str], console_factory: Callable[..., Console_]
) -> None:
    console = console_factory(local_server(token_delay_ms=30))
    await console.wait_for("type help")
    await console.line("create -i 'one two' --modality text", expect="╰")
    (item_id,) = console.shell.session.tracker.items  # type: ignore[union-attr]
    words = " ".join(f"w{i}" for i in range(100))
    await console.line(f"create -i '{words}' --modality text")
    await console.until(lambda: console.shell.active())
    out = await console.line("cancel all", expect="error")
    assert flat(out).startswith("error: cancel: no response 'all' in this session (known: resp_…")
    assert "cancel --all cancels every active response; --force sends it anyway" in flat(out)
    assert console.shell.active()  # still streaming: nothing was sent
    sent = [e.event["type"] for e in console.shell.log if e.direction == "→"]
    assert "response.cancel" not in sent
    await console.line("cancel --all", expect="cancelled")
    for command in ("delete", "retrieve"):
        out = await console.line(f"{command} item_nope", expect="error")
        assert flat(out).startswith(
            f"error: {command}: no item 'item_nope' in this session (known: item_…"
        )
        assert flat(out).endswith("); --force sends it anyway")
    assert item_id in console.shell.session.tracker.items  # type: ignore[union-attr]
    # --force: the server is asked, and its answer is shown.
    out = await console.line("retrieve item_nope --force", expect="error")
    assert "Item with item_id not found: item_nope" in flat(out)
    out = await console.line(f"delete {item_id}", expect="deleted")
    assert out == "deleted item_…\n"


async def test_an_out_of_band_prompt_goes_in_response_input_not_the_conversation(
    console: Console_,
) -> None:
    await console.line("create 'first words' --modality text", expect="╰")
    assert len(console.shell.session.tracker.items) == 2  # type: ignore[union-attr]
    out = await console.line(
        "create 'tell me a story' --conversation none --modality text", expect="╰"
    )
    assert "│ tell me a story │" in out  # the local model echoes the last user text it saw
    items = await console.line("items")
    assert "tell me a story" not in items and "first words" in items
    assert len(console.shell.session.tracker.items) == 2  # type: ignore[union-attr]
    sent = [e.event for e in console.shell.log if e.direction == "→"][-1]
    assert sent["response"]["input"] == [
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "tell me a story"}],
        }
    ]
    # With --with-context the conversation's items come first, as references.
    await console.line(
        "create 'and?' --conversation none --with-context --modality text", expect="╰"
    )
    sent = [e.event for e in console.shell.log if e.direction == "→"][-1]
    kinds = [i["type"] for i in sent["response"]["input"]]
    assert kinds == ["item_reference", "item_reference", "message"]
    out = await console.line("create 'x' --with-context", expect="error")
    assert "--with-context goes with --conversation none" in out


async def test_raw_sends_unvalidated_and_set_warns_about_unknown_fields(console: Console_) -> None:
    out = await console.line('{"type": "response.create", "response": {"shiny": 1}}', expect="err")
    assert "unknown parameter" in out  # validated: not sent
    out = await console.line(
        """raw {"type": "response.create", "response": {"shiny": "it's"}}""", expect="error"
    )
    # Sent as typed: the server's own answer comes back, tied to the line.
    assert "unknown_parameter (response.shiny)" in flat(out) and "from `raw {" in flat(out)
    out = await console.line("create -s shiny=1 --modality text", expect="error")
    assert flat(out).startswith("warning: response.shiny is not a field rtc knows; sent anyway")
    assert "unknown_parameter (response.shiny)" in flat(out)


async def test_session_takes_i_s_and_tools_like_create(console: Console_, tmp_path: Path) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([{"type": "function", "name": "get_time", "parameters": {}}]))
    out = await console.line(
        f"session -i 'Be brief' -s output_modalities:='[\"text\"]' --tools {tools}",
        expect="session updated",
    )
    assert "error" not in out
    session = console.shell.session.tracker.session  # type: ignore[union-attr]
    assert session["instructions"] == "Be brief" and session["tools"][0]["name"] == "get_time"


async def test_clear_is_a_screen_command_and_the_last_error_clears_after_a_success(
    console: Console_,
) -> None:
    assert await console.line("clear") == ""
    assert not [e for e in console.shell.log if e.direction == "→"]  # nothing sent as chat
    out = await console.line("help clear")
    assert out.startswith("usage: clear")
    await console.line("retrieve item_missing --force", expect="error")
    assert "last error: invalid_value" in console.repl.screen_text()
    await console.line("session --modality text", expect="session updated")
    assert "last error" not in console.repl.screen_text()


async def test_tab_offers_ids_newest_first_with_what_each_is(console: Console_) -> None:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from realtime_cli.console.terminal import ConsoleCompleter as _Completer

    await console.line("create 'first one' --modality text", expect="╰")
    await console.line("create 'second one' --modality text", expect="╰")
    completer = _Completer(console.shell)
    shown = list(completer.get_completions(Document("show resp_"), CompleteEvent()))
    tracker = console.shell.session.tracker  # type: ignore[union-attr]
    assert [c.text for c in shown] == list(reversed(tracker.responses))
    assert shown[0].display_meta_text == "completed · second one"
    items = list(completer.get_completions(Document("delete "), CompleteEvent()))
    assert items[0].display_meta_text == "assistant · second one"
    assert items[-1].display_meta_text == "user · first one"
