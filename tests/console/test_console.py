"""The console driven through prompt-toolkit's pipe input against the local server.

The scrollback goes to an injected rich console; each test checks the transcript of what was
printed (ids, ports and timings masked, nothing else).
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable

from console_harness import CTRL_C, CTRL_D, Console_, flat
from rich.console import Console

from realtime_cli.protocol.tracker import ResponseState
from realtime_cli.render import responses_table

PANEL_HELLO = """\
╭─ resp_… · completed ────╮
│ hello │
│ │
│ status completed │
│ usage {usage} │
│ timing created N ms · first delta N ms · total N ms │
│ meters est. $0.00002 (gpt-realtime) │
│ conversation conv_… │
╰────╯
"""


async def test_create_returns_at_once_and_prints_the_panel_when_done(console: Console_) -> None:
    assert console.new_output() == (
        "connected to 127.0.0.1:PORT · gpt-realtime · type help · sess_…\n"
    )
    out = await console.line("create --instructions hello --modality text", expect="╰")
    assert out == PANEL_HELLO.format(usage="2 total · 1 in · 1 out")
    assert await console.finish() == 0
    assert console.shell.closed_code == 1000


async def test_events_view_rows_then_panel(
    server_url: str, console_factory: Callable[..., Console_]
) -> None:
    console = console_factory(server_url, view="events", width=160)  # rows do not wrap
    await console.wait_for("type help")
    assert console.new_output() == (
        "  t ← session.created sess_… gpt-realtime modalities=audio\n"
        "connected to 127.0.0.1:PORT · gpt-realtime · type help · sess_…\n"
    )
    out = await console.line("create -i hello --modality text", expect="rate_limits")
    assert out == (
        '  t → response.create rtc_1 {"instructions": "hello", "output_modalities": ["text"]}\n'
        "  t ← response.created resp_… in_progress\n"
        "  t ← response.output_item.added item_… message assistant in_progress resp_…\n"
        "  t ← conversation.item.added item_… message assistant in_progress\n"
        "  t ← response.content_part.added resp_… item_…\n"
        "  t ← response.output_text.delta ×1 5 chars resp_… item_…\n"
        "  t ← response.output_text.done resp_… item_… 'hello'\n"
        "  t ← response.content_part.done resp_… item_…\n"
        "  t ← conversation.item.done item_… message assistant completed\n"
        "  t ← response.output_item.done item_… message assistant completed resp_…\n"
        "  t ← response.done resp_… completed\n"
        + PANEL_HELLO.format(usage="2 total · 1 in · 1 out")
        + "  t ← rate_limits.updated tokens 39998/40000\n"
    )
    assert await console.finish(CTRL_D) == 0


async def test_a_plain_line_is_a_chat_message(console: Console_) -> None:
    await console.line("session --modality text", expect="session updated")
    out = await console.line("what is the sea", expect="╰")
    assert out.splitlines()[1] == "│ what is the sea │"
    items = await console.line("items", expect="assistant")
    assert items == (
        "item type role status content\n"
        "────\n"
        "item_… message user completed what is the sea\n"
        "item_… message assistant completed what is the sea\n"
    )


async def test_raw_json_single_and_multi_line_and_pasted(console: Console_) -> None:
    out = await console.line(
        '{"type": "response.create", "response": {"instructions": "raw", '
        '"output_modalities": ["text"]}}',
        expect="╰",
    )
    assert "│ raw │" in out
    # Enter inside an unfinished object continues it.
    console.type('{"type": "response.create",\r "response": {"output_modalities": ["text"],\r')
    out = await console.line(' "instructions": "multi"}}', expect="╰")
    assert "│ multi │" in out
    # A bracketed paste of pretty-printed JSON lands in the line; Enter sends it.
    pasted = '{\n  "type": "response.create",\n  "response": {\n    "instructions": "pasted",\n'
    pasted += '    "output_modalities": ["text"]\n  }\n}'
    out = await console.line(f"\x1b[200~{pasted}\x1b[201~", expect="╰")
    assert "│ pasted │" in out


async def test_bad_input_gets_one_line_and_the_session_goes_on(console: Console_) -> None:
    for line, expected in [
        ("{nope", "error: not JSON: expecting property name enclosed in double quotes at column 2"),
        ('{"type": "bogus"}', 'error: invalid bogus: type: unknown client event type "bogus"'),
        (
            "create --max-output-tokens 0",
            'error: invalid response.create: response.max_output_tokens: must be 1-4096 or "inf",'
            " got 0",
        ),
        ("create --frobnicate", "error: create: No such option: --frobnicate"),
        ("create --api-key sk-secret", "error: create: --api-key is an option of `rtc create`,"),
        ("create --profile work", "error: create: --profile is an option of `rtc create`,"),
        ('create "open', "error: create: No closing quotation (quote with ' or \")"),
        ("session --turn-detection maybe", "error: session: --turn-detection must be one of"),
        ("events --last x", "error: events: --last takes a positive number, got 'x'"),
        ("show nothing", "error: show: no event, item or response 'nothing' in this session"),
        ("delete", "error: delete: which id? usage: delete ITEM_ID"),
        ("view loud", "error: view: say events, responses or quiet (now responses)"),
    ]:
        out = await console.line(line, expect="error")
        assert out.startswith(expected), out
        assert len(out.splitlines()) <= 2 and "Traceback" not in out
        assert "sk-secret" not in out
    # The server's own rejection, tied to the line that caused it.
    out = await console.line("delete item_missing --force", expect="error")
    assert flat(out) == (
        "error: invalid_value (item_id): Item with item_id not found: item_missing ← answers rtc_1"
        " (conversation.item.delete) from `delete item_missing --force`"
    )
    out = await console.line("create -i still-here --modality text", expect="╰")
    assert "│ still-here │" in out


async def test_guard_cancel_and_notice(
    local_server: Callable[..., str], console_factory: Callable[..., Console_]
) -> None:
    console = console_factory(local_server(token_delay_ms=50))
    await console.wait_for("type help")
    await console.line("session --modality text", expect="session updated")
    out = await console.line("cancel", expect="notice")
    assert flat(out) == (
        "notice: response_cancel_not_active: Cancellation failed: no active response found."
        " ← answers rtc_2 (response.cancel) from `cancel`"
    )
    words = " ".join(f"w{i}" for i in range(200))
    await console.line(f"create -i '{words}'")
    await console.until(lambda: console.shell.active())
    out = await console.line("hello")
    assert flat(out) == (
        "error: not sent: resp_… is still answering in the conversation; type cancel, or use"
        " create '...' --conversation none (out-of-band) or --force"
    )
    out = await console.line("create -i x", expect="error")
    assert "add --conversation none (out-of-band) or --force" in out
    # An out-of-band response runs beside it; both show in the live region.
    await console.line("create -i 'a b c d e f g h i j k l m n o p' --conversation none -m n=2")
    await console.until(lambda: len(console.shell.active()) == 2)
    live = console.repl.screen_text()
    assert live.count("▸ resp_") == 2 and "out-of-band · n=2" in live
    assert "2 active" in live.splitlines()[-1]
    out = await console.line("cancel --all", expect="cancelled")
    await console.until(lambda: not console.shell.active())
    out += console.new_output()
    assert out.count("· cancelled ─") == 2
    assert "cancelled (client_cancelled)" in out


async def test_ctrl_c_cancels_then_clears_then_leaves(
    local_server: Callable[..., str], console_factory: Callable[..., Console_]
) -> None:
    console = console_factory(local_server(token_delay_ms=50))
    await console.wait_for("type help")
    words = " ".join(f"w{i}" for i in range(200))
    await console.line(f"create -i '{words}' --modality text")
    await console.until(lambda: console.shell.active())
    console.type(CTRL_C)
    await console.wait_for("· cancelled ─")
    assert "cancelling resp_…" in console.new_output()
    sent = len(console.shell.log)
    console.type("half a line")
    buffer = console.repl.prompt.app.current_buffer
    await console.until(lambda: buffer.text == "half a line")
    console.type(CTRL_C)  # clears the line: nothing is sent
    await console.until(lambda: buffer.text == "")  # the positive signal: Ctrl-C was handled
    assert console.new_output() == ""
    assert len(console.shell.log) == sent
    # Within a second of the others, yet the first press on an empty prompt only warns: the
    # presses that cancelled and cleared do not count towards leaving.
    console.type(CTRL_C)
    await console.wait_for("(Ctrl-C again to leave, or Ctrl-D)")
    assert await console.finish(CTRL_C) == 130
    assert console.shell.closed_code == 1000


async def test_responses_events_show_and_delete(
    server_url: str, console_factory: Callable[..., Console_]
) -> None:
    console = console_factory(server_url, width=160)
    await console.wait_for("type help")
    await console.line("create -i 'one two' --modality text -m run=7", expect="╰")
    table = await console.line("responses")
    assert table == (
        "response status reason tokens in/out first delta total cost metadata\n"
        "────\n"
        "resp_… completed 2/2 N ms N ms $0.00004 run=7\n"
    )
    out = await console.line("events --type 'response.output_text.*' --last 2")
    assert out == (
        "  t ← response.output_text.delta event_… resp_… item_… 'two'\n"
        "  t ← response.output_text.done event_… resp_… item_… 'one two'\n"
    )
    out = await console.line("events --type response.create")
    assert out.startswith("  t → response.create rtc_1 ")
    event_id = re.search(r"event_[A-Za-z0-9]{21}", console.buffer.getvalue().split("events")[-1])
    response = console.shell.session.tracker.responses  # type: ignore[union-attr]
    (response_id,) = response
    out = await console.line(f"show {response_id}")
    assert '"status": "completed"' in out and '"run": "7"' in out
    out = await console.line("show rtc_1")
    assert out.startswith('{\n  "type": "response.create",\n  "response": {')
    assert event_id
    item_id = next(iter(console.shell.session.tracker.items))  # type: ignore[union-attr]
    out = await console.line(f"retrieve {item_id}", expect="}")
    assert '"role": "assistant"' in out
    out = await console.line(f"delete {item_id}", expect="deleted")
    assert out == "deleted item_…\n"
    assert await console.line("items") == "no items yet\n"


async def test_help_and_view(console: Console_) -> None:
    out = await console.line("help")
    assert out.startswith("commands\n  create [PROMPT] [options] send response.create with the")
    assert (
        "\nkeys\n  Enter send the line; inside an unfinished {JSON} it starts a new line\n" in out
    )
    out = await console.line("help cancel")
    assert out == (
        "usage: cancel [RESPONSE_ID] [--all] [--force]\n"
        "    send response.cancel (default: the active default-conversation response)\n"
        "options\n"
        "  --all cancel every active response, each by id\n"
        "  --force send even if this session has never seen that id\n"
        "examples\n"
        "  cancel\n"
        "  cancel --all\n"
        "  cancel resp_ABC --force\n"
    )
    assert await console.line("view quiet") == "view: quiet\n"
    session = console.shell.session
    assert session is not None
    responses = session.tracker.responses
    assert await console.line("create -i shh --modality text") == ""
    await console.until(lambda: any(not r.active for r in responses.values()))
    assert console.new_output() == ""  # quiet: no panel, though the response is done


async def test_redraws_are_coalesced_during_a_burst(console: Console_) -> None:
    redraws = 0
    app = console.repl.prompt.app
    invalidate = app.invalidate

    def counting() -> None:
        nonlocal redraws
        redraws += 1
        invalidate()

    app.invalidate = counting  # type: ignore[method-assign]
    words = " ".join(f"w{i}" for i in range(1500))
    console.type(f"create -i '{words}' --modality text\r")
    await console.until(lambda: console.shell.active())
    redraws, started = 0, time.monotonic()  # count from here: typing redraws too
    await console.wait_for("╰")
    elapsed = time.monotonic() - started
    response = console.shell.session.tracker.responses  # type: ignore[union-attr]
    assert next(iter(response.values())).deltas == 1500
    assert redraws <= elapsed / 0.08 + 3  # at most one per tick, never one per delta
    out = console.new_output()
    assert out.count("╭") == 1 and "w1499" in out  # the whole answer, once, in one panel


def _responses_at(width: int) -> str:
    def response(letter: str, status: str, **kw: object) -> ResponseState:
        return ResponseState(id="resp_" + letter * 21, status=status, **kw)  # type: ignore[arg-type]

    responses = [
        response(
            "A",
            "completed",
            usage={"input_tokens": 1234, "output_tokens": 4096},
            t_request=0.0,
            t_created=0.1,
            t_first_delta=0.3,
            t_done=12.3,
            metadata={"run": "7", "job": "nightly"},
            raw={"conversation_id": "conv_x"},
        ),
        response(
            "B",
            "incomplete",
            status_details={"reason": "max_output_tokens"},
            t_first_delta=0.2,
            t_done=0.5,
            raw={"conversation_id": None},
        ),
        response("C", "lost", deltas=12, t_done=3.0, raw={"conversation_id": "conv_x"}),
    ]
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(responses_table(responses))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def test_the_responses_table_is_readable_at_80_100_and_200_columns() -> None:
    # 80: id, status, reason, tokens; (oob) stays beside its id, the timing gives way.
    assert _responses_at(80) == (
        "response                          status      reason             tokens in/out\n"
        "──────────────────────────────────────────────────────────────────────────────\n"
        "resp_AAAAAAAAAAAAAAAAAAAAA        completed                          1234/4096\n"
        "resp_BBBBBBBBBBBBBBBBBBBBB (oob)  incomplete  max_output_tokens            -/-\n"
        "resp_CCCCCCCCCCCCCCCCCCCCC        lost                                     -/-"
    )
    # 100: the total and the metadata too (which wraps in its column).
    assert _responses_at(100) == (
        "response                          status      reason                tokens    total"
        "  metadata\n" + "─" * 100 + "\n"
        "resp_AAAAAAAAAAAAAAAAAAAAA        completed                      1234/4096  12.30 s"
        "  run=7\n" + " " * 85 + "job=nightly\n"
        "resp_BBBBBBBBBBBBBBBBBBBBB (oob)  incomplete  max_output_tokens        -/-   500 ms\n"
        "resp_CCCCCCCCCCCCCCCCCCCCC        lost                                 -/-   3.00 s"
    )
    # 200: everything on one line each, with the full headers.
    wide = _responses_at(200).splitlines()
    assert wide[0].split() == [
        *("response", "status", "reason", "tokens", "in/out", "first", "delta", "total"),
        "metadata",
    ]
    assert wide[3].startswith("resp_BBBBBBBBBBBBBBBBBBBBB (oob)  incomplete  max_output_tokens")
    assert len(wide) == 5 and wide[2].endswith("run=7 job=nightly")
