"""Schema nodes for JSON values, and the ``Problem`` a failed check reports.

A schema is a tree of small nodes; ``check`` walks it and returns the first ``Problem`` found,
because the Realtime service too rejects a client event whole, naming one parameter. The GA
client-event shapes built from these nodes live in ``shapes.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """Why a client event is invalid.

    ``code`` is the protocol's error code (``unknown_parameter``, ``invalid_value``,
    ``missing_required_parameter``, ``invalid_type``, ``integer_below_min_value``, ...); ``param``
    the dotted path of the field (``response.max_output_tokens``); ``reason`` a lower-case phrase
    for humans (``must be 1-4096 or "inf", got 0``).
    """

    code: str
    param: str
    reason: str

    def __str__(self) -> str:
        return f"{self.param}: {self.reason}" if self.param else self.reason

    @property
    def service_message(self) -> str:
        """The message the way the live service words it (protocol.md §4.7)."""
        if self.code == "unknown_parameter":
            return f"Unknown parameter: '{self.param}'."
        if self.code == "missing_required_parameter":
            return f"Missing required parameter: '{self.param}'."
        if self.code == "invalid_type" and self.param:
            return f"Invalid type for '{self.param}': {self.reason}."
        if not self.param:  # the event as a whole: "The 'type' field is missing."
            return f"{self.reason[:1].upper()}{self.reason[1:]}."
        return f"Invalid value for '{self.param}': {self.reason}."


def show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 40 else text[:37] + "..."


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Node:
    """One schema node. ``check`` returns the first problem under ``path``, or None."""

    expects = "a value"

    def check(self, value: Any, path: str) -> Problem | None:
        raise NotImplementedError

    def _wrong_type(self, value: Any, path: str) -> Problem:
        return Problem("invalid_type", path, f"expected {self.expects}, got {type_name(value)}")


class Anything(Node):
    """Any JSON value (free-form: tool parameters, metadata): only numbers must be finite."""

    def check(self, value: Any, path: str) -> Problem | None:
        stack = [(value, path)]
        while stack:
            node, where = stack.pop()
            if isinstance(node, float) and not math.isfinite(node):
                return _not_finite(node, where)
            if isinstance(node, dict):
                stack += [(v, _join(where, str(k))) for k, v in reversed(node.items())]
            elif isinstance(node, list):
                stack += [(v, _join(where, i)) for i, v in reversed(list(enumerate(node)))]
        return None


def _not_finite(value: float, path: str) -> Problem:
    # JSON has no NaN or Infinity: such a value could not even be sent.
    return Problem("invalid_value", path, f"must be a finite number, got {value}")


@dataclass
class Str(Node):
    enum: tuple[str, ...] = ()
    max_len: int | None = None
    open_enum: bool = False  # enum values are suggestions (voices: custom names are allowed)
    says: str = ""  # the reason for a value outside the enum, when "must be one of" says too little
    expects = "a string"

    def check(self, value: Any, path: str) -> Problem | None:
        if not isinstance(value, str):
            return self._wrong_type(value, path)
        if self.enum and not self.open_enum and value not in self.enum:
            says = self.says or f"must be one of {', '.join(self.enum)}"
            return Problem("invalid_value", path, f"{says}, got {show(value)}")
        if self.max_len is not None and len(value) > self.max_len:
            return Problem(
                "string_above_max_length",
                path,
                f"must be at most {self.max_len} characters, got {len(value)}",
            )
        return None


@dataclass
class Int(Node):
    min: int | None = None
    max: int | None = None
    expects = "an integer"

    def check(self, value: Any, path: str) -> Problem | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return self._wrong_type(value, path)
        if self.min is not None and value < self.min:
            return Problem("integer_below_min_value", path, f"must be >= {self.min}, got {value}")
        if self.max is not None and value > self.max:
            return Problem("integer_above_max_value", path, f"must be <= {self.max}, got {value}")
        return None


@dataclass
class Num(Node):
    min: float | None = None
    max: float | None = None
    expects = "a number"

    def check(self, value: Any, path: str) -> Problem | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return self._wrong_type(value, path)
        if not math.isfinite(value):
            return _not_finite(value, path)
        if self.min is not None and value < self.min:
            return Problem("decimal_below_min_value", path, f"must be >= {self.min}, got {value}")
        if self.max is not None and value > self.max:
            return Problem("decimal_above_max_value", path, f"must be <= {self.max}, got {value}")
        return None


class Bool(Node):
    expects = "a boolean"

    def check(self, value: Any, path: str) -> Problem | None:
        return None if isinstance(value, bool) else self._wrong_type(value, path)


@dataclass
class Const(Node):
    value: Any

    def check(self, value: Any, path: str) -> Problem | None:
        if type_name(value) != type_name(self.value):
            return Problem(
                "invalid_type", path, f"expected {type_name(self.value)}, got {type_name(value)}"
            )
        if value != self.value:
            return Problem("invalid_value", path, f"must be {show(self.value)}, got {show(value)}")
        return None


@dataclass
class Nullable(Node):
    inner: Node

    def check(self, value: Any, path: str) -> Problem | None:
        return None if value is None else self.inner.check(value, path)


@dataclass
class Arr(Node):
    item: Node
    max_items: int | None = None
    min_items: int = 0
    unique: bool = False
    expects = "an array"

    def check(self, value: Any, path: str) -> Problem | None:
        if not isinstance(value, list):
            return self._wrong_type(value, path)
        if len(value) < self.min_items:
            return Problem(
                "array_below_min_length", path, f"must have at least {self.min_items} item(s)"
            )
        if self.max_items is not None and len(value) > self.max_items:
            return Problem(
                "array_above_max_length",
                path,
                f"must have at most {self.max_items} item(s), got {len(value)}",
            )
        if self.unique and len({repr(v) for v in value}) != len(value):
            return Problem("invalid_value", path, "must not repeat a value")
        for index, item in enumerate(value):
            problem = self.item.check(item, _join(path, index))
            if problem:
                return problem
        return None


@dataclass
class Map(Node):
    """A free-form object of string keys (``metadata``, ``headers``)."""

    value: Node
    max_items: int | None = None
    key_max_len: int | None = None
    expects = "an object"

    def check(self, value: Any, path: str) -> Problem | None:
        if not isinstance(value, dict):
            return self._wrong_type(value, path)
        if self.max_items is not None and len(value) > self.max_items:
            return Problem(
                "object_above_max_properties",
                path,
                f"must have at most {self.max_items} keys, got {len(value)}",
            )
        for key, item in value.items():
            if self.key_max_len is not None and len(key) > self.key_max_len:
                return Problem(
                    "string_above_max_length",
                    _join(path, key),
                    f"key must be at most {self.key_max_len} characters, got {len(key)}",
                )
            problem = self.value.check(item, _join(path, key))
            if problem:
                return problem
        return None


@dataclass
class Obj(Node):
    fields: Mapping[str, Node]
    required: tuple[str, ...] = ()
    expects = "an object"

    def check(self, value: Any, path: str) -> Problem | None:
        if not isinstance(value, dict):
            return self._wrong_type(value, path)
        for key in value:
            if key not in self.fields:
                return Problem("unknown_parameter", _join(path, key), "unknown parameter")
        for key in self.required:
            if key not in value:
                return Problem("missing_required_parameter", _join(path, key), "is required")
        for key, item in value.items():
            problem = self.fields[key].check(item, _join(path, key))
            if problem:
                return problem
        return None


@dataclass
class Tagged(Node):
    """A union told apart by one field (``type`` almost always; a message's ``role``)."""

    variants: Mapping[str, Node]
    tag: str = "type"
    default: str | None = None  # the variant used when the tag is absent
    expects = "an object"

    def check(self, value: Any, path: str) -> Problem | None:
        if not isinstance(value, dict):
            return self._wrong_type(value, path)
        tag = value.get(self.tag, self.default)
        if tag is None:
            return Problem("missing_required_parameter", _join(path, self.tag), "is required")
        if not isinstance(tag, str):
            return Problem(
                "invalid_type", _join(path, self.tag), f"expected a string, got {type_name(tag)}"
            )
        variant = self.variants.get(tag)
        if variant is None:
            allowed = ", ".join(self.variants)
            return Problem(
                "invalid_value",
                _join(path, self.tag),
                f"must be one of {allowed}, got {show(tag)}",
            )
        return variant.check(value, path)


@dataclass
class AnyOf(Node):
    """The value must satisfy one of the options; ``says`` names them for the error."""

    options: tuple[Node, ...]
    says: str

    def check(self, value: Any, path: str) -> Problem | None:
        problems = [option.check(value, path) for option in self.options]
        if any(problem is None for problem in problems):
            return None
        # A deeper problem inside the option of the right shape is the more useful one.
        for problem in problems:
            if problem and problem.param != path:
                return problem
        # The code of the one option that took the value's type (0 for 1-4096 or "inf" is
        # integer_below_min_value, as the service says); the reason names every option.
        codes = {p.code for p in problems if p and p.code != "invalid_type"}
        code = codes.pop() if len(codes) == 1 else "invalid_value" if codes else "invalid_type"
        return Problem(code, path, f"must be {self.says}, got {show(value)}")
