"""The client's WebSocket connection: connect, send, receive, close. The only client module
that imports websockets.

Every failure to connect becomes a one-line ``ConnectError`` (refused, DNS, TLS, HTTP status at
the handshake with the body's message); a close while reading becomes ``ConnectionLost`` with the
close code and reason, so callers can tell a fatal close (3000 invalid key, 4000 invalid model)
from a dropped connection. Headers are never put in a message: they carry the key. (A server
may still echo them, in a handshake error's body or a close reason: ``client.open_session``
scrubs every error it lets out with the endpoint's secrets.)
Proxies come from the environment (``HTTPS_PROXY``, ``NO_PROXY``, ...): websockets' default,
which nothing here turns off.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidProxy,
    InvalidStatus,
    InvalidURI,
    WebSocketException,
)
from websockets.proxy import get_proxy
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from realtime_cli import __version__
from realtime_cli.endpoint.urls import shown_url
from realtime_cli.errors import ConnectError, ConnectionLost, UsageError
from realtime_cli.protocol.events import JSON, encode
from realtime_cli.protocol.redact import redact_url

USER_AGENT = f"rtc/{__version__}"
CLOSE_TIMEOUT = 1.0  # websockets' wait for the closing handshake / TCP close


def _where(url: str) -> str:
    try:
        netloc = urlsplit(url).netloc
    except ValueError:  # too broken to parse: connect() says so
        return "the endpoint"
    return netloc.rpartition("@")[2] or "the endpoint"


def _status_message(exc: InvalidStatus) -> str:
    """'HTTP 401 at the handshake: <the body's message>' (JSON error bodies are unwrapped)."""
    response = exc.response
    text = response.body.decode("utf-8", "replace").strip() if response.body else ""
    try:
        body: Any = json.loads(text)
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        text = str(message or (error if isinstance(error, str) else "") or text)
    except ValueError:
        pass
    text = " ".join(text.split())[:200]
    reason = f"{response.status_code} {response.reason_phrase}".strip()
    return f"HTTP {reason} at the handshake" + (f": {text}" if text else "")


# A wss:// URL pointed at a plain ws:// port: the server reads the TLS ClientHello as garbage
# and resets the connection, or answers in plain text (which OpenSSL calls a wrong version).
_PLAIN_HINT = " (is it a plain ws:// server? try ws://)"
_PLAIN_TLS_REASONS = ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER_FAILURE")
_OS_WORDS = {
    ConnectionResetError: "connection reset by the server",
    ConnectionAbortedError: "connection aborted",
    BrokenPipeError: "connection closed by the server",
}


def _os_reason(exc: OSError, url: str) -> str:
    """A socket error as a reason that is never empty (a reset has no strerror), with the
    ws:// hint when TLS met a plain-text server."""
    reason = exc.strerror or str(exc)
    for kind, words in _OS_WORDS.items():
        if isinstance(exc, kind):
            reason = words
            if url.lower().startswith("wss:"):
                reason += " during the TLS handshake" + _PLAIN_HINT
            break
    return reason or type(exc).__name__


def proxy_for(url: str) -> str | None:
    """The proxy websockets will use for ``url`` (from ``HTTPS_PROXY``, ``NO_PROXY``, ...)."""
    try:
        return get_proxy(parse_uri(url))
    except (InvalidURI, ValueError):
        return None


class Transport:
    """One open WebSocket to a Realtime endpoint.

    ``recv`` and ``send`` may run in sibling tasks (websockets allows one reader and many
    writers). Cancelling ``recv`` is safe: no frame is lost, it stays queued for the next call.
    """

    def __init__(self, connection: ClientConnection, url: str) -> None:
        self._connection = connection
        self.url = url

    @classmethod
    async def connect(
        cls,
        url: str,
        headers: Mapping[str, str] | None = None,
        subprotocols: Sequence[str] = (),
        open_timeout: float = 15.0,
        ping_interval: float = 10.0,
        ping_timeout: float = 10.0,
    ) -> Transport:
        where = _where(url)
        try:
            connection = await ws_connect(
                url,
                additional_headers=dict(headers or {}),
                subprotocols=[Subprotocol(p) for p in subprotocols] or None,
                user_agent_header=USER_AGENT,
                open_timeout=open_timeout,
                # Realtime frames can be large (audio, full item retrievals): no size cap, and
                # no compression, as the official SDK does.
                max_size=None,
                compression=None,
                # A peer that stops answering pings is dead: recv raises ConnectionLost (1011).
                ping_interval=ping_interval or None,
                ping_timeout=ping_timeout or None,
                # After a failed keepalive websockets waits this long for the TCP close before
                # giving up (10 s by default): a dead peer never answers, so keep it short.
                close_timeout=CLOSE_TIMEOUT,
            )
        except InvalidURI as exc:
            raise UsageError(f"invalid url {redact_url(url)!r}: {exc.msg}") from None
        except InvalidProxy as exc:  # the proxy URL may hold a password: never shown
            raise ConnectError(f"invalid proxy {redact_url(exc.proxy)!r}: {exc.msg}") from None
        except ImportError:  # websockets needs python-socks for a SOCKS proxy
            raise ConnectError(
                f"{where}: connecting through a SOCKS proxy needs python-socks "
                "(pip install python-socks)"
            ) from None
        except InvalidStatus as exc:
            raise ConnectError(f"{where}: {_status_message(exc)}") from None
        except InvalidHandshake as exc:
            raise ConnectError(f"{where}: websocket handshake failed: {exc}") from None
        except TimeoutError:
            raise ConnectError(f"{where}: timed out after {open_timeout:g}s connecting") from None
        except socket.gaierror as exc:
            raise ConnectError(f"{where}: cannot resolve host ({exc.strerror})") from None
        except ssl.SSLError as exc:
            reason = exc.reason or str(exc)
            hint = _PLAIN_HINT if reason in _PLAIN_TLS_REASONS else ""
            raise ConnectError(f"{where}: TLS error: {reason}{hint}") from None
        except ConnectionRefusedError:
            raise ConnectError(f"{where}: connection refused") from None
        except OSError as exc:
            raise ConnectError(f"{where}: {_os_reason(exc, url)}") from None
        except WebSocketException as exc:
            raise ConnectError(f"{where}: {exc}") from None
        except ValueError as exc:
            # A last resort: endpoints.select checks URLs, headers and subprotocols first, but a
            # value websockets or urllib still refuses ("Port out of range") is one line too.
            raise UsageError(f"cannot connect to {shown_url(url)!r}: {exc}") from None
        return cls(connection, url)

    async def send(self, event: JSON) -> str:
        """Send one client event; returns the exact text sent (for recording)."""
        text = encode(event)
        try:
            await self._connection.send(text)
        except ConnectionClosed as exc:
            raise self._lost(exc) from None
        return text

    async def recv(self) -> str | bytes:
        """The next frame as received. Raises ``ConnectionLost`` when the socket closes."""
        try:
            return await self._connection.recv()
        except ConnectionClosed as exc:
            raise self._lost(exc) from None

    async def close(self, code: int = 1000, reason: str = "", within: float = 3.0) -> None:
        """Close politely; bounded in time so an unresponsive server can't hold rtc open."""
        try:
            async with asyncio.timeout(within):
                await self._connection.close(code, reason)
        except (TimeoutError, OSError, WebSocketException):
            pass

    @property
    def close_code(self) -> int | None:
        return self._connection.close_code

    def _lost(self, exc: ConnectionClosed) -> ConnectionLost:
        frame = exc.rcvd
        code = frame.code if frame else None
        reason = frame.reason if frame else ""
        sent = exc.sent
        if code is None and sent is not None and sent.reason == "keepalive ping timeout":
            detail = "is dead: no answer to a keepalive ping in time (--ping-timeout)"
        elif code is None:
            detail = "closed without a close frame"
        else:
            detail = f"closed with code {code}" + (f" ({reason})" if reason else "")
        return ConnectionLost(f"connection to {_where(self.url)} {detail}", code, reason)
