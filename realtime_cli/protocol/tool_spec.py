"""``--tool 'get_weather(city: string, unit?: string)'``: a function tool without a JSON file.

The grammar is a function signature: ``NAME(FIELD: TYPE, ...)``, ``FIELD?`` for an optional
field, TYPE one of the JSON-schema types (``string number integer boolean object array``) or
``TYPE[]`` for an array of them; ``NAME()`` takes no arguments. Text after the closing
parenthesis, after ``-``, is the tool's description. A few lines of regular expressions: no
library parses this little grammar, and a mistake must name the tool and the field.
"""

from __future__ import annotations

import re

from realtime_cli.errors import UsageError
from realtime_cli.protocol.events import JSON

TYPES = ("string", "number", "integer", "boolean", "object", "array")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SIGNATURE = re.compile(r"\s*([^\s(]*)\s*\((.*)\)\s*(?:-\s*(.*?))?\s*", re.DOTALL)
_FIELD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\?)?\s*:\s*(\w+)(\[\])?")


def _schema(type_: str, is_list: bool) -> JSON:
    schema: JSON = {"type": type_}
    if type_ == "object":
        schema["properties"] = {}
    if type_ == "array":
        schema["items"] = {"type": "string"}
    return {"type": "array", "items": schema} if is_list else schema


def parse_tool(spec: str) -> JSON:
    """The function tool a ``--tool`` signature declares; a one-line ``UsageError`` naming the
    tool and the field otherwise."""
    match = _SIGNATURE.fullmatch(spec)
    if match is None:
        raise UsageError(f"--tool {spec.strip()!r}: expected NAME(FIELD: TYPE, ...)")
    name, body, description = match.groups()
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"--tool {name or '(no name)'!r}: a tool name is 1-64 letters, digits, _ or -"
        )
    properties: JSON = {}
    required: list[str] = []
    for position, part in enumerate(body.split(","), 1):
        if not part.strip():
            if body.strip():
                raise UsageError(f"--tool {name}: field {position} is empty")
            continue
        field = _FIELD.fullmatch(part.strip())
        if field is None:
            raise UsageError(
                f"--tool {name}: field {part.strip()!r}: expected FIELD: TYPE or FIELD?: TYPE"
            )
        field_name, optional, type_, is_list = field.groups()
        if type_ not in TYPES:
            raise UsageError(
                f"--tool {name}: field {field_name!r}: unknown type {type_!r}"
                f" (one of {', '.join(TYPES)})"
            )
        if field_name in properties:
            raise UsageError(f"--tool {name}: field {field_name!r} is declared twice")
        properties[field_name] = _schema(type_, bool(is_list))
        if not optional:
            required.append(field_name)
    parameters: JSON = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    tool: JSON = {"type": "function", "name": name, "parameters": parameters}
    if description:
        tool["description"] = description
    return tool
