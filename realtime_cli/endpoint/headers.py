"""What the WebSocket handshake carries besides the URL: HTTP headers and subprotocols.

Parsing ``--header`` items, checking that every header and subprotocol is one the handshake can
carry, merging header sets name by name, and telling which header values are secrets. A value
is never echoed in an error: it may be a key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from realtime_cli.endpoint.keys import control_name
from realtime_cli.errors import UsageError

# Header names whose values are secrets: never shown, scrubbed from output.
SECRET_HEADER = re.compile(r"authorization|api-?key|token|secret|cookie|password", re.I)
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name (RFC 9110 token)
_WORD = re.compile(r"[A-Za-z-]{1,40}")  # a header name safe to quote in an error (no key)
# A header value may hold spaces and tabs, not other controls (CR/LF would split the request).
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def credential(value: str) -> str:
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
            found.append(credential(tool["authorization"]))
        headers = tool.get("headers")
        for name, value in headers.items() if isinstance(headers, dict) else ():
            if isinstance(value, str) and SECRET_HEADER.search(str(name)):
                found.append(credential(value))
    return found


def merge_headers(headers: dict[str, str], new: Mapping[str, str]) -> None:
    """Add ``new`` to ``headers`` in place; header names are case-insensitive, so a new
    ``authorization`` replaces an old ``Authorization`` rather than sending both."""
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
        merge_headers(headers, {name: value.strip()})
    return headers


def check_headers(headers: Mapping[str, str], source: str) -> None:
    """Every header has an RFC 9110 name and a value without controls, else a usage error
    naming ``source`` (``--header`` or where a profile's headers came from)."""
    where = "--header" if source == "--header" else f"{source}: header"
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            shown = repr(name) if _WORD.fullmatch(name) else "name"
            raise UsageError(f"{where} {shown}: not a valid header name, expected a token")
        bad = _BAD_VALUE.search(value)
        if bad:
            what = control_name(bad.group())
            raise UsageError(f"{where} {name!r}: the value contains {what}")


def check_subprotocols(protocols: tuple[str, ...], source: str) -> None:
    """Every subprotocol is an RFC 6455 token, else a usage error naming ``source``; numbered,
    not quoted, since one may be ``openai-insecure-api-key.KEY``."""
    where = "--subprotocol" if source == "--subprotocol" else f"{source}: subprotocol"
    for number, protocol in enumerate(protocols, 1):
        if not protocol:
            raise UsageError(f"{where} #{number} is empty")
        if not _TOKEN.fullmatch(protocol):
            raise UsageError(
                f"{where} #{number}: not a valid subprotocol (letters, digits and "
                "!#$%&'*+-.^_`|~ only, no spaces)"
            )
