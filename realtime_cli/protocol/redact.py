"""What of the protocol is secret, and how rtc shows it without the secret: keys (at most their
last four characters), secret URL query values, and the ``authorization``/``headers`` values of
tools (an MCP server's token) wherever a ``tools`` list appears in an event."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

# Query parameters that carry a secret: Azure browsers' api-key, bearer tokens, SAS signatures.
SECRET_QUERY_KEYS = {
    "api-key",
    "api_key",
    "key",
    "token",
    "access_token",
    "client_secret",
    "sig",
    "signature",
}
# Secrets shorter than this are not scrubbed from output: "abc" cannot be told from ordinary
# text, and replacing it everywhere would garble what rtc prints. Keys are far longer.
MIN_SCRUBBED = 4
_REDACTED = "****"


def redact(secret: str) -> str:
    """At most the last 4 characters of a secret, never more, and nothing of a short one
    (under 12 characters, 4 would be a third of it)."""
    return _REDACTED if len(secret) < 12 else "…" + secret[-4:]


def _redact_once(value: Any) -> Any:
    """``redact`` for a value that may already be redacted (left as it is) or not a string."""
    if not isinstance(value, str):
        return _REDACTED if value not in (None, "") else value
    if value == _REDACTED or (value.startswith("…") and len(value) <= 5):
        return value
    return redact(value) if value else value


def _redact_tool(tool: Any) -> Any:
    if not isinstance(tool, dict):
        return tool
    changed = dict(tool)
    if "authorization" in tool:
        changed["authorization"] = _redact_once(tool["authorization"])
    if isinstance(tool.get("headers"), dict):
        changed["headers"] = {name: _redact_once(v) for name, v in tool["headers"].items()}
    return changed if changed != tool else tool


def redact_tools(value: Any) -> Any:
    """``value`` (an event, or any JSON) with every tool's ``authorization`` and ``headers``
    values redacted (an MCP server's token), wherever a ``tools`` list is: ``session.tools``,
    ``response.tools``, a server's echo. ``value`` itself when there is nothing to redact, so
    a frame can be kept as received. Already redacted values are left as they are."""
    if isinstance(value, list):
        items = [redact_tools(v) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if not isinstance(value, dict):
        return value
    changed: dict[str, Any] = {}
    for key, item in value.items():
        if key == "tools" and isinstance(item, list):
            new = [_redact_tool(tool) for tool in item]
            new = new if any(a is not b for a, b in zip(new, item, strict=True)) else item
        else:
            new = redact_tools(item)
        if new is not item:
            changed[key] = new
    return {**value, **changed} if changed else value


def redact_url(url: str) -> str:
    """The URL for display: secret query values and user:password shown redacted (the result
    is for people, not for connecting: a redacted value is left unquoted so it stays readable)."""
    parts = urlsplit(url)
    query = "&".join(
        f"{quote(key, safe='')}="
        + (redact(value) if key.lower() in SECRET_QUERY_KEYS else quote(value, safe="/:@"))
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    netloc = parts.netloc
    if "@" in netloc:  # user:password@host
        netloc = "****@" + netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=netloc, query=query))
