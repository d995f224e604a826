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
Building and checking URLs is ``urls``; parsing and checking headers and subprotocols is
``headers``; the environment's and a profile's settings are read in ``layers``: this module
decides which of them apply, and in which order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from realtime_cli.endpoint.endpoint import Endpoint
from realtime_cli.endpoint.headers import (
    SECRET_HEADER,
    credential,
    merge_headers,
    parse_headers,
    tool_secrets,
)
from realtime_cli.endpoint.keys import KeySource, Warn
from realtime_cli.endpoint.precedence import (
    Layer,
    azure_deployment,
    check_handshake,
    env_layer,
    first,
    first_key,
    merged_headers,
    profile_layer,
)
from realtime_cli.endpoint.profiles import ConfigFile, Profile
from realtime_cli.endpoint.urls import azure_url, checked_url, openai_url, with_query
from realtime_cli.errors import ConnectError, UsageError
from realtime_cli.protocol.prices import PriceTable, parse_model_prices
from realtime_cli.protocol.redact import MIN_SCRUBBED, SECRET_QUERY_KEYS, redact_url
from realtime_cli.protocol.service import DEFAULT_MODEL, KEY_PROTOCOL
from realtime_cli.protocol.validate import validate

OPENAI_BASE_URL = "https://api.openai.com/v1"
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
        merge_headers(headers, self.headers)
        secrets = [key] if key else []
        secrets += [credential(v) for name, v in headers.items() if SECRET_HEADER.search(name)]
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
            prices=self.prices(),
        )

    def prices(self) -> PriceTable:
        """The price table: config.toml's ``[prices."MODEL"]`` and the profile's ``prices``."""
        models = parse_model_prices(self.config.data.get("prices", {})) if self.config else {}
        return PriceTable(models, self.profile.prices if self.profile else None)

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


def select(
    options: ConnectionOptions, environ: Mapping[str, str], config: ConfigFile | None
) -> Selection:
    """Resolve the options, the environment and the config file into a ``Selection``."""
    for name in _STRING_OPTIONS:
        # `--url "$URL"` with $URL unset must not quietly fall back to another endpoint.
        if getattr(options, name) == "":
            raise UsageError(f"--{name.replace('_', '-')} is empty")
    flags = _flag_layer(options)
    env = env_layer(environ)
    if options.local:
        model, source = first([flags, env], "model", (DEFAULT_MODEL, "default"))
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
        layers.append(profile_layer(profile, f"--profile {profile.name}", where))
    layers.append(env)
    if profile is not None and not explicit:
        layers.append(profile_layer(profile, f"profile {profile.name} ({chosen_by})", where))
    kind, kind_source = first(layers, "kind", ("", "default"))
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
    check_handshake(layers)
    headers = merged_headers(layers)
    protocols = tuple(
        dict.fromkeys(p for layer in layers for p in layer.values.get("subprotocols", ((), ""))[0])
    )
    session, session_source = first(layers, "session", (None, ""))
    if session is not None:
        sources["session"] = session_source
        problem = validate({"type": "session.update", "session": dict(session)})
        if problem is not None:  # checked before connecting: nothing is sent
            file = f"{config.path}: " if config is not None else ""
            raise UsageError(f"{file}{session_source}: invalid session settings: {problem}")
    call_id = options.call_id
    auth, _ = first(layers, "auth", ("", ""))
    url: str | None = None
    key: KeySource | None = None
    bearer = auth != "api-key"
    if kind == "azure":
        endpoint, sources["url"] = first(layers, "azure_endpoint", ("", ""))
        if not endpoint:
            raise UsageError(
                "Azure OpenAI needs an endpoint: --azure-endpoint https://RESOURCE.openai.azure.com"
                " (or export AZURE_OPENAI_ENDPOINT)"
            )
        model, sources["model"] = azure_deployment(layers)
        version, version_source = first(layers, "api_version", (None, ""))
        if version:
            sources["api_version"] = version_source
        url = azure_url(endpoint, model, version, call_id, sources["url"])
        key = first_key(layers, "azure")
        bearer = key.bearer if key and key.how == "env" else auth == "bearer"
    else:
        model, sources["model"] = first(layers, "model", (DEFAULT_MODEL, "default"))
    if kind == "url":
        url, sources["url"] = first(layers, "url", ("", ""))
        url = with_query(checked_url(url, sources["url"]), {"call_id": call_id})
        in_url = dict(parse_qsl(urlsplit(url).query)).get("model")
        if in_url and sources["model"] == "default":  # say what the URL asks for
            model, sources["model"] = in_url, sources["url"]
    elif kind == "openai":
        base, sources["url"] = first(layers, "base_url", (OPENAI_BASE_URL, "default"))
        given = sources["model"] != "default" or call_id is None
        url = openai_url(base, model if given else None, call_id, sources["url"])
    if kind in ("url", "openai"):
        key = first_key(layers, "openai")
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


def _flag_layer(options: ConnectionOptions) -> Layer:
    layer = Layer()
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


def _host(url: str | None) -> str:
    return urlsplit(url or "").netloc.rpartition("@")[2] or "the endpoint"


def select_endpoint(
    *,
    url: str | None,
    api_key: str | None,
    model: str | None,
    local: bool,
    environ: Mapping[str, str],
) -> Endpoint:
    """flag > environment > default, without profiles (``select`` adds them);
    with neither a URL nor a key, the local server."""
    options = ConnectionOptions(url=url, api_key=api_key, model=model, local=local)
    return select(options, environ, None).endpoint()
