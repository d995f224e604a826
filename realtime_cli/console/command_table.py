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
    Opt("--instructions", "TEXT", "instructions for every response", short="-i"),
    Opt("--modality", "text|audio", "output modality", MODALITIES),
    Opt("--voice", "VOICE", "output voice", VOICES),
    Opt("--turn-detection", "MODE", "none, server_vad or semantic_vad", TURN_DETECTION),
    Opt("--tools", "FILE", "JSON file with a list of tools (session.tools)", kind="file"),
    Opt(
        "--set",
        "PATH=VALUE",
        "PATH=VALUE (string) or PATH:=JSON into the session",
        repeat=True,
        short="-s",
    ),
)

# An id rtc has never seen is refused locally; --force sends it (the server may know more).
FORCE_ID = Opt("--force", help="send even if this session has never seen that id")

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
        "cancel [RESPONSE_ID] [--all] [--force]",
        "send response.cancel (default: the active default-conversation response)",
        (Opt("--all", help="cancel every active response, each by id"), FORCE_ID),
        1,
        examples=("cancel", "cancel --all", "cancel resp_ABC --force"),
    ),
    "session": Spec(
        "session [options]",
        "send session.update; with no options show the session",
        SESSION_OPTIONS,
        examples=(
            "session --modality text --turn-detection none",
            "session --set audio.output.speed:=1.2",
            "session -i 'Be brief' --tools tools.json",
        ),
    ),
    # Voice (console/voice.py)
    "audio": Spec(
        "audio FILE [--fast]",
        "send FILE (WAV; MP3/FLAC/Ogg with the audio extra) as your spoken turn, in real time",
        (Opt("--fast", help="send it at once instead of in real time"),),
        1,
        examples=("audio question.wav", "audio ~/hello.mp3 --fast"),
    ),
    "save": Spec(
        "save RESPONSE_ID FILE.wav",
        "write a response's output audio to a WAV file",
        (),
        2,
        examples=("save resp_ABC reply.wav",),
    ),
    "play": Spec(
        "play RESPONSE_ID",
        "play a response's audio (needs the audio extra)",
        (),
        1,
        examples=("play resp_ABC",),
    ),
    "mic": Spec(
        "mic [on|off]",
        "the microphone (audio extra): push-to-talk without turn detection, else hands-free;"
        " Ctrl-T toggles",
        (),
        1,
        examples=("mic on", "mic off"),
    ),
    "raw": Spec(
        "raw {JSON}",
        "send client events as typed, without validating them (beta or other vendors' servers)",
        positionals=1,
        examples=('raw {"type": "response.create", "response": {"new_field": 1}}',),
        takes_options=True,
    ),
    "items": Spec("items", "list the conversation items", examples=("items",)),
    "delete": Spec(
        "delete ITEM_ID [--force]",
        "send conversation.item.delete",
        (FORCE_ID,),
        positionals=1,
        examples=("delete item_ABC", "delete item_ABC --force"),
    ),
    "retrieve": Spec(
        "retrieve ITEM_ID [--force]",
        "send conversation.item.retrieve",
        (FORCE_ID,),
        positionals=1,
        examples=("retrieve item_ABC",),
    ),
    "responses": Spec(
        "responses [--totals]",
        "a table of every response in this session",
        (Opt("--totals", None, "the session's totals: responses by status, tokens, cost"),),
        examples=("responses", "responses --totals"),
    ),
    "events": Spec(
        "events [--type GLOB] [--last N]",
        "list the event log (sent → and received ←)",
        (
            Opt("--type", "GLOB", "only types matching GLOB, e.g. 'response.*'"),
            Opt("--last", "N", "how many (default 30)"),
        ),
        examples=("events --type 'response.*' --last 10", "events --last 5"),
    ),
    "show": Spec(
        "show ID",
        "the full JSON of an event (event_id), item or response",
        (),
        1,
        examples=("show resp_ABC", "show rtc_2", "show item_ABC"),
    ),
    "view": Spec(
        "view events|responses|quiet",
        "what to print as events arrive",
        (),
        1,
        examples=("view responses",),
    ),
    "reconnect": Spec(
        "reconnect", "close this connection and open a new session", examples=("reconnect",)
    ),
    "clear": Spec(
        "clear",
        "clear the screen (events and show still list what scrolled away)",
        examples=("clear",),
    ),
    "help": Spec("help [COMMAND]", "this help, or one command's", (), 1, examples=("help create",)),
    "quit": Spec(
        "quit", "close the session (code 1000) and leave; also exit, Ctrl-D", examples=("quit",)
    ),
    # -- the tool loop (issue 13) --
    "tool-output": Spec(
        "tool-output [--no-create] CALL_ID TEXT|@FILE|{JSON}",
        "send a function_call_output for a pending call, then response.create",
        (Opt("--no-create", help="send only the output; response.create is up to you"),),
        2,
        examples=("tool-output call_abc Sunny, 21 C", 'tool-output call_abc {"temp": 21}'),
    ),
    "calls": Spec(
        "calls",
        "the pending function calls with their arguments (and MCP requests)",
        examples=("calls",),
    ),
    "approve": Spec(
        "approve ID",
        "run the handler of a call waiting for approval; or approve an MCP request",
        positionals=1,
        examples=("approve call_abc", "approve mcpr_abc"),
    ),
    "deny": Spec(
        "deny ID",
        "do not run that handler (the model hears so); or deny an MCP request",
        positionals=1,
        examples=("deny call_abc",),
    ),
    # -- end of the tool loop's commands --
    "replay-items": Spec(
        "replay-items",
        "after a reconnect: re-create the earlier text messages, in order",
        examples=("replay-items",),
    ),
}
ALIASES = {"exit": "quit"}
HELP_FLAGS = ("--help", "-h")  # after any command: that command's help

# How a typed line is read (the overview of `help` shows these; ``classify`` does them).
# Each alias right after its command ("quit, exit"): read together, they say the same.
_NO_WORDS = [
    spelling
    for name, spec in COMMANDS.items()
    if spec.words_are_a_message
    for spelling in (name, *(alias for alias, target in ALIASES.items() if target == name))
]
LINE_RULES = (
    ("{...  [...", "raw client events: an object, an array of them, or several in a row"),
    ("NAME ...", "a command: the first word is a command name, or /NAME"),
    (
        "NAME WORDS",
        f"a message when NAME takes nothing but options ({', '.join(_NO_WORDS)}) and a"
        ' word is not written as an option: "quit smoking tips", "responses to criticism"'
        ' are sent, not obeyed ("/NAME WORDS" is always the command)',
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
    ("Ctrl-T", "push-to-talk: start the microphone; again: stop and send (audio extra)"),
)
