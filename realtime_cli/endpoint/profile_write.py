"""Adding a profile to ``config.toml`` (``rtc profile add``), with a tiny TOML writer of our own.

The file keeps what the user wrote (comments, order); the new profile's table is appended, or
replaces the old one with ``--force``. The file is written with mode 0600: it may hold how to
get a key, or (if the user insists) a key.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from realtime_cli.endpoint.profiles import FieldError, header_name, load, read_profile
from realtime_cli.endpoint.toml_text import BARE_KEY, dumps, table_text, value_text
from realtime_cli.errors import UsageError


def _has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_null(v) for v in value)
    return False


def add_profile(
    directory: Path,
    name: str,
    table: Mapping[str, Any],
    *,
    replace: bool = False,
    make_default: bool = False,
) -> Path:
    """Add ``[profiles.NAME]`` to the config file (created with mode 0600).

    A new profile is appended to the file as it is, so comments and layout stay; a replaced one
    is cut out of the text first. The result is read back: if it is not exactly what was meant,
    the file is written whole from the parsed data instead (comments are then lost).
    """
    if not BARE_KEY.fullmatch(name):
        raise UsageError(f"profile name {name!r}: use letters, digits, '-' and '_'")
    current = load(directory)
    if name in current.profiles and not replace:
        raise UsageError(f"{current.path}: profile {name!r} exists (--force replaces it)")
    entry = {k: v for k, v in table.items() if v not in (None, {}, [], ())}
    if isinstance(entry.get("session"), dict) and _has_null(entry["session"]):
        entry["session"] = json.dumps(entry["session"], ensure_ascii=False)
    # Check it the way it will be read back.
    try:
        checked = read_profile(name, dict(entry), None)
    except FieldError as exc:
        raise UsageError(f"profile {name!r}: {exc.message}") from None
    if checked.session is not None:  # as connecting will: sent as a session.update
        from realtime_cli.protocol.validate import validate

        problem = validate({"type": "session.update", "session": dict(checked.session)})
        if problem:
            raise UsageError(f"profile {name!r}: invalid session settings: {problem}")
    entry = {"kind": checked.kind, **entry}  # written out, so the file says what it is
    expected = dict(current.data)
    profiles = dict(expected.get("profiles", {}))
    profiles[name] = _plain(entry)
    expected["profiles"] = profiles
    if make_default:
        expected = {**expected, "default_profile": name}
    text = current.path.read_text(encoding="utf-8") if current.exists else ""
    if name in current.profiles:
        text = _cut_profile(text, name)
    if make_default:
        text = _set_default(text, name)
    fragment = table_text(["profiles", name], entry)
    text = text.rstrip("\n") + "\n" + fragment if text.strip() else fragment.lstrip("\n")
    with contextlib.suppress(tomllib.TOMLDecodeError):
        if tomllib.loads(text) == expected:
            _write(current.path, text)
            return current.path
    _write(current.path, dumps(expected))
    return current.path


def _plain(value: Any) -> Any:
    """What tomllib would read back for ``value`` (tuples become lists)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _cut_profile(text: str, name: str) -> str:
    """The text without ``[profiles.NAME]`` and its sub-tables (best effort; checked later)."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("["):
            header = header_name(stripped)
            skipping = header == f"profiles.{name}" or header.startswith(f"profiles.{name}.")
        if not skipping:
            kept.append(line)
    return "".join(kept)


def _set_default(text: str, name: str) -> str:
    line = f"default_profile = {value_text(name)}\n"
    lines = text.splitlines(keepends=True)
    for index, raw in enumerate(lines):
        stripped = raw.strip()
        if stripped.startswith("["):
            break
        if re.match(r"default_profile\s*=", stripped):
            lines[index] = line
            return "".join(lines)
    return line + ("\n" if text.strip() else "") + text


def _write(path: Path, text: str) -> None:
    """Write atomically with mode 0600 (the directory 0700 when rtc creates it)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config.", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
