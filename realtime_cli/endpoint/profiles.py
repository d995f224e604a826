"""``config.toml``: named connection profiles. Find the file, read it (tomllib) and check it;
``profile_add.py`` adds a profile to it.

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

    [profiles.work.tool_handlers]        # as --tool-handler NAME=COMMAND (flags win by name)
    get_weather = "python3 weather.py"

Every problem is a ``UsageError`` (exit 2) naming the file and, when it can be found, the line.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from realtime_cli.errors import UsageError
from realtime_cli.protocol.prices import parse_model_prices, parse_rates
from realtime_cli.protocol.redact import redact_url

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
    "ping_interval",
    "ping_timeout",
    "tool_handlers",
    "prices",
)
_TOP_KEYS = ("default_profile", "profiles", "prices")
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
    ping_interval: float | None = None  # keepalive (endpoint.PING_INTERVAL when not given)
    ping_timeout: float | None = None
    # [profiles.NAME.tool_handlers]: tool name ("*": any) → COMMAND, as --tool-handler takes it.
    tool_handlers: Mapping[str, str] = field(default_factory=dict, repr=False)
    line: int | None = None
    prices: Mapping[str, float] | None = None  # USD per 1M tokens (protocol.prices)

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
            profiles[name] = read_profile(name, table, _line_of(lines, where, None))
        except FieldError as exc:
            raise fail(f"profile {name!r}: {exc.message}", where, exc.key) from None
    try:
        parse_model_prices(data.get("prices", {}))
    except ValueError as exc:
        raise fail(str(exc), None, "prices") from None
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
            current = header_name(line)
            if key is None and current == table:
                return number
            continue
        if key is not None and current == table:
            name = line.split("=", 1)[0].strip().strip("\"'")
            if "=" in line and name == key:
                return number
    return None


def header_name(line: str) -> str:
    inner = line.strip("[]").split("#", 1)[0].strip().rstrip("]").strip()
    parts = [p.strip().strip("\"'") for p in inner.split(".")]
    return ".".join(parts)


class FieldError(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def read_profile(name: str, table: dict[str, Any], line: int | None) -> Profile:
    for key in table:
        if key not in PROFILE_KEYS:
            raise FieldError(key, f"unknown key {key!r} (known: {', '.join(PROFILE_KEYS)})")
    values: dict[str, Any] = {}
    for key in _STR_KEYS:
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            raise FieldError(key, f"{key} must be a non-empty string")
        values[key] = value
    kind = values.pop("kind") or _infer_kind(values)
    if kind not in KINDS:
        raise FieldError("kind", f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if values["key_env"] is not None and not _ENV_NAME.fullmatch(values["key_env"]):
        # Never echo it: a key pasted here by mistake must not end up in a message.
        raise FieldError("key_env", "key_env must name an environment variable, not hold a key")
    if values["auth"] is not None and values["auth"] not in AUTH_MODES:
        raise FieldError("auth", f"auth must be one of {', '.join(AUTH_MODES)}")
    if kind == "url" and not values["url"]:
        raise FieldError("kind", "kind 'url' needs url = \"wss://...\"")
    command = table.get("key_command")
    if sum(table.get(k) is not None for k in ("key_env", "key_command", "api_key")) > 1:
        raise FieldError("key_env", "give one of key_env, key_command and api_key")
    if command is not None:
        command = _command(command)
    timeout = table.get("key_command_timeout", DEFAULT_KEY_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise FieldError("key_command_timeout", "key_command_timeout must be seconds > 0")
    headers = table.get("headers", {})
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise FieldError("headers", 'headers must be a table of strings: {"Name" = "value"}')
    protocols = table.get("subprotocols", [])
    if not isinstance(protocols, list) or not all(isinstance(p, str) and p for p in protocols):
        raise FieldError("subprotocols", "subprotocols must be a list of strings")
    session = _session(table.get("session"))
    handlers = table.get("tool_handlers", {})
    if not isinstance(handlers, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v.strip() for k, v in handlers.items()
    ):
        raise FieldError(
            "tool_handlers", 'tool_handlers must be a table of commands: {get_weather = "..."}'
        )
    prices = None
    if table.get("prices") is not None:
        try:
            prices = parse_rates(table["prices"], f"profiles.{name}.prices")
        except ValueError as exc:
            raise FieldError("prices", str(exc)) from None
    return Profile(
        name=name,
        kind=kind,
        key_command=command,
        key_command_timeout=float(timeout),
        headers=dict(headers),
        subprotocols=tuple(protocols),
        session=session,
        tool_handlers=dict(handlers),
        line=line,
        ping_interval=_seconds(table, "ping_interval"),
        ping_timeout=_seconds(table, "ping_timeout"),
        prices=prices,
        **values,
    )


def _seconds(table: dict[str, Any], key: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e6:
        raise FieldError(key, f"{key} must be seconds >= 0 (0 turns pings off)")
    return float(value)


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
    raise FieldError(
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
            raise FieldError("session", f"session is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise FieldError("session", "session must be a table (or a JSON object as a string)")
    return {"type": "realtime", **value}
