"""The console's grammar, completion, live region and toolbar: plain functions, no terminal."""

from __future__ import annotations

import re

import pytest

from realtime_cli.console.actions import create_options
from realtime_cli.console.live_region import (
    Status,
    live_fragments,
    tail_lines,
    toolbar_fragments,
    wrap,
)
from realtime_cli.console.parse import (
    NOT_IN_CONSOLE,
    Chat,
    Command,
    CompletionContext,
    RawEvents,
    classify,
    completions,
    help_sections,
    json_unfinished,
    parse_args,
    split_force,
)
from realtime_cli.errors import UsageError
from realtime_cli.protocol.tracker import ErrorInfo, ResponseState
from realtime_cli.safe_text import clean


def text(fragments: list[tuple[str, str]]) -> str:
    return "".join(t for _, t in fragments)


# -- what a line is ---------------------------------------------------------------------------


def test_a_line_is_a_command_a_raw_event_or_a_message() -> None:
    assert classify("   ") is None
    assert classify("create 'hi there' --modality text") == Command(
        "create", ["hi there", "--modality", "text"]
    )
    assert classify("/cancel --all") == Command("cancel", ["--all"])
    assert classify("exit") == Command("quit", [])
    assert classify('{"type": "response.create"}') == RawEvents([{"type": "response.create"}])
    assert classify("what is a cancel?") == Chat("what is a cancel?")
    assert classify("  hello  ") == Chat("hello")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('create "open', "create: No closing quotation (quote with ' or \")"),
        ("/creat", "unknown command '/creat' (did you mean 'create'?)"),
        ("{nope", "not JSON: expecting property name enclosed in double quotes at column 2"),
        ("[1]", "event 1: a raw event must be a JSON object"),
        ("[]", "nothing to send: the array is empty"),
        (
            "[draft] a message",
            "event 1: not JSON: expecting value at column 2; a line starting with [ is JSON: for a"
            " message, write create '...'",
        ),
        (
            '[{"type": "a"}, {"b": 1}]',
            'event 2: a raw event needs a "type", e.g. {"type": "response.create"}',
        ),
        ('{"type": "a"}\n{"type": }', "event 2: not JSON: expecting value at line 2 column 10"),
        (
            '[{"type": "a"},\n {"type" "b"}]',
            "event 2: not JSON: expecting ':' delimiter at line 2 column 10",
        ),
        ('{"a": 1}', 'a raw event needs a "type", e.g. {"type": "response.create"}'),
        ('{"type": "x",\n "a": }', "not JSON: expecting value at line 2 column 7"),
    ],
)
def test_bad_lines_say_what_in_one_line(line: str, message: str | None) -> None:
    if message is None:
        assert classify(line) == Chat(line)
        return
    with pytest.raises(UsageError) as caught:
        classify(line)
    assert caught.value.message == message


def test_json_lines_arrays_and_pastes_are_events_in_order() -> None:
    one, two = {"type": "response.create"}, {"type": "response.cancel"}
    assert classify('[{"type": "response.create"}, {"type": "response.cancel"}]') == RawEvents(
        [one, two]
    )
    pasted = '{"type": "response.create"}\n{"type": "response.cancel"}\n'
    assert classify(pasted) == RawEvents([one, two])
    assert classify('{"type": "response.create"}{"type": "response.cancel"}') == RawEvents(
        [one, two]
    )
    assert classify('{\n  "type": "response.create"\n}\n[{"type": "response.cancel"}]') == (
        RawEvents([one, two])
    )


def test_enter_continues_only_unfinished_json() -> None:
    assert json_unfinished('[{"type": "response.create"},')
    assert json_unfinished('{"type": "response.create"}\n{"type": ')
    assert not json_unfinished('[{"type": "response.create"}]')
    assert not json_unfinished('{"type": "a"}\n{"type": "b"}')
    assert json_unfinished('{"type": "response.create",')
    assert json_unfinished('{\n  "type": "response.create",\n  "response": {\n')
    assert json_unfinished('{"type": "response.cre')
    assert not json_unfinished('{"type": "response.create"}')
    assert not json_unfinished("{nope")  # a mistake: send it, the error says what
    assert not json_unfinished('{"a": 1}}')
    assert not json_unfinished("hello {")


def test_console_only_options() -> None:
    assert parse_args("cancel", ["--all"]) == ({"--all": True}, [])
    assert parse_args("events", ["--type=response.*", "--last", "5"]) == (
        {"--type": "response.*", "--last": "5"},
        [],
    )
    values, _ = parse_args("session", ["--set", "a=1", "--set", "b:=2", "--voice", "marin"])
    assert values == {"--set": ["a=1", "b:=2"], "--voice": "marin"}
    for args, message in [
        (["--al"], "cancel: no option --al (did you mean '--all'?)"),
        (["a", "b"], "cancel: unexpected argument 'b'"),
        (["--all=yes"], "cancel: --all takes no value"),
    ]:
        with pytest.raises(UsageError, match="^" + re.escape(message)):
            parse_args("cancel", args)
    with pytest.raises(UsageError, match="--turn-detection must be one of none, server_vad"):
        parse_args("session", ["--turn-detection", "vad"])
    with pytest.raises(UsageError, match="--voice needs a value"):
        parse_args("session", ["--voice"])
    assert split_force(["-i", "x", "--force"]) == (["-i", "x"], True)


def test_help_lists_every_command_and_creates_options_from_the_create_command() -> None:
    overview = dict(help_sections(None))
    usages = [usage for usage, _ in overview["commands"]]
    assert usages[0] == "create [PROMPT] [options]"
    assert "TEXT" in usages and "{JSON}" in usages
    assert [key for key, _ in overview["keys"]][:3] == ["Enter", "Alt-Enter", "Ctrl-C"]
    create = dict(help_sections("create", create_options()))
    terms = [term for term, _ in create["options"]]
    names = [next(w for w in term.replace(",", "").split() if w.startswith("--")) for term in terms]
    assert names[:3] == ["--instructions", "--modality", "--conversation"]
    assert "--force" in names and "--cancel-after" in names
    assert "--api-key" not in names and "--url" not in names and "--json" not in names
    with pytest.raises(UsageError, match="write create 'me a poem'"):
        help_sections("me a poem")


def test_create_help_shows_short_flags_and_what_values_look_like() -> None:
    create = dict(help_sections("create", create_options()))
    terms = [term for term, _ in create["options"]]
    for term in (
        "-i, --instructions TEXT",
        "-m, --metadata KEY=VALUE",
        "-s, --set PATH=VALUE",
        "    --max-output-tokens N|inf",
        "    --tools FILE",
        "    --cancel-after SECONDS",
        "    --force",
    ):
        assert term in terms
    assert not any("METADATA" in t or "SET" in t or "EVENT_ID" in t for t in terms)
    # Only create has short flags: the others' options are not indented for them.
    assert dict(help_sections("cancel"))["options"] == [
        ("--all", "cancel every active response, each by id"),
        ("--force", "send even if this session has never seen that id"),
    ]


def test_rtc_create_and_the_console_take_the_same_create_options() -> None:
    """One grammar: typer's ``rtc create`` declares exactly the grammar's options (long and
    short flags, metavars), and the console's parser reads a line as typer reads argv."""
    import typer

    from realtime_cli.cli import app
    from realtime_cli.protocol.create_grammar import CREATE_OPTIONS, parse_create

    command = typer.main.get_command(app).commands["create"]  # type: ignore[attr-defined]
    declared = {
        param.opts[0]: (tuple(param.opts[1:]), param.metavar)
        for param in command.params
        if param.param_type_name == "option"
    }
    for opt in CREATE_OPTIONS:
        assert declared[opt.name] == ((opt.short,) if opt.short else (), opt.metavar), opt.name
    argv = ["hi", "-i", "be brief", "-m", "a=1", "--metadata=b=2", "-sx=1", "--cancel-after", "2"]
    with command.make_context("create", list(argv)) as ctx:
        # click's context holds a repeated option as a tuple (typer passes it on as a list)
        cli_params = {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in ctx.params.items()
            if k in parse_create([])
        }
    parsed = parse_create(argv)
    assert {k: list(v) if isinstance(v, tuple) else v for k, v in parsed.items()} == cli_params
    assert parsed["metadata"] == ["a=1", "b=2"] and parsed["set_"] == ["x=1"]
    names = {opt.name for opt in create_options()}
    assert "--instructions" in names and not names & set(NOT_IN_CONSOLE.values())


# -- completion -------------------------------------------------------------------------------


def test_completion_offers_commands_options_values_ids_and_event_types() -> None:
    ctx = CompletionContext(
        create_options=create_options(),
        response_ids=["resp_A"],
        all_response_ids=["resp_A", "resp_B"],
        item_ids=["item_1"],
        event_ids=["event_9"],
    )
    assert completions("re", ctx) == (["retrieve", "responses", "reconnect"], 2)
    assert completions("/ca", ctx) == (["/cancel", "/calls"], 3)
    assert completions("create --mod", ctx) == (["--modality"], 5)
    assert completions("create --modality ", ctx) == (["text", "audio"], 0)
    assert completions("create -i x --modality t", ctx) == (["text"], 1)
    assert completions("create -i x --conversation n", ctx) == (["none"], 1)
    assert completions("create --voice m", ctx) == (["marin"], 1)
    assert completions("create --tool-choice ", ctx)[0] == ["auto", "none", "required"]
    assert "--force" in completions("create --", ctx)[0]
    assert completions("cancel ", ctx) == (["resp_A"], 0)
    assert completions("delete it", ctx) == (["item_1"], 2)
    assert completions("show ", ctx)[0] == ["resp_A", "resp_B", "item_1", "event_9"]
    assert completions("session --turn-detection s", ctx) == (["server_vad", "semantic_vad"], 1)
    assert completions("view q", ctx) == (["quiet"], 1)
    assert completions('{"type": "response.c', ctx) == (["response.create", "response.cancel"], 10)
    assert completions('{"type":"conversation.item.d', ctx) == (["conversation.item.delete"], 19)
    assert completions('{"item": ', ctx) == ([], 0)
    assert completions("hello wor", ctx) == ([], 0)


# -- live region and toolbar ------------------------------------------------------------------


def response(id_: str, text_: str = "", **kw: object) -> ResponseState:
    r = ResponseState(id=id_, text=text_, t_created=1.0, **kw)  # type: ignore[arg-type]
    r.deltas = len(text_.split())
    return r


def test_wrapping_is_by_word_and_by_cell_width() -> None:
    assert wrap("The quick brown fox jumps", 10) == ["The quick", "brown fox", "jumps"]
    assert wrap("abcdefghijkl", 5) == ["abcde", "fghij", "kl"]
    assert wrap("日本語のテキスト", 6) == ["日本語", "のテキ", "スト"]
    assert tail_lines("one\ntwo three four\nfive", 9, 3) == ["two three", "four", "five"]
    assert clean("a\x1b[31mred\x07\tb\r\n") == "a�[31mred�    b\n"


def test_live_region_shows_each_active_response_within_its_budget() -> None:
    one = response("resp_1", " ".join(f"w{i}" for i in range(40)), metadata={"run": "1"})
    two = response("resp_2", "", raw={"conversation_id": None})
    lines = text(live_fragments([one, two], now=3.5, width=30, max_lines=6)).splitlines()
    assert lines == [
        "▸ resp_1 · in_progress · 2.5s…",
        "w30 w31 w32 w33 w34 w35 w36",
        "w37 w38 w39",
        "▸ resp_2 · in_progress · 2.5s…",
        "…",
    ]
    wide = text(live_fragments([two], now=3.5, width=80, max_lines=6)).splitlines()
    assert wide[0] == "▸ resp_2 · in_progress · 2.5s · 0 tok · out-of-band"
    many = [response(f"resp_{i}", "hi") for i in range(5)]
    lines = text(live_fragments(many, now=2, width=40, max_lines=4)).splitlines()
    assert lines == ["▸ resp_0 · in_progress · 1.0s · 1 tok", "hi", "+4 more active"]
    assert live_fragments([], now=0, width=80, max_lines=10) == []


def test_toolbar_fits_the_width_dropping_the_least_useful_first() -> None:
    error = ErrorInfo("invalid_value", "bad", "invalid_request_error", None, None, None, 0, {})
    status = Status(
        state="connected",
        endpoint="127.0.0.1:8765",
        session_id="sess_123",
        expires_at=1000 + 3599,
        active=[response("resp_1", "a b c")],
        now=2.0,
        wall=1000.0,
        last_error=error,
    )
    assert text(toolbar_fragments(status, 200)) == (
        " ● connected · 127.0.0.1:8765 · sess_123 · 59:59 left"
        " · 1 active: resp_1 1.0s 3 tok · last error: invalid_value"
    )
    assert text(toolbar_fragments(status, 90)) == (
        " ● connected · 59:59 left · 1 active: resp_1 1.0s 3 tok · last error: invalid_value"
    )
    assert text(toolbar_fragments(status, 80)) == (
        " ● connected · 1 active: resp_1 1.0s 3 tok · last error: invalid_value"
    )
    assert text(toolbar_fragments(status, 40)) == " ● connected · 1 active: resp_1 1.0s 3 …"
    idle = Status(state="disconnected", endpoint="example.com", expires_at=900, wall=1000.0)
    assert text(toolbar_fragments(idle, 100)) == (
        " ● disconnected · example.com · expired · help · Tab · Ctrl-D quits"
    )
