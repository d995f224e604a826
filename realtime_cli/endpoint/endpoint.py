"""Which endpoint to talk to, with which key, and how to show it without the key.

Precedence is flag > environment > profile > default (the rules live in ``endpoints``; profiles
in ``profiles``, keys in ``keys``). With no URL and no key, rtc uses its built-in local server,
so it works on a fresh machine with no account and no network.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, cast
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"
DEFAULT_MODEL = "gpt-realtime"
# Query parameters that carry a secret in some deployments (Azure browsers put api-key there).
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
# The subprotocol that carries a key (browsers cannot set headers): KEY_PROTOCOL + the key.
KEY_PROTOCOL = "openai-insecure-api-key."
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


class ScrubbedStream:
    """A text stream that writes through ``scrub``: whatever a server echoes or a user types,
    no secret of the endpoint gets past it. One choke point per output stream instead of a
    scrub at every print (the console's scrollback, ``rtc create``'s and ``rtc pipe``'s
    stdout and stderr)."""

    def __init__(self, stream: IO[str], scrub: Callable[[str], str]) -> None:
        self._stream = stream
        self._scrub = scrub

    def write(self, text: str) -> int:
        self._stream.write(self._scrub(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding, ...
        return getattr(self._stream, name)


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


# Parameter → flag of every connection option, in the order help lists them. The command line
# declares them (cli/params.py); the console refuses them inside `create` (commands.py), which
# must not load typer to know their names.
CONNECTION_OPTIONS = {
    "url": "--url",
    "api_key": "--api-key",
    "model": "--model",
    "local": "--local",
    "profile": "--profile",
    "azure_endpoint": "--azure-endpoint",
    "deployment": "--deployment",
    "api_version": "--api-version",
    "header": "--header",
    "subprotocol": "--subprotocol",
    "call_id": "--call-id",
}


@dataclass(frozen=True)
class Endpoint:
    """Where to connect. ``url`` None means the built-in local server."""

    url: str | None
    model: str = DEFAULT_MODEL
    headers: Mapping[str, str] = field(default_factory=dict)
    subprotocols: tuple[str, ...] = ()
    # Every secret in url/headers/subprotocols (and the MCP tokens of the session settings),
    # for scrubbing output.
    secrets: tuple[str, ...] = ()
    # A profile's default session settings: sent as session.update right after connecting.
    session: Mapping[str, Any] | None = None

    def __repr__(self) -> str:
        """No secret: the URL redacted, header names only, key subprotocols and the session's
        tool tokens redacted (a repr ends up in logs, tracebacks and debuggers)."""
        protocols = tuple(
            KEY_PROTOCOL + redact(p[len(KEY_PROTOCOL) :]) if p.startswith(KEY_PROTOCOL) else p
            for p in self.subprotocols
        )
        session = None if self.session is None else redact_tools(dict(self.session))
        return self.scrub(
            f"Endpoint(url={self.display!r}, model={self.model!r}, "
            f"headers={list(self.headers)!r}, subprotocols={protocols!r}, "
            f"secrets={len(self.secrets)}, session={session!r})"
        )

    @property
    def local(self) -> bool:
        return self.url is None

    @property
    def display(self) -> str:
        return "built-in local server" if self.url is None else redact_url(self.url)

    def scrub(self, text: str) -> str:
        """Replace any secret of this endpoint that appears in ``text`` (longest first, so a
        secret holding another is replaced whole); secrets under ``MIN_SCRUBBED`` characters
        are left alone, since they cannot be told from ordinary text."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            if len(secret) >= MIN_SCRUBBED:
                text = text.replace(secret, redact(secret))
        return text

    def scrubbed(self, stream: IO[str]) -> IO[str]:
        """``stream``, writing through ``scrub`` if this endpoint has secrets."""
        return cast(IO[str], ScrubbedStream(stream, self.scrub)) if self.secrets else stream

    def with_url(self, url: str) -> Endpoint:
        return dataclasses.replace(self, url=url)


def select_endpoint(
    *,
    url: str | None,
    api_key: str | None,
    model: str | None,
    local: bool,
    environ: Mapping[str, str],
) -> Endpoint:
    """flag > environment > default, without profiles (``endpoints.select`` adds them);
    with neither a URL nor a key, the local server."""
    from realtime_cli.endpoint.select import ConnectionOptions, select

    options = ConnectionOptions(url=url, api_key=api_key, model=model, local=local)
    return select(options, environ, None).endpoint()
