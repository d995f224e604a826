"""Endpoint URLs: checking a URL rtc is given, building the OpenAI and Azure realtime URLs the
way their SDKs do, and showing a URL in a message without its secrets.

Every check here happens before anything connects, so a bad URL is a one-line usage error
naming where it came from (a flag, a variable, a profile) rather than a ``ValueError`` from
``urlsplit`` or websockets later.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from realtime_cli.endpoint.keys import control_name
from realtime_cli.errors import UsageError
from realtime_cli.protocol.redact import redact_url


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
