"""Adding a profile to ``config.toml`` (``rtc profile add``) with tomlkit, which edits TOML in
place: the file keeps what the user wrote (comments, order, spacing); a new profile's table is
appended, and with ``--force`` an existing one is changed where it stands. The file is written
with mode 0600: it may hold how to get a key, or (if the user insists) a key.
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

import tomlkit
import tomlkit.exceptions
from tomlkit.items import Table

from realtime_cli.endpoint.profiles import FieldError, load, read_profile
from realtime_cli.errors import UsageError

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


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
    if not _BARE_KEY.fullmatch(name):
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
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError:  # load() read it: only a tomlkit quirk gets here
        document = tomlkit.document()
    profiles_table = document.get("profiles")
    if not isinstance(profiles_table, Table):
        profiles_table = tomlkit.table(is_super_table=True)
        document["profiles"] = profiles_table
    old = profiles_table.get(name)
    if isinstance(old, Table):
        _merge(old, entry)  # in place: its position and the comments around it stay
    else:
        profiles_table[name] = _table(entry)
    if make_default:
        document["default_profile"] = name
    text = tomlkit.dumps(document)
    with contextlib.suppress(tomllib.TOMLDecodeError):
        if tomllib.loads(text) == expected:
            _write(current.path, text)
            return current.path
    _write(current.path, tomlkit.dumps(expected))  # layout lost, content right
    return current.path


def _plain(value: Any) -> Any:
    """What tomllib would read back for ``value`` (tuples become lists)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _table(entry: Mapping[str, Any]) -> Table:
    """A new ``[a.b]`` table: plain values, then sub-tables as their own headers."""
    table = tomlkit.table()
    for key, value in entry.items():
        table.add(key, _table(value) if isinstance(value, dict) else _plain(value))
    return table


def _merge(table: Table, entry: Mapping[str, Any]) -> None:
    """Make ``table`` hold exactly ``entry``, changing only what differs: unchanged keys keep
    their comments, a changed value loses its inline comment (it described the old value)."""
    for key in [k for k in table if k not in entry]:
        del table[key]
    for key, value in entry.items():
        current = table.get(key)
        if isinstance(value, dict) and isinstance(current, Table):
            _merge(current, value)
        elif isinstance(value, dict):
            table[key] = _table(value)
        elif current is None or _plain(current.unwrap()) != _plain(value):
            table[key] = _plain(value)
            table[key].trivia.comment = ""
            table[key].trivia.comment_ws = ""


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
