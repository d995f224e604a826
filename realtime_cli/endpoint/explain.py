"""What ``rtc config``, ``rtc profile show`` and ``rtc profile list`` print: settings as rows
``(name, value, where it came from)`` and as JSON, every secret redacted (``config.redact``:
the last 4 characters at most), the MCP tokens in session settings too (``redact_tools``).
No rich here: ``render`` draws the rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.endpoint.headers import SECRET_HEADER
from realtime_cli.endpoint.keys import command_text
from realtime_cli.endpoint.profiles import ConfigFile, Profile
from realtime_cli.endpoint.select import Selection
from realtime_cli.errors import RtcError
from realtime_cli.protocol.redact import redact, redact_tools, redact_url
from realtime_cli.protocol.service import KEY_PROTOCOL

Row = tuple[str, str, str]


def header_text(name: str, value: str) -> str:
    """``Name: value`` with a secret value redacted (``Authorization: Bearer …abcd``)."""
    if not SECRET_HEADER.search(name):
        return f"{name}: {value}"
    scheme, space, credential = value.partition(" ")
    if space and scheme.isalpha() and credential:
        return f"{name}: {scheme} {redact(credential)}"
    return f"{name}: {redact(value)}"


def protocol_text(protocol: str) -> str:
    if protocol.startswith(KEY_PROTOCOL):
        return KEY_PROTOCOL + redact(protocol[len(KEY_PROTOCOL) :])
    return protocol


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def effective(
    selection: Selection, proxy_for: Callable[[str], str | None], warn: Callable[[str], None]
) -> tuple[list[Row], dict[str, Any]]:
    """``rtc config``: the endpoint rtc would connect to, with the key fetched (a key_command is
    run) and shown redacted. A key that cannot be had is reported in its row, not raised."""
    config = selection.config
    sources = selection.sources
    endpoint: Endpoint | None = None
    problem = None
    try:
        endpoint = selection.endpoint(warn)
    except RtcError as exc:
        problem = exc.message
    rows: list[Row] = []
    if config is not None:
        rows.append(("config file", str(config.path) + ("" if config.exists else " (none)"), ""))
    profile = sources.get("profile")
    rows.append(("profile", profile.split(" ", 1)[0] if profile else "-", _paren(profile)))
    rows.append(("kind", selection.kind, sources.get("kind", "")))
    url = redact_url(selection.url) if selection.url else "built-in local server"
    rows.append(("url", url, sources.get("url", "")))
    model_name = "deployment" if selection.kind == "azure" else "model"
    rows.append((model_name, selection.model, sources.get("model", "")))
    if "api_version" in sources:
        rows.append(("api_version", _query(selection.url, "api-version"), sources["api_version"]))
    key_source = selection.key.description if selection.key else ""
    if problem:
        key_text = f"unavailable: {problem}"
    elif endpoint is not None and selection.key is not None:
        key_text = redact(_key_of(endpoint))
    else:
        key_text = "none"
    rows.append(("key", key_text, key_source))
    headers = dict(endpoint.headers) if endpoint else dict(selection.headers)
    for name, value in headers.items():
        rows.append(("header", header_text(name, value), ""))
    for protocol in selection.subprotocols:
        rows.append(("subprotocol", protocol_text(protocol), ""))
    session = None if selection.session is None else redact_tools(dict(selection.session))
    if session is not None:
        rows.append(("session", _compact(session), sources.get("session", "")))
    proxy = proxy_for(selection.url) if selection.url else None
    rows.append(("proxy", redact_url(proxy) if proxy else "none", "environment" if proxy else ""))
    if endpoint is not None:  # a key may still show up, e.g. inside a key_command's text
        rows = [(n, endpoint.scrub(v), endpoint.scrub(src)) for n, v, src in rows]
    data: dict[str, Any] = {
        "config_file": str(config.path) if config else None,
        "profile": profile.split(" ", 1)[0] if profile else None,
        "kind": selection.kind,
        "url": redact_url(selection.url) if selection.url else None,
        "model": selection.model,
        "key": {
            "value": None if key_text == "none" else key_text,
            "source": (endpoint.scrub(key_source) if endpoint else key_source) or None,
        },
        "headers": dict(header_text(n, v).split(": ", 1) for n, v in headers.items()),
        "subprotocols": [protocol_text(p) for p in selection.subprotocols],
        "session": session,
        "proxy": redact_url(proxy) if proxy else None,
        "sources": dict(sources),
    }
    return rows, data


def _paren(text: str | None) -> str:
    if not text or "(" not in text:
        return ""
    return text.split("(", 1)[1].rstrip(")")


def _query(url: str | None, name: str) -> str:
    return (parse_qs(urlsplit(url or "").query).get(name) or [""])[-1]


def _key_of(endpoint: Endpoint) -> str:
    headers = {k.lower(): v for k, v in endpoint.headers.items()}
    if "api-key" in headers:
        return headers["api-key"]
    return headers.get("authorization", "").partition(" ")[2]


def profile_rows(profile: Profile, config: ConfigFile, environ: Mapping[str, str]) -> list[Row]:
    """``rtc profile show``: the profile as written, secrets redacted."""
    line = f"{config.path}" + (f" line {profile.line}" if profile.line else "")
    default = " (default)" if config.default_profile == profile.name else ""
    rows: list[Row] = [("profile", profile.name + default, line), ("kind", profile.kind, "")]
    for name in ("url", "base_url", "azure_endpoint"):
        value = getattr(profile, name)
        if value:
            rows.append((name, redact_url(value), ""))
    for name in ("deployment", "model", "api_version", "auth"):
        value = getattr(profile, name)
        if value:
            rows.append((name, value, ""))
    if profile.key_env:
        state = "set" if environ.get(profile.key_env) else "not set"
        rows.append(("key_env", profile.key_env, state))
    if profile.key_command:
        rows.append(("key_command", command_text(profile.key_command), "not run"))
    if profile.api_key:
        rows.append(("api_key", redact(profile.api_key), "plain text"))
    for name, value in profile.headers.items():
        rows.append(("header", header_text(name, value), ""))
    for protocol in profile.subprotocols:
        rows.append(("subprotocol", protocol_text(protocol), ""))
    if profile.session is not None:
        rows.append(("session", _compact(redact_tools(dict(profile.session))), ""))
    return rows


def profile_list(config: ConfigFile) -> list[tuple[str, str, str, str, str]]:
    """``rtc profile list``: one row per profile, ``*`` before the default one."""
    rows = []
    for name, p in config.profiles.items():
        mark = "* " if config.default_profile == name else "  "
        where = p.url or p.azure_endpoint or p.base_url
        endpoint = redact_url(where) if where else {"openai": "api.openai.com"}.get(p.kind, "-")
        if p.kind == "local":
            endpoint = "built-in local server"
        model = p.deployment or p.model or "-"
        if p.key_env:
            key = f"key_env {p.key_env}"
        elif p.key_command:
            key = "key_command"
        elif p.api_key:
            key = "api_key (plain text)"
        else:
            key = "-"
        rows.append((mark + name, p.kind, endpoint, model, key))
    return rows
