"""Text that grows by many small pieces (a response's deltas), in O(1) amortised per piece.

``s += delta`` copies the whole text at every delta once anything else holds a reference to it
(an attribute does): a million deltas cost minutes. Here the pieces are kept in a list and
joined only when the whole text is read; the joined string then replaces the pieces, so reading
it again costs nothing, and the end of the text (what a live view shows) is read without joining.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

_BLOCK = 1024  # pieces joined into one block: a million tiny str objects would cost ~60 MB


class TextParts:
    __slots__ = ("_blocks", "_length", "_pieces")

    def __init__(self, text: str = "") -> None:
        self._blocks: list[str] = [text] if text else []
        self._pieces: list[str] = []
        self._length = len(text)

    def append(self, piece: str) -> None:
        if piece:
            self._pieces.append(piece)
            self._length += len(piece)
            if len(self._pieces) >= _BLOCK:
                self._blocks.append("".join(self._pieces))
                self._pieces.clear()

    def __len__(self) -> int:
        return self._length

    def __bool__(self) -> bool:
        return self._length > 0

    def __str__(self) -> str:
        if len(self._blocks) + len(self._pieces) > 1:
            self._blocks = ["".join(self._blocks + self._pieces)]
            self._pieces.clear()
        elif self._pieces:
            self._blocks, self._pieces = self._pieces[:], []
        return self._blocks[0] if self._blocks else ""

    def tail(self, chars: int) -> str:
        """The last ``chars`` characters, joining only the pieces they span."""
        if chars <= 0:
            return ""
        taken: list[str] = []
        size = 0
        for piece in chain(reversed(self._pieces), reversed(self._blocks)):
            taken.append(piece)
            size += len(piece)
            if size >= chars:
                break
        return "".join(reversed(taken))[-chars:]


class TextField:
    """A dataclass field holding a ``TextParts``, read and assigned as a plain ``str``
    (``response.text = "..."``, ``ResponseState(text=...)``); ``parts(obj)`` is the builder."""

    def __set_name__(self, owner: Any, name: str) -> None:
        self._name = f"_{name}_parts"

    def __get__(self, obj: Any, owner: Any = None) -> str:
        if obj is None:  # the dataclass asks the class for the field's default
            return ""
        return str(self.parts(obj))

    def __set__(self, obj: Any, value: str) -> None:
        setattr(obj, self._name, TextParts(value))

    def parts(self, obj: Any) -> TextParts:
        found: TextParts | None = getattr(obj, self._name, None)
        if found is None:
            found = TextParts()
            setattr(obj, self._name, found)
        return found
