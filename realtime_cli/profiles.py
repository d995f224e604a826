"""``config.toml``: named connection profiles. Find the file, read it (tomllib), check it, and add
a profile to it (a tiny TOML writer of our own: no dependency).

The file lives in the user's config directory: ``$RTC_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/rtc``,
else ``~/.config/rtc``::

    default_profile = "work"

    [profiles.work]
    kind = "azure"                       # openai | azure | url | local
    azure_endpoint = "https://my-resource.openai.azure.com"
    deployment = "gpt-realtime"
    key_command = ["pass", "show", "azure/work"]

    [profiles.work.session]              # sent as session.update right after connecting
    instructions = "Be brief."

Every problem is a ``UsageError`` (exit 2) naming the file and, when it can be found, the line.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from realtime_cli.config import redact_url
from realtime_cli.errors import UsageError
from realtime_cli.tomlwrite import BARE_KEY, dumps, table_text, value_text

CONFIG_FILE = "config.toml"
KINDS = ("openai", "azure", "url", "local")
AUTH_MODES = ("bearer", "api-key")
DEFAULT_KEY_TIMEOUT = 30.0
_STR_KEYS = (
    "kind",
    "url",
    "base_url",
    "azure_endpoint",
    "deployment",
    "api_version",
    "model",
    "auth",
    "key_env",
    "api_key",
)
PROFILE_KEYS = (
    *_STR_KEYS,
    "key_command",
    "key_command_timeout",
    "headers",
    "subprotocols",
    "session",
)
_TOP_KEYS = ("default_profile", "profiles")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOML_POSITION = re.compile(
    r"^(?P<message>.*?) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$"
)


def config_dir(environ: Mapping[str, str]) -> Path:
    """``$RTC_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/rtc``, else ``~/.config/rtc``."""
    if environ.get("RTC_CONFIG_DIR"):
        return Path(environ["RTC_CONFIG_DIR"])
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "rtc"


@dataclass(frozen=True)
class Profile:
    """One ``[profiles.NAME]`` table, checked. ``line`` is where its table starts (or None)."""

    name: str
    kind: str
    url: str | None = None
    base_url: str | None = None
    azure_endpoint: str | None = None
    deployment: str | None = None
    api_version: str | None = None
    model: str | None = None
    auth: str | None = None
    key_env: str | None = None
    # Fields that may hold a secret are left out of the repr (it ends up in logs and
    # tracebacks): the key, the command that prints it, headers, subprotocols (a key may ride
    # in one), and the session settings (MCP tokens). The URLs are shown redacted below.
    key_command: str | tuple[str, ...] | None = field(default=None, repr=False)
    key_command_timeout: float = DEFAULT_KEY_TIMEOUT
    api_key: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    subprotocols: tuple[str, ...] = field(default=(), repr=False)
    session: Mapping[str, Any] | None = field(default=None, repr=False)
    line: int | None = None

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if not f.repr:
                value = "<set>" if value else value
            elif f.name in ("url", "base_url", "azure_endpoint") and value:
                value = redact_url(value)
            shown.append(f"{f.name}={value!r}")
        return f"Profile({', '.join(shown)})"

    @property
    def has_key_source(self) -> bool:
        return bool(self.key_env or self.key_command or self.api_key)


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    exists: bool
    default_profile: str | None = None
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    # The file as tomllib read it: keys and all, so never in the repr.
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def get(self, name: str) -> Profile:
        """The profile called ``name``; an unknown name is a usage error listing the known ones."""
        if name in self.profiles:
            return self.profiles[name]
        if not self.exists:
            raise UsageError(
                f"no profile {name!r}: {self.path} does not exist "
                f"(create one with: rtc profile add {name} ...)"
            )
        known = ", ".join(self.profiles) or "none"
        raise UsageError(f"{self.path}: no profile {name!r} (profiles: {known})")


# -- reading ---------------------------------------------------------------------------------


def load(directory: Path) -> ConfigFile:
    """Read and check ``directory/config.toml``; a missing file is an empty configuration."""
    path = directory / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ConfigFile(path, exists=False)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return parse(text, path)


def parse(text: str, path: Path) -> ConfigFile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: {_toml_message(str(exc))}") from None
    lines = text.splitlines()

    def fail(message: str, table: str | None = None, key: str | None = None) -> UsageError:
        line = _line_of(lines, table, key)
        return UsageError(f"{path}: " + (f"line {line}: " if line else "") + message)

    for key in data:
        if key not in _TOP_KEYS:
            raise fail(f"unknown key {key!r} (expected: {', '.join(_TOP_KEYS)})", None, key)
    default = data.get("default_profile")
    if default is not None and not isinstance(default, str):
        raise fail("default_profile must be a string", None, "default_profile")
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise fail("profiles must be a table of [profiles.NAME] tables", None, "profiles")
    profiles = {}
    for name, table in tables.items():
        where = f"profiles.{name}"
        if not isinstance(table, dict):
            raise fail(f"profile {name!r} must be a table ([profiles.{name}])", "profiles", name)
        try:
            profiles[name] = _profile(name, table, _line_of(lines, where, None))
        except _FieldError as exc:
            raise fail(f"profile {name!r}: {exc.message}", where, exc.key) from None
    if default is not None and default not in profiles:
        raise fail(f"default_profile {default!r} is not a profile", None, "default_profile")
    return ConfigFile(path, True, default, profiles, data)


def _toml_message(message: str) -> str:
    """tomllib's 'Invalid value (at line 3, column 7)' as 'line 3, column 7: invalid value'."""
    match = _TOML_POSITION.match(message)
    if not match:
        return message
    text = match["message"][:1].lower() + match["message"][1:]
    if match["line"] is None:
        return f"at the end of the file: {text}"
    return f"line {match['line']}, column {match['col']}: {text}"


def _line_of(lines: list[str], table: str | None, key: str | None) -> int | None:
    """Best effort: the line of ``key`` inside ``[table]`` (or of the table header itself)."""
    current: str | None = None
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if line.startswith("["):
            current = _header_name(line)
            if key is None and current == table:
                return number
            continue
        if key is not None and current == table:
            name = line.split("=", 1)[0].strip().strip("\"'")
            if "=" in line and name == key:
                return number
    return None


def _header_name(line: str) -> str:
    inner = line.strip("[]").split("#", 1)[0].strip().rstrip("]").strip()
    parts = [p.strip().strip("\"'") for p in inner.split(".")]
    return ".".join(parts)


class _FieldError(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def _profile(name: str, table: dict[str, Any], line: int | None) -> Profile:
    for key in table:
        if key not in PROFILE_KEYS:
            raise _FieldError(key, f"unknown key {key!r} (known: {', '.join(PROFILE_KEYS)})")
    values: dict[str, Any] = {}
    for key in _STR_KEYS:
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            raise _FieldError(key, f"{key} must be a non-empty string")
        values[key] = value
    kind = values.pop("kind") or _infer_kind(values)
    if kind not in KINDS:
        raise _FieldError("kind", f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if values["key_env"] is not None and not _ENV_NAME.fullmatch(values["key_env"]):
        # Never echo it: a key pasted here by mistake must not end up in a message.
        raise _FieldError("key_env", "key_env must name an environment variable, not hold a key")
    if values["auth"] is not None and values["auth"] not in AUTH_MODES:
        raise _FieldError("auth", f"auth must be one of {', '.join(AUTH_MODES)}")
    if kind == "url" and not values["url"]:
        raise _FieldError("kind", "kind 'url' needs url = \"wss://...\"")
    command = table.get("key_command")
    if sum(table.get(k) is not None for k in ("key_env", "key_command", "api_key")) > 1:
        raise _FieldError("key_env", "give one of key_env, key_command and api_key")
    if command is not None:
        command = _command(command)
    timeout = table.get("key_command_timeout", DEFAULT_KEY_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise _FieldError("key_command_timeout", "key_command_timeout must be seconds > 0")
    headers = table.get("headers", {})
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise _FieldError("headers", 'headers must be a table of strings: {"Name" = "value"}')
    protocols = table.get("subprotocols", [])
    if not isinstance(protocols, list) or not all(isinstance(p, str) and p for p in protocols):
        raise _FieldError("subprotocols", "subprotocols must be a list of strings")
    session = _session(table.get("session"))
    return Profile(
        name=name,
        kind=kind,
        key_command=command,
        key_command_timeout=float(timeout),
        headers=dict(headers),
        subprotocols=tuple(protocols),
        session=session,
        line=line,
        **values,
    )


def _infer_kind(values: Mapping[str, Any]) -> str:
    if values.get("url"):
        return "url"
    if values.get("azure_endpoint"):
        return "azure"
    return "openai"


def _command(value: Any) -> str | tuple[str, ...]:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list) and value and all(isinstance(p, str) for p in value):
        return tuple(value)
    raise _FieldError(
        "key_command", 'key_command must be a list like ["pass", "show", "openai"] or a string'
    )


def _session(value: Any) -> dict[str, Any] | None:
    """The session table; a string is read as JSON (TOML cannot say null)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise _FieldError("session", f"session is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise _FieldError("session", "session must be a table (or a JSON object as a string)")
    return {"type": "realtime", **value}


# -- writing ---------------------------------------------------------------------------------


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
        checked = _profile(name, dict(entry), None)
    except _FieldError as exc:
        raise UsageError(f"profile {name!r}: {exc.message}") from None
    if checked.session is not None:  # as connecting will: sent as a session.update
        from realtime_cli.shapes import validate

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
            header = _header_name(stripped)
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
