"""The enumerated values of client-event fields (protocol.md §3), spelled as the protocol spells
them. Apart from ``events`` (which re-exports them) so that the ``create`` grammar can offer them
to ``rtc --help`` without loading the event catalog's JSON machinery."""

from __future__ import annotations

VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
MODALITIES = ("text", "audio")
TOOL_CHOICE_MODES = ("auto", "none", "required")
CONVERSATION_MODES = ("auto", "none")
