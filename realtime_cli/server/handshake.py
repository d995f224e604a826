"""Who may open a session, decided from the upgrade request alone. No I/O.

The live service upgrades every request on its realtime path (HTTP 101) and reports a bad key, a
missing model or the beta header afterwards: one ``error`` event, then a close whose reason is
``<error.type>.<error.code>`` (protocol.md §1.5-1.6). Only an unknown path fails the handshake
(404), as Azure does for a wrong path.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from realtime_cli.protocol.events import JSON
from realtime_cli.protocol.service import DEFAULT_MODEL, KEY_PROTOCOL
from realtime_cli.server.wire import ERROR_TYPE, error_event

# Path → the query parameter that names the model (Azure's preview path names a deployment).
ROUTES = {
    "/v1/realtime": "model",
    "/openai/v1/realtime": "model",
    "/openai/realtime": "deployment",
}
AUTH_CLOSE = 3000
REQUEST_CLOSE = 4000
BETA_PROTOCOL = "openai-beta.realtime-v1"


@dataclass(frozen=True)
class Refusal:
    """A fatal start: send ``event``, then close with ``code`` and ``reason``."""

    event: JSON
    code: int
    reason: str


def _query(path: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(path).query).items()}


def known_path(path: str) -> bool:
    """Whether the handshake may go ahead (otherwise: HTTP 404)."""
    route = ROUTES.get(urlsplit(path).path)
    # Azure's preview path with ``model=`` instead of ``deployment=`` is a 404 there too.
    return route is not None and (route == "model" or "deployment" in _query(path))


def mask_key(key: str) -> str:
    """A key as an error message may show it: never in full (``sk-...abcd``)."""
    return f"{key[:3]}...{key[-4:]}" if len(key) >= 12 else "***"


def _offered_keys(
    headers: Mapping[str, str], query: Mapping[str, str], protocols: Sequence[str]
) -> list[str]:
    keys = []
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "basic") and credential.strip():
        keys.append(credential.strip())
    for found in (headers.get("api-key"), query.get("api-key")):
        if found:
            keys.append(found)
    keys += [p[len(KEY_PROTOCOL) :] for p in protocols if p.startswith(KEY_PROTOCOL)]
    return keys


def _refuse(code: str | None, message: str, close_code: int) -> Refusal:
    reason = f"{ERROR_TYPE}.{code}" if code else ERROR_TYPE
    return Refusal(error_event(code, message), close_code, reason)


def admit(
    path: str,
    headers: Mapping[str, str],
    protocols: Sequence[str],
    api_key: str | None,
) -> str | Refusal:
    """The session's model, or why the connection must close. ``headers`` keys are lower case."""
    query = _query(path)
    if api_key is not None:
        offered = _offered_keys(headers, query, protocols)
        if not offered:
            return _refuse(None, "Missing bearer or basic authentication in header", AUTH_CLOSE)
        if not any(hmac.compare_digest(k.encode(), api_key.encode()) for k in offered):
            return _refuse(
                "invalid_api_key",
                f"Incorrect API key provided: {mask_key(offered[0])}. You can find your API key "
                "at https://platform.openai.com/account/api-keys.",
                AUTH_CLOSE,
            )
    beta_header = "realtime=v1" in headers.get("openai-beta", "").replace(" ", "")
    if beta_header or BETA_PROTOCOL in protocols:
        return _refuse(
            "beta_api_shape_disabled",
            "The beta Realtime API shape is disabled; connect without 'OpenAI-Beta: realtime=v1' "
            "to use the GA interface.",
            REQUEST_CLOSE,
        )
    # The live service refuses a missing model (missing_model, close 4000). The local server
    # announces its URL without one and clients connect to it exactly as printed, so it uses
    # the default model instead.
    return query.get(ROUTES.get(urlsplit(path).path, "model"), "") or DEFAULT_MODEL
