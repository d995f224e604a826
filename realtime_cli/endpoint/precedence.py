"""Where connection settings come from, one ``Layer`` per source (the environment, a profile;
the flags' layer is built beside ``ConnectionOptions`` in ``endpoints``), and reading a setting
across layers in order of precedence.

``endpoints.select`` decides which layers apply and in which order; the helpers here only
take the first layer that has a setting, so the order given is the whole precedence rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realtime_cli.endpoint.headers import check_headers, check_subprotocols, merge_headers
from realtime_cli.endpoint.keys import KeySource
from realtime_cli.endpoint.profiles import Profile
from realtime_cli.errors import UsageError


@dataclass
class Layer:
    """One place settings come from; ``values`` maps a setting to (value, source label)."""

    values: dict[str, tuple[Any, str]] = field(default_factory=dict)
    keys: list[KeySource] = field(default_factory=list)  # in order of preference

    def put(self, name: str, value: Any, source: str) -> None:
        if value not in (None, "", (), {}):
            self.values[name] = (value, source)


def env_layer(environ: Mapping[str, str]) -> Layer:
    layer = Layer()
    for variable, kind, setting in (
        ("RTC_URL", "url", "url"),
        ("AZURE_OPENAI_ENDPOINT", "azure", "azure_endpoint"),
        ("OPENAI_BASE_URL", "openai", "base_url"),
    ):
        if environ.get(variable):
            if "kind" not in layer.values:
                layer.put("kind", kind, f"env {variable}")
            layer.put(setting, environ[variable], f"env {variable}")
    layer.put("model", environ.get("RTC_MODEL"), "env RTC_MODEL")
    layer.put("api_version", environ.get("OPENAI_API_VERSION"), "env OPENAI_API_VERSION")
    for variable, bearer in (
        ("OPENAI_API_KEY", True),
        ("AZURE_OPENAI_API_KEY", False),
        ("AZURE_OPENAI_AD_TOKEN", True),
    ):
        if environ.get(variable):
            layer.keys.append(KeySource("env", variable, environ[variable], bearer=bearer))
    return layer


def profile_layer(profile: Profile, source: str, path: Path | None) -> Layer:
    layer = Layer()
    layer.put("kind", profile.kind, source)
    for name in ("url", "base_url", "azure_endpoint", "deployment", "api_version", "model", "auth"):
        layer.put(name, getattr(profile, name), source)
    layer.put("headers", dict(profile.headers), source)
    layer.put("subprotocols", profile.subprotocols, source)
    layer.put("session", profile.session, source)
    if profile.key_env:
        layer.keys.append(KeySource("key_env", profile.name, profile.key_env))
    elif profile.key_command:
        layer.keys.append(
            KeySource(
                "command", profile.name, None, profile.key_command, profile.key_command_timeout
            )
        )
    elif profile.api_key:
        layer.keys.append(KeySource("plain", profile.name, profile.api_key, config_path=path))
    return layer


def first(layers: list[Layer], name: str, default: tuple[Any, str]) -> tuple[Any, str]:
    """``(value, source)`` of the first layer that sets ``name``, else ``default``."""
    for layer in layers:
        if name in layer.values:
            return layer.values[name]
    return default


def _keys(layers: list[Layer], kind: str) -> list[KeySource]:
    """Every key that applies to ``kind``, best first."""
    found = []
    for layer in layers:
        for key in layer.keys:
            if key.how != "env" or (kind == "azure") == key.name.startswith("AZURE_"):
                found.append(key)
    return found


def first_key(layers: list[Layer], kind: str) -> KeySource | None:
    keys = _keys(layers, kind)
    return keys[0] if keys else None


def azure_deployment(layers: list[Layer]) -> tuple[str, str]:
    """Azure names a deployment: --deployment, else --model, else the profile's deployment or
    model. (RTC_MODEL is not used: deployment names belong to one resource.)"""
    for layer in layers:
        for name in ("deployment", "model"):
            value, source = layer.values.get(name, (None, ""))
            if value and not source.startswith("env"):
                return value, source
    raise UsageError("Azure OpenAI needs a deployment: --deployment NAME (or in the profile)")


def merged_headers(layers: list[Layer]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for layer in reversed(layers):  # higher layers override lower ones, name by name
        merge_headers(headers, layer.values.get("headers", ({}, ""))[0])
    return headers


def check_handshake(layers: list[Layer]) -> None:
    """Every header and subprotocol is one the handshake can carry, checked layer by layer so
    the error names where the bad one came from, before anything connects."""
    for layer in layers:
        check_headers(*layer.values.get("headers", ({}, "")))
        check_subprotocols(*layer.values.get("subprotocols", ((), "")))
