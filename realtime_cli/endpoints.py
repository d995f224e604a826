"""Which endpoint to connect to, with which key and headers, and where each setting came from.

Each setting is taken from the first of these that has it (flag > environment > profile >
default; a profile chosen with ``--profile`` is a flag too):

1. flags: ``--url``, ``--api-key``, ``--model``, ``--azure-endpoint``, ``--deployment``,
   ``--api-version``, ``--header``, ``--subprotocol``, ``--call-id``, ``--local``;
2. the profile named by ``--profile``;
3. the environment: ``RTC_URL``, ``AZURE_OPENAI_ENDPOINT``, ``OPENAI_BASE_URL``, ``RTC_MODEL``,
   ``OPENAI_API_VERSION``, and the keys ``OPENAI_API_KEY``, ``AZURE_OPENAI_API_KEY``,
   ``AZURE_OPENAI_AD_TOKEN``;
4. the profile named by ``RTC_PROFILE``, else the file's ``default_profile``;
5. defaults: OpenAI when there is a key, else the built-in local server.

The endpoint's kind comes from the first of these that names one. A profile picked implicitly
(``RTC_PROFILE``/``default_profile``) is ignored when a flag or the environment names the
endpoint, so a profile's key never goes to a server the profile does not describe. No I/O here
except running a profile's ``key_command``, which happens only in ``Selection.endpoint``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from realtime_cli.config import (
    DEFAULT_MODEL,
    KEY_PROTOCOL,
    MIN_SCRUBBED,
    SECRET_QUERY_KEYS,
    Endpoint,
    redact_url,
)
from realtime_cli.errors import ConnectError, UsageError
from realtime_cli.keys import KeySource, Warn, control_name
from realtime_cli.profiles import ConfigFile, Profile
from realtime_cli.shapes import validate

OPENAI_BASE_URL = "https://api.openai.com/v1"
# Header names whose values are secrets: never shown, scrubbed from output.
SECRET_HEADER = re.compile(r"authorization|api-?key|token|secret|cookie|password", re.I)
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name (RFC 9110 token)
_WORD = re.compile(r"[A-Za-z-]{1,40}")  # a header name safe to quote in an error (no key)
# A header value may hold spaces and tabs, not other controls (CR/LF would split the request).
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_STRING_OPTIONS = (
    "url",
    "api_key",
    "model",
    "profile",
    "azure_endpoint",
    "deployment",
    "api_version",
    "call_id",
)


@dataclass(frozen=True)
class ConnectionOptions:
    """The connection flags of every command that connects (``None``/empty: not given)."""

    url: str | None = None
    api_key: str | None = None
    model: str | None = None
    local: bool = False
    profile: str | None = None
    azure_endpoint: str | None = None
    deployment: str | None = None
    api_version: str | None = None
    headers: tuple[str, ...] = ()
    subprotocols: tuple[str, ...] = ()
    call_id: str | None = None


@dataclass
class _Layer:
    """One place settings come from; ``values`` maps a setting to (value, source label)."""

    values: dict[str, tuple[Any, str]] = field(default_factory=dict)
    keys: list[KeySource] = field(default_factory=list)  # in order of preference

    def put(self, name: str, value: Any, source: str) -> None:
        if value not in (None, "", (), {}):
            self.values[name] = (value, source)


@dataclass(frozen=True)
class Selection:
    """The chosen endpoint before its key is fetched; ``sources`` says where each setting came
    from (for ``rtc config``). ``endpoint()`` gets the key (maybe running a command)."""

    kind: str  # openai | azure | url | local
    url: str | None
    model: str
    key: KeySource | None
    bearer: bool
    headers: Mapping[str, str]
    subprotocols: tuple[str, ...]
    session: Mapping[str, Any] | None
    sources: Mapping[str, str]
    profile: Profile | None
    config: ConfigFile | None
    environ: Mapping[str, str]

    def __repr__(self) -> str:
        """No secret: the URL redacted, where the key comes from (not the key), header names
        only; the environment, the profile and the config file are left out."""
        url = redact_url(self.url) if self.url else None
        profile = self.profile.name if self.profile else None
        return (
            f"Selection(kind={self.kind!r}, url={url!r}, model={self.model!r}, key={self.key!r}, "
            f"headers={list(self.headers)!r}, profile={profile!r})"
        )

    def endpoint(self, warn: Warn = lambda line: None) -> Endpoint:
        """The endpoint to connect to. No key for OpenAI or Azure is a ``ConnectError``."""
        key = self.key.get(self.environ, warn) if self.key else None
        if not key and self.kind in ("openai", "azure"):
            raise ConnectError(self.missing_key())
        headers: dict[str, str] = {}
        if key:
            headers = {"Authorization": f"Bearer {key}"} if self.bearer else {"api-key": key}
        _merge(headers, self.headers)
        secrets = [key] if key else []
        secrets += [_credential(v) for name, v in headers.items() if SECRET_HEADER.search(name)]
        secrets += [p[len(KEY_PROTOCOL) :] for p in self.subprotocols if p.startswith(KEY_PROTOCOL)]
        if self.url:
            query = parse_qsl(urlsplit(self.url).query, keep_blank_values=True)
            secrets += [v for k, v in query if k.lower() in SECRET_QUERY_KEYS]
        secrets += tool_secrets(self.session)
        return Endpoint(
            self.url,
            self.model,
            headers,
            self.subprotocols,
            # Very short values are left out: "abc" cannot be told from ordinary text, and
            # scrubbing it everywhere would garble the output (config.MIN_SCRUBBED).
            tuple(s for s in dict.fromkeys(secrets) if len(s) >= MIN_SCRUBBED),
            session=self.session,
        )

    def missing_key(self) -> str:
        where = self.sources.get("kind", "")
        if self.kind == "azure":
            return (
                f"no key for Azure OpenAI at {_host(self.url)}: export AZURE_OPENAI_API_KEY "
                "(sent as api-key) or AZURE_OPENAI_AD_TOKEN (a Microsoft Entra token), pass "
                "--api-key, or give the profile key_env or key_command"
            )
        if self.profile is not None and where.startswith(("--profile", "profile")):
            return (
                f"no API key for profile {self.profile.name!r} (openai): give it key_env or "
                "key_command, export OPENAI_API_KEY, or pass --api-key"
            )
        return (
            f"no API key for {_host(self.url)} ({where or 'openai'}): export OPENAI_API_KEY or "
            "pass --api-key (with no endpoint and no key configured, rtc uses its built-in "
            "local server)"
        )


def _credential(value: str) -> str:
    """The secret of a header value: ``KEY`` of ``Bearer KEY``, else the whole value."""
    return value.partition(" ")[2].strip() or value


def tool_secrets(session: Mapping[str, Any] | None) -> list[str]:
    """The MCP tokens in session settings: each tool's ``authorization`` and the values of its
    headers whose names say they are secret (``SECRET_HEADER``)."""
    found: list[str] = []
    tools = session.get("tools") if session else None
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            continue
        if isinstance(tool.get("authorization"), str):
            found.append(_credential(tool["authorization"]))
        headers = tool.get("headers")
        for name, value in headers.items() if isinstance(headers, dict) else ():
            if isinstance(value, str) and SECRET_HEADER.search(str(name)):
                found.append(_credential(value))
    return found


def select(
    options: ConnectionOptions, environ: Mapping[str, str], config: ConfigFile | None
) -> Selection:
    """Resolve the options, the environment and the config file into a ``Selection``."""
    for name in _STRING_OPTIONS:
        # `--url "$URL"` with $URL unset must not quietly fall back to another endpoint.
        if getattr(options, name) == "":
            raise UsageError(f"--{name.replace('_', '-')} is empty")
    flags = _flag_layer(options)
    env = _env_layer(environ)
    if options.local:
        model, source = _first([flags, env], "model", (DEFAULT_MODEL, "default"))
        sources = {"kind": "--local", "model": source}
        return Selection(
            "local", None, model, None, True, {}, (), None, sources, None, config, environ
        )
    if options.url and options.azure_endpoint:
        raise UsageError("give --url or --azure-endpoint, not both")
    profile, chosen_by, explicit = _chosen_profile(options, environ, config)
    # An implicit profile describes an endpoint of its own: a flag or variable naming another
    # endpoint sets it aside whole, so its key never goes elsewhere.
    if profile is not None and not explicit and ("kind" in flags.values or "kind" in env.values):
        profile = None
    where = config.path if config is not None else None
    layers = [flags]
    if profile is not None and explicit:
        layers.append(_profile_layer(profile, f"--profile {profile.name}", where))
    layers.append(env)
    if profile is not None and not explicit:
        layers.append(_profile_layer(profile, f"profile {profile.name} ({chosen_by})", where))
    kind, kind_source = _first(layers, "kind", ("", "default"))
    if not kind:
        has_key = bool(flags.keys) or bool(environ.get("OPENAI_API_KEY"))
        kind, kind_source = ("openai", "a key is set") if has_key else ("local", "default")
    sources = {"kind": kind_source}
    if profile is not None:
        sources["profile"] = f"{profile.name} ({'--profile' if explicit else chosen_by})"
    if kind != "azure":
        for name in ("deployment", "api_version"):
            if name in flags.values:
                raise UsageError(
                    f"--{name.replace('_', '-')} is for Azure OpenAI: add --azure-endpoint URL "
                    "(or export AZURE_OPENAI_ENDPOINT)"
                )
    _check_handshake(layers)
    headers = _headers(layers)
    protocols = tuple(
        dict.fromkeys(p for layer in layers for p in layer.values.get("subprotocols", ((), ""))[0])
    )
    session, session_source = _first(layers, "session", (None, ""))
    if session is not None:
        sources["session"] = session_source
        problem = validate({"type": "session.update", "session": dict(session)})
        if problem is not None:  # checked before connecting: nothing is sent
            file = f"{config.path}: " if config is not None else ""
            raise UsageError(f"{file}{session_source}: invalid session settings: {problem}")
    call_id = options.call_id
    auth, _ = _first(layers, "auth", ("", ""))
    url: str | None = None
    key: KeySource | None = None
    bearer = auth != "api-key"
    if kind == "azure":
        endpoint, sources["url"] = _first(layers, "azure_endpoint", ("", ""))
        if not endpoint:
            raise UsageError(
                "Azure OpenAI needs an endpoint: --azure-endpoint https://RESOURCE.openai.azure.com"
                " (or export AZURE_OPENAI_ENDPOINT)"
            )
        model, sources["model"] = _deployment(layers)
        version, version_source = _first(layers, "api_version", (None, ""))
        if version:
            sources["api_version"] = version_source
        url = azure_url(endpoint, model, version, call_id, sources["url"])
        key = _first_key(layers, "azure")
        bearer = key.bearer if key and key.how == "env" else auth == "bearer"
    else:
        model, sources["model"] = _first(layers, "model", (DEFAULT_MODEL, "default"))
    if kind == "url":
        url, sources["url"] = _first(layers, "url", ("", ""))
        url = with_query(checked_url(url, sources["url"]), {"call_id": call_id})
        in_url = dict(parse_qsl(urlsplit(url).query)).get("model")
        if in_url and sources["model"] == "default":  # say what the URL asks for
            model, sources["model"] = in_url, sources["url"]
    elif kind == "openai":
        base, sources["url"] = _first(layers, "base_url", (OPENAI_BASE_URL, "default"))
        given = sources["model"] != "default" or call_id is None
        url = openai_url(base, model if given else None, call_id, sources["url"])
    if kind in ("url", "openai"):
        key = _first_key(layers, "openai")
    if key is not None:
        sources["key"] = key.description
        if key.value is not None and key.how in ("flag", "env", "plain"):
            key.checked(key.value)  # a key known now is checked now (rtc config reports it)
    return Selection(
        kind,
        url,
        model,
        key,
        bearer,
        headers,
        protocols,
        session,
        sources,
        profile,
        config,
        environ,
    )


# -- layers ----------------------------------------------------------------------------------


def _flag_layer(options: ConnectionOptions) -> _Layer:
    layer = _Layer()
    if options.url:
        layer.put("kind", "url", "--url")
    elif options.azure_endpoint:
        layer.put("kind", "azure", "--azure-endpoint")
    for name in ("url", "model", "azure_endpoint", "deployment", "api_version"):
        layer.put(name, getattr(options, name), "--" + name.replace("_", "-"))
    layer.put("headers", parse_headers(options.headers), "--header")
    layer.put("subprotocols", tuple(options.subprotocols), "--subprotocol")
    if options.api_key:
        layer.keys.append(KeySource("flag", "--api-key", options.api_key))
    return layer


def _env_layer(environ: Mapping[str, str]) -> _Layer:
    layer = _Layer()
    for variable, kind, setting in (
        ("RTC_URL", "url", "url"),
        ("AZURE_OPENAI_ENDPOINT", "azure", "azure_endpoint"),
        ("OPENAI_BASE_URL", "openai", "base_url"),
    ):
        if environ.get(variable):
            if "kind" not in layer.values:
                layer.put("kind", kind, f"env {variable}")
            layer.put(setting, environ[variable], f"env {variable}")
    layer.put("model", environ.get("RTC_MODEL"), "env RTC_MODEL")
    layer.put("api_version", environ.get("OPENAI_API_VERSION"), "env OPENAI_API_VERSION")
    for variable, bearer in (
        ("OPENAI_API_KEY", True),
        ("AZURE_OPENAI_API_KEY", False),
        ("AZURE_OPENAI_AD_TOKEN", True),
    ):
        if environ.get(variable):
            layer.keys.append(KeySource("env", variable, environ[variable], bearer=bearer))
    return layer


def _profile_layer(profile: Profile, source: str, path: Path | None) -> _Layer:
    layer = _Layer()
    layer.put("kind", profile.kind, source)
    for name in ("url", "base_url", "azure_endpoint", "deployment", "api_version", "model", "auth"):
        layer.put(name, getattr(profile, name), source)
    layer.put("headers", dict(profile.headers), source)
    layer.put("subprotocols", profile.subprotocols, source)
    layer.put("session", profile.session, source)
    if profile.key_env:
        layer.keys.append(KeySource("key_env", profile.name, profile.key_env))
    elif profile.key_command:
        layer.keys.append(
            KeySource(
                "command", profile.name, None, profile.key_command, profile.key_command_timeout
            )
        )
    elif profile.api_key:
        layer.keys.append(KeySource("plain", profile.name, profile.api_key, config_path=path))
    return layer


def _chosen_profile(
    options: ConnectionOptions, environ: Mapping[str, str], config: ConfigFile | None
) -> tuple[Profile | None, str, bool]:
    """The profile in use, what chose it, and whether that choice was explicit."""
    if options.profile:
        return _get(config, options.profile), "--profile", True
    if environ.get("RTC_PROFILE"):
        return _get(config, environ["RTC_PROFILE"]), "RTC_PROFILE", False
    if config is not None and config.default_profile:
        return config.profiles[config.default_profile], "default_profile", False
    return None, "", False


def _get(config: ConfigFile | None, name: str) -> Profile:
    if config is None:
        raise UsageError(f"no profile {name!r}: no config file")
    return config.get(name)


def _first(layers: list[_Layer], name: str, default: tuple[Any, str]) -> tuple[Any, str]:
    for layer in layers:
        if name in layer.values:
            return layer.values[name]
    return default


def _keys(layers: list[_Layer], kind: str) -> list[KeySource]:
    """Every key that applies to ``kind``, best first."""
    found = []
    for layer in layers:
        for key in layer.keys:
            if key.how != "env" or (kind == "azure") == key.name.startswith("AZURE_"):
                found.append(key)
    return found


def _first_key(layers: list[_Layer], kind: str) -> KeySource | None:
    keys = _keys(layers, kind)
    return keys[0] if keys else None


def _deployment(layers: list[_Layer]) -> tuple[str, str]:
    """Azure names a deployment: --deployment, else --model, else the profile's deployment or
    model. (RTC_MODEL is not used: deployment names belong to one resource.)"""
    for layer in layers:
        for name in ("deployment", "model"):
            value, source = layer.values.get(name, (None, ""))
            if value and not source.startswith("env"):
                return value, source
    raise UsageError("Azure OpenAI needs a deployment: --deployment NAME (or in the profile)")


def _headers(layers: list[_Layer]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for layer in reversed(layers):  # higher layers override lower ones, name by name
        _merge(headers, layer.values.get("headers", ({}, ""))[0])
    return headers


def _merge(headers: dict[str, str], new: Mapping[str, str]) -> None:
    for name, value in new.items():
        for old in [k for k in headers if k.lower() == name.lower()]:
            del headers[old]
        headers[name] = value


def parse_headers(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``--header 'Name: value'`` items. A bad one is a usage error that does not echo its
    value (it may be a key): its first word is quoted only when it looks like a header name."""
    headers: dict[str, str] = {}
    for number, item in enumerate(items, 1):
        name, colon, value = item.partition(":")
        name = name.strip()
        if not name and colon:
            raise UsageError(f"--header #{number}: the name is empty, expected 'Name: value'")
        if not colon or not _TOKEN.fullmatch(name):
            first = (name.split() or [""])[0]
            shown = repr(first) if _WORD.fullmatch(first) else f"#{number}"
            raise UsageError(f"--header {shown}…: expected 'Name: value'")
        _merge(headers, {name: value.strip()})
    return headers


def _check_handshake(layers: list[_Layer]) -> None:
    """Every header and subprotocol is one the handshake can carry (RFC 9110 names and values,
    RFC 6455 subprotocol tokens), else a usage error naming where it came from, before
    anything connects. Values are never echoed: they may be keys."""
    for layer in layers:
        headers, source = layer.values.get("headers", ({}, ""))
        where = "--header" if source == "--header" else f"{source}: header"
        for name, value in headers.items():
            if not _TOKEN.fullmatch(name):
                shown = repr(name) if _WORD.fullmatch(name) else "name"
                raise UsageError(f"{where} {shown}: not a valid header name, expected a token")
            bad = _BAD_VALUE.search(value)
            if bad:
                what = control_name(bad.group())
                raise UsageError(f"{where} {name!r}: the value contains {what}")
        protocols, source = layer.values.get("subprotocols", ((), ""))
        where = "--subprotocol" if source == "--subprotocol" else f"{source}: subprotocol"
        for number, protocol in enumerate(protocols, 1):
            if not protocol:
                raise UsageError(f"{where} #{number} is empty")
            if not _TOKEN.fullmatch(protocol):
                raise UsageError(
                    f"{where} #{number}: not a valid subprotocol (letters, digits and "
                    "!#$%&'*+-.^_`|~ only, no spaces)"
                )


# -- URLs ------------------------------------------------------------------------------------


def with_query(url: str, params: Mapping[str, str | None]) -> str:
    """``url`` with ``params`` set in its query (existing pairs kept, same names replaced)."""
    given = {k: v for k, v in params.items() if v is not None}
    if not given:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in given]
    query += list(given.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def checked_url(url: str, source: str) -> str:
    """``url`` (from ``--url``, ``RTC_URL`` or a profile's ``url``) if rtc can connect to it: a
    ws:// or wss:// URL with a host and a valid port. Else a usage error naming ``source``."""
    problem = url_problem(url)
    scheme, _, rest = url.partition("://")
    if problem is None and scheme.lower() not in ("ws", "wss"):
        problem = "expected a ws:// or wss:// URL"
        if scheme.lower() in ("http", "https"):
            ws = "wss" if scheme.lower() == "https" else "ws"
            problem += f" (try {shown_url(f'{ws}://{rest}')})"
    if problem is not None:
        raise UsageError(f"{source}: {problem}, got {shown_url(url)!r}")
    return url


def url_problem(url: str) -> str | None:
    """What makes ``url`` one that cannot be connected to (as ``urlsplit`` and websockets would
    find out later, with a ``ValueError``), or None."""
    odd = next((c for c in url if c.isspace() or not c.isprintable()), None)
    if odd is not None:
        return "the URL contains a space" if odd == " " else f"the URL contains {control_name(odd)}"
    try:
        parts = urlsplit(url)
    except ValueError:  # "Invalid IPv6 URL": an unclosed [
        return "invalid host: unbalanced '[' or ']' (an IPv6 address is written [::1])"
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        port = parts.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
        return f"invalid port {port!r}: expected a number 0-65535"
    if not parts.hostname:
        return "no host"
    return None


def shown_url(url: str) -> str:
    """``url`` for a message, redacted; a URL too broken to parse is cut at its query."""
    try:
        return redact_url(url)
    except ValueError:
        head, query, _ = url.partition("?")
        scheme, sep, rest = head.rpartition("://")
        host, slash, path = rest.partition("/")
        if "@" in host:  # user:password@host
            host = "****@" + host.rpartition("@")[2]
        return f"{scheme}{sep}{host}{slash}{path}" + ("?…" if query else "")


def _ws_scheme(url: str, option: str) -> str:
    full = url if "://" in url else "https://" + url
    problem = url_problem(full)
    if problem is not None:
        raise UsageError(f"{option}: {problem}, got {shown_url(url)!r}")
    parts = urlsplit(full)
    scheme = {"https": "wss", "http": "ws", "wss": "wss", "ws": "ws"}.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise UsageError(f"{option}: expected an https:// URL, got {shown_url(url)!r}")
    return urlunsplit(parts._replace(scheme=scheme))


def openai_url(
    base: str, model: str | None, call_id: str | None, source: str = "OPENAI_BASE_URL"
) -> str:
    """As the openai SDK builds it: ``base`` (http→ws, https→wss) + ``/realtime``, the base's
    own query kept, then ``model`` and ``call_id``. ``source`` names ``base`` in errors."""
    parts = urlsplit(_ws_scheme(base, source))
    url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/realtime"))
    return with_query(url, {"model": model, "call_id": call_id})


def azure_url(
    endpoint: str,
    deployment: str,
    api_version: str | None,
    call_id: str | None,
    source: str = "--azure-endpoint",
) -> str:
    """GA ``/openai/v1/realtime?model=DEPLOYMENT``, or with an api-version the preview form
    ``/openai/realtime?api-version=V&deployment=DEPLOYMENT`` (protocol.md §1.3)."""
    parts = urlsplit(_ws_scheme(endpoint, source))
    path = parts.path.rstrip("/")
    for suffix in ("/openai/v1", "/openai"):  # a pasted ".../openai/" still works
        path = path.removesuffix(suffix)
    if api_version:
        url = urlunsplit(parts._replace(path=path + "/openai/realtime"))
        query = {"api-version": api_version, "deployment": deployment, "call_id": call_id}
    else:
        url = urlunsplit(parts._replace(path=path + "/openai/v1/realtime"))
        query = {"model": deployment, "call_id": call_id}
    return with_query(url, query)


def _host(url: str | None) -> str:
    return urlsplit(url or "").netloc.rpartition("@")[2] or "the endpoint"
