"""Tab completion in the console: commands, options, values, ids newest first with a hint of
what each is, and file paths after ``--tools``."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from realtime_cli.console import actions
from realtime_cli.console.parse import (
    CompletionContext,
    completions,
    id_hint,
)
from realtime_cli.console.shell import Shell
from realtime_cli.console.tool_calls import tools_of


class ConsoleCompleter(Completer):
    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self._paths = PathCompleter(expanduser=True)

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        shell = self.shell
        before = document.text_before_cursor
        words = before.split()
        fresh = before[-1:].isspace()  # the cursor starts a new word
        if (words[-1:] if fresh else words[-2:-1]) == ["--tools"]:
            # --tools FILE: file paths (only this module may use prompt-toolkit's completer).
            word = "" if fresh else words[-1]
            yield from self._paths.get_completions(Document(word, len(word)), complete_event)
            return
        tracker = shell.session.tracker if shell.session else None
        # Ids newest first (the one just seen is the one usually wanted), each with a hint.
        recent = list(itertools.islice(reversed(shell.log), 200))
        event_types = {str(e.event.get("event_id")): str(e.event.get("type")) for e in recent}
        context = CompletionContext(
            create_options=actions.create_options(),
            response_ids=[r.id for r in reversed(shell.active())],
            all_response_ids=list(reversed(tracker.responses)) if tracker else [],
            item_ids=list(reversed(tracker.items)) if tracker else [],
            event_ids=[str(e.event["event_id"]) for e in recent if e.event.get("event_id")][:50],
            call_ids=tools_of(shell).pending_ids(),
        )
        words, replace = completions(document.text_before_cursor, context)
        for word in words:
            hint = id_hint(word, tracker, event_types) if tracker else ""
            yield Completion(word, start_position=-replace, display_meta=hint or None)
