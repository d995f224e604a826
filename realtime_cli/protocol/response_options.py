"""From command options to a validated ``response.create``: one grammar for the shell and the REPL.

``cli.py`` declares the options (typer); this module turns their values into the event, so the
console's ``create`` and ``rtc create`` build exactly the same thing. Errors are ``UsageError``s
whose one-line message names the option and the reason.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realtime_cli.errors import UsageError
from realtime_cli.protocol import events
from realtime_cli.protocol.events import JSON, Refused, loads
from realtime_cli.protocol.validate import validate


@dataclass
class ResponseOptions:
    """The response fields rtc has a dedicated option for; ``sets`` reaches every other field."""

    instructions: str | None = None
    modality: str | None = None
    conversation: str | None = None
    metadata: Sequence[str] = ()
    inputs: Sequence[str] = ()
    max_output_tokens: str | None = None
    voice: str | None = None
    tools_file: Path | None = None
    tool_choice: str | None = None
    tool_specs: Sequence[str] = ()  # --tool 'NAME(FIELD: TYPE)' signatures
    sets: Sequence[str] = field(default_factory=list)


def parse_pair(text: str, option: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise UsageError(f"{option} takes KEY=VALUE, got {text!r}")
    return key, value


def parse_max_output_tokens(text: str) -> int | str:
    if text.strip().lower() == "inf":
        return "inf"
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f'--max-output-tokens takes 1-4096 or "inf", got {text!r}') from None
    return value


def load_tools(path: Path) -> list[Any]:
    """A JSON file with a list of tools, or an object with a ``tools`` list."""
    try:
        data = loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--tools: cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"--tools: {path} is not UTF-8 text (byte {exc.start}: {exc.reason})"
        ) from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--tools: {path}:{exc.lineno}:{exc.colno}: {exc.msg}") from None
    except Refused as exc:  # NaN, Infinity, 1e999, nested too deeply
        raise UsageError(f"--tools: {path}: {exc.reason}") from None
    if isinstance(data, dict) and isinstance(data.get("tools"), list):
        data = data["tools"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise UsageError(f"--tools: {path} must hold a JSON list of tools")
    return data


def _split_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for part in path.split("."):
        if not part:
            raise UsageError(f"--set: empty segment in path {path!r}")
        parts.append(int(part) if part.isdigit() else part)
    return parts


def set_path(target: JSON, assignment: str, *, prefix: str) -> None:
    """httpie style: ``PATH=VALUE`` sets a string, ``PATH:=JSON`` any JSON value.

    ``target`` is the object named ``prefix`` ("response" for ``create``, "session" for the
    console's ``session`` and for profiles): a path may start with that name, as the field is
    named in the event (``response.metadata.k``), which is then dropped. Every caller passes it,
    so ``--set session.x`` means the same wherever the target is the session.
    """
    # The first "=" splits; a ":" just before it marks a JSON value (VALUE may hold "=" or ":=").
    raw = assignment.partition("=")[0].endswith(":")
    path, sep, value_text = assignment.partition(":=" if raw else "=")
    if not sep or not path:
        raise UsageError(f"--set takes PATH=VALUE or PATH:=JSON, got {assignment!r}")
    path = path.removeprefix(prefix + ".")
    value: Any = value_text
    if raw:
        try:
            value = loads(value_text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--set {path}: not JSON ({exc.msg} at column {exc.colno})") from None
        except Refused as exc:  # NaN, Infinity, 1e999, nested too deeply
            raise UsageError(f"--set {path}: {exc.reason}") from None
    node: Any = target
    keys = _split_path(path)
    for key, next_key in itertools.pairwise(keys):
        container = node[key] if _has(node, key) else None
        if container is None:
            container = [] if isinstance(next_key, int) else {}
            _put(node, key, container, path)
        node = container
    _put(node, keys[-1], value, path)


def _has(node: Any, key: str | int) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(node, list) and isinstance(key, int) and key < len(node)


def _put(node: Any, key: str | int, value: Any, path: str) -> None:
    if isinstance(node, dict) and isinstance(key, str):
        node[key] = value
    elif isinstance(node, list) and isinstance(key, int) and key <= len(node):
        if key == len(node):
            node.append(value)
        else:
            node[key] = value
    else:
        raise UsageError(f"--set {path}: cannot set {key!r} inside {type(node).__name__}")


def build_response(options: ResponseOptions) -> JSON:
    """The ``response`` object of a ``response.create``: dedicated options first, then ``--set``."""
    response: JSON = {}
    if options.instructions is not None:
        response["instructions"] = options.instructions
    if options.modality:
        response["output_modalities"] = [options.modality]
    if options.conversation:
        response["conversation"] = options.conversation
    if options.metadata:
        response["metadata"] = dict(parse_pair(m, "--metadata") for m in options.metadata)
    if options.inputs:
        response["input"] = [events.user_message(text) for text in options.inputs]
    if options.max_output_tokens is not None:
        response["max_output_tokens"] = parse_max_output_tokens(options.max_output_tokens)
    if options.voice:
        response["audio"] = {"output": {"voice": options.voice}}
    if options.tools_file is not None:
        response["tools"] = load_tools(options.tools_file)
    if options.tool_specs:
        from realtime_cli.protocol.tool_spec import parse_tool

        response["tools"] = [*response.get("tools", []), *map(parse_tool, options.tool_specs)]
    if options.tool_choice:
        choice = options.tool_choice
        response["tool_choice"] = (
            choice if choice in events.TOOL_CHOICE_MODES else {"type": "function", "name": choice}
        )
    for assignment in options.sets:
        set_path(response, assignment, prefix="response")
    return response


def checked(event: JSON) -> JSON:
    """The event itself when valid; otherwise a ``UsageError`` naming the field and the reason."""
    problem = validate(event)
    if problem:
        raise UsageError(f"invalid {event.get('type', 'event')}: {problem}")
    return event


def set_paths(sets: Sequence[str], prefix: str = "response") -> list[str]:
    """The dotted paths ``--set`` assignments write, as the validator names them."""
    paths = []
    for assignment in sets:
        raw = assignment.partition("=")[0].endswith(":")
        path = assignment.partition(":=" if raw else "=")[0].removeprefix(prefix + ".")
        paths.append(f"{prefix}.{path}")
    return paths


def checked_sets(event: JSON, written: Sequence[str]) -> list[str]:
    """Validate ``event``, forgiving only fields rtc does not know that ``--set`` wrote on
    purpose (``written``: ``set_paths``): a server newer than rtc, or another vendor's, may
    know them. Returns a warning for each such field; any other problem is a ``UsageError``."""
    warnings: list[str] = []
    probe = copy.deepcopy(event)
    while problem := validate(probe):
        chosen = problem.code == "unknown_parameter" and any(
            problem.param == path or path.startswith(problem.param + ".") for path in written
        )
        if not chosen:
            raise UsageError(f"invalid {event.get('type', 'event')}: {problem}")
        warnings.append(
            f"{problem.param} is not a field rtc knows; sent anyway, as --set asked"
            " (a typo shows up as the server's error)"
        )
        _drop(probe, problem.param)
    return warnings


def _drop(event: JSON, param: str) -> None:
    *parents, last = _split_path(param)
    node: Any = event
    for key in parents:
        node = node[key]
    del node[last]
