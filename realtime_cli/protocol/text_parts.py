"""Text that grows by many small pieces (a response's deltas), in O(1) amortised per piece.

``s += delta`` copies the whole text at every delta once anything else holds a reference to it
(an attribute does): a million deltas cost minutes. Here the pieces are kept in a list and
joined only when the whole text is read; the joined string then replaces the pieces, so reading
it again costs nothing, and the end of the text (what a live view shows) is read without joining.
"""

from __future__ import annotations

from typing import Any


class TextParts:
    __slots__ = ("_length", "_parts")

    def __init__(self, text: str = "") -> None:
        self._parts: list[str] = [text] if text else []
        self._length = len(text)

    def append(self, piece: str) -> None:
        if piece:
            self._parts.append(piece)
            self._length += len(piece)

    def __len__(self) -> int:
        return self._length

    def __bool__(self) -> bool:
        return self._length > 0

    def __str__(self) -> str:
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def tail(self, chars: int) -> str:
        """The last ``chars`` characters, joining only the pieces they span."""
        if chars <= 0:
            return ""
        taken: list[str] = []
        size = 0
        for piece in reversed(self._parts):
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
