"""The default conversation: ordered items, plus the audio the model spoke into them."""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass, field

from realtime_cli.audio import codecs as audio
from realtime_cli.protocol.events import JSON, new_id
from realtime_cli.server.model import WORD_MS, words
from realtime_cli.server.wire import Rejected, not_found

ROOT = "root"
# Item types the service stamps with ``object`` and ``status`` (MCP items carry neither).
_STAMPED = frozenset({"message", "function_call", "function_call_output"})


@dataclass
class Track:
    """Audio the model produced for an assistant item, kept as bytes until someone retrieves it."""

    data: bytearray
    format_type: str
    word_ms: float = WORD_MS  # how long each word of the transcript sounds

    @property
    def ms(self) -> float:
        return audio.duration_ms(len(self.data), self.format_type)


@dataclass
class Conversation:
    id: str = field(default_factory=lambda: new_id("conv"))
    items: list[JSON] = field(default_factory=list)
    tracks: dict[str, Track] = field(default_factory=dict)

    def _index(self, item_id: str) -> int | None:
        return next((i for i, item in enumerate(self.items) if item.get("id") == item_id), None)

    def get(self, item_id: str, param: str = "item_id") -> JSON:
        index = self._index(item_id)
        if index is None:
            raise not_found(item_id, param)
        return self.items[index]

    def contains(self, item_id: str) -> bool:
        return self._index(item_id) is not None

    def previous_id(self, item_id: str) -> str | None:
        """The id of the item before this one (None when it is first or absent)."""
        index = self._index(item_id)
        return self.items[index - 1].get("id") if index else None

    def insert(self, item: JSON, previous_item_id: str | None = None) -> str | None:
        """Put an item after ``previous_item_id`` (``"root"``: first; None: last).

        Returns the id of the item now before it (None when it is first).
        """
        if previous_item_id is None:
            position = len(self.items)
        elif previous_item_id == ROOT:
            position = 0
        else:
            found = self._index(previous_item_id)
            if found is None:
                raise not_found(previous_item_id, "previous_item_id")
            position = found + 1
        self.items.insert(position, item)
        return self.items[position - 1].get("id") if position else None

    def delete(self, item_id: str) -> None:
        index = self._index(item_id)
        if index is None:
            raise not_found(item_id, "item_id")
        del self.items[index]
        self.tracks.pop(item_id, None)

    def retrieve(self, item_id: str) -> JSON:
        """The full item, with the audio the model spoke into it."""
        item = copy.deepcopy(self.get(item_id))
        track = self.tracks.get(item_id)
        if track is not None:
            for part in item.get("content", []):
                if part.get("type") == "output_audio":
                    part["audio"] = base64.b64encode(track.data).decode("ascii")
        return item

    def truncate(self, item_id: str, content_index: int, audio_end_ms: int) -> None:
        item = self.get(item_id)
        if item.get("type") != "message" or item.get("role") != "assistant":
            raise Rejected(
                "invalid_value",
                "Only assistant messages can be truncated.",
                "item_id",
            )
        content = item.get("content", [])
        track = self.tracks.get(item_id)
        part = content[content_index] if content_index < len(content) else None
        if part is None or part.get("type") != "output_audio" or track is None:
            raise Rejected(
                "invalid_value",
                f"Item {item_id} has no audio content at content_index {content_index}.",
                "content_index",
            )
        if audio_end_ms > track.ms:
            raise Rejected(
                "invalid_value",
                f"Audio content of {track.ms:.0f}ms is already shorter than {audio_end_ms}ms",
                "audio_end_ms",
            )
        keep = audio_end_ms * audio.bytes_per_ms(track.format_type)
        del track.data[keep:]
        # The transcript must not hold words the user never heard; each word is WORD_MS long.
        heard = words(part.get("transcript") or "")[: int(audio_end_ms // track.word_ms)]
        part["transcript"] = "".join(heard).rstrip()


def prepare_item(item: JSON, conversation: Conversation) -> JSON:
    """A client item as the conversation stores it: id, ``object`` and ``status`` filled in."""
    prepared = copy.deepcopy(item)
    item_id = prepared.get("id")
    if item_id is not None and conversation.contains(item_id):
        raise Rejected("invalid_value", f"Item with id '{item_id}' already exists.", "item.id")
    # Every item gets an id, so each one can be retrieved, deleted or placed after.
    prepared.setdefault("id", new_id("item"))
    if prepared["type"] in _STAMPED:
        prepared["object"] = "realtime.item"
        prepared["status"] = "completed"
    if prepared["type"] == "function_call":
        prepared.setdefault("call_id", new_id("call"))
    for index, part in enumerate(prepared.get("content", [])):
        if part.get("type") == "output_audio":
            raise Rejected(
                "invalid_value",
                f"Invalid value for 'item.content[{index}].type': assistant audio content "
                "cannot be created by the client.",
                f"item.content[{index}].type",
            )
        if part.get("type") == "input_audio":
            part.setdefault("transcript", None)
    return prepared
