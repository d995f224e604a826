"""The endpoint rtc talks to, once chosen: URL, model, handshake headers and subprotocols, and
every secret among them, so output can be scrubbed of them.

Precedence is flag > environment > profile > default (the rules live in ``select``; profiles
in ``profiles``, keys in ``keys``). With no URL and no key, rtc uses its built-in local server,
so it works on a fresh machine with no account and no network.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, cast

from realtime_cli.protocol.prices import DEFAULT_TABLE, PriceTable
from realtime_cli.protocol.redact import MIN_SCRUBBED, redact, redact_tools, redact_url
from realtime_cli.protocol.service import DEFAULT_MODEL, KEY_PROTOCOL


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
    "ping_interval": "--ping-interval",
    "ping_timeout": "--ping-timeout",
}

# Keepalive: a ping every PING_INTERVAL seconds, the connection declared dead when its pong has
# not come PING_TIMEOUT seconds later. A peer that stalls (or a network that silently drops the
# connection) is noticed within interval + timeout = 20 s, in every mode; 0 turns pings off.
PING_INTERVAL = 10.0
PING_TIMEOUT = 10.0


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
    ping_interval: float = PING_INTERVAL  # 0: no pings
    ping_timeout: float = PING_TIMEOUT
    # What its tokens cost: the defaults with config.toml's overrides (protocol.prices).
    prices: PriceTable = field(default=DEFAULT_TABLE, repr=False)

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

    def with_keepalive(self, interval: float | None, timeout: float | None) -> Endpoint:
        """The keepalive given (a flag or a profile's value); None keeps what is set."""
        return dataclasses.replace(
            self,
            ping_interval=self.ping_interval if interval is None else interval,
            ping_timeout=self.ping_timeout if timeout is None else timeout,
        )
