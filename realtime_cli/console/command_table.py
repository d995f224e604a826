"""The console's commands as data: each command's usage, summary, options and examples, the
rules for reading a typed line, and the keys. ``commands`` parses lines against this table and
``help_sections`` shows it, so help, parsing and completion cannot disagree about a command.
"""

from __future__ import annotations

from dataclasses import dataclass

from realtime_cli.protocol.create_grammar import Opt
from realtime_cli.protocol.events import MODALITIES, VOICES

VIEWS = ("events", "responses", "quiet")
TURN_DETECTION = ("none", "server_vad", "semantic_vad")


@dataclass(frozen=True)
class Spec:
    usage: str
    summary: str
    options: tuple[Opt, ...] = ()
    positionals: int = 0
    examples: tuple[str, ...] = ()
    takes_options: bool = False  # options not listed here (create's come from `rtc create`)

    @property
    def takes_arguments(self) -> bool:
        return bool(self.options or self.positionals or self.takes_options)

    @property
    def words_are_a_message(self) -> bool:
        """Whether ``NAME WORDS`` (no word an option) is chat: nothing but flags to give."""
        flags = all(opt.metavar is None for opt in self.options)
        return flags and not self.positionals and not self.takes_options


SESSION_OPTIONS = (
    Opt("--instructions", "TEXT", "instructions for every response"),
    Opt("--modality", "text|audio", "output modality", MODALITIES),
    Opt("--voice", "VOICE", "output voice", VOICES),
    Opt("--turn-detection", "MODE", "none, server_vad or semantic_vad", TURN_DETECTION),
    Opt("--set", "PATH=VALUE", "PATH=VALUE (string) or PATH:=JSON into the session", repeat=True),
)

COMMANDS: dict[str, Spec] = {
    "create": Spec(
        "create [PROMPT] [options]",
        "send response.create with the options of `rtc create` (+ --force); returns at once",
        positionals=1,
        takes_options=True,
        examples=(
            "create --instructions 'Say hello'",
            "create 'What is 2+2?' --modality text -m run=1",
            "create --conversation none -i 'Summarise' --cancel-after 2",
        ),
    ),
    "cancel": Spec(
        "cancel [RESPONSE_ID] [--all]",
        "send response.cancel (default: the active default-conversation response)",
        (Opt("--all", help="cancel every active response, each by id"),),
        1,
    ),
    "session": Spec(
        "session [options]",
        "send session.update; with no options show the session",
        SESSION_OPTIONS,
        examples=(
            "session --modality text --turn-detection none",
            "session --set audio.output.speed:=1.2",
        ),
    ),
    "items": Spec("items", "list the conversation items"),
    "delete": Spec("delete ITEM_ID", "send conversation.item.delete", positionals=1),
    "retrieve": Spec("retrieve ITEM_ID", "send conversation.item.retrieve", positionals=1),
    "responses": Spec(
        "responses [--totals]",
        "a table of every response in this session",
        (Opt("--totals", None, "the session's totals: responses by status, tokens, cost"),),
    ),
    "events": Spec(
        "events [--type GLOB] [--last N]",
        "list the event log (sent → and received ←)",
        (
            Opt("--type", "GLOB", "only types matching GLOB, e.g. 'response.*'"),
            Opt("--last", "N", "how many (default 30)"),
        ),
    ),
    "show": Spec("show ID", "the full JSON of an event (event_id), item or response", (), 1),
    "view": Spec("view events|responses|quiet", "what to print as events arrive", (), 1),
    "reconnect": Spec("reconnect", "close this connection and open a new session"),
    "help": Spec("help [COMMAND]", "this help, or one command's", (), 1),
    "quit": Spec("quit", "close the session (code 1000) and leave; also exit, Ctrl-D"),
}
ALIASES = {"exit": "quit"}
HELP_FLAGS = ("--help", "-h")  # after any command: that command's help

# How a typed line is read (the overview of `help` shows these; ``classify`` does them).
_NO_ARGUMENTS = [
    *(name for name, spec in COMMANDS.items() if spec.words_are_a_message),
    *(alias for alias, name in ALIASES.items() if COMMANDS[name].words_are_a_message),
]
LINE_RULES = (
    ("{...  [...", "raw client events: an object, an array of them, or several in a row"),
    ("NAME ...", "a command: the first word is a command name, or /NAME"),
    (
        "NAME WORDS",
        f"a message when NAME takes no arguments ({', '.join(_NO_ARGUMENTS)}): "
        '"quit smoking tips" is sent, not obeyed',
    ),
    ("anything else", "a message; create 'TEXT' sends any text as one"),
)

KEYS = (
    ("Enter", "send the line; inside an unfinished {JSON} it starts a new line"),
    ("Alt-Enter", "new line without sending"),
    ("Ctrl-C", "cancel active responses; clear the line; twice on an empty line: leave (130)"),
    ("Ctrl-D", "on an empty line: leave"),
    ("Tab", "complete commands, options, values, ids and event types"),
    ("Ctrl-R", "search the history"),
)
