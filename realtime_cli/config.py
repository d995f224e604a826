"""Which endpoint to talk to, with which key, and how to show it without the key.

Precedence is flag > environment > profile > default (the rules live in ``endpoints``; profiles
in ``profiles``, keys in ``keys``). With no URL and no key, rtc uses its built-in local server,
so it works on a fresh machine with no account and no network.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"
DEFAULT_MODEL = "gpt-realtime"
# Query parameters that carry a secret in some deployments (Azure browsers put api-key there).
SECRET_QUERY_KEYS = {"api-key", "api_key", "key", "token", "access_token", "client_secret"}


def redact(secret: str) -> str:
    """At most the last 4 characters of a secret, never more, and nothing of a short one."""
    return "****" if len(secret) < 12 else "…" + secret[-4:]


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    query = [
        (key, redact(value) if key.lower() in SECRET_QUERY_KEYS else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    netloc = parts.netloc
    if "@" in netloc:  # user:password@host
        netloc = "****@" + netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="/:")))


@dataclass(frozen=True)
class Endpoint:
    """Where to connect. ``url`` None means the built-in local server."""

    url: str | None
    model: str = DEFAULT_MODEL
    headers: Mapping[str, str] = field(default_factory=dict)
    subprotocols: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()  # every secret in url/headers, for scrubbing output
    # A profile's default session settings: sent as session.update right after connecting.
    session: Mapping[str, Any] | None = None

    @property
    def local(self) -> bool:
        return self.url is None

    @property
    def display(self) -> str:
        return "built-in local server" if self.url is None else redact_url(self.url)

    def scrub(self, text: str) -> str:
        """Replace any secret of this endpoint that appears in ``text``."""
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, redact(secret))
        return text

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
    from realtime_cli.endpoints import ConnectionOptions, select

    options = ConnectionOptions(url=url, api_key=api_key, model=model, local=local)
    return select(options, environ, None).endpoint()
