"""What tokens cost: a dated table of the public Realtime models' list prices, overridable.

Prices are US dollars per million tokens, per modality (text, audio, image) and kind (input,
cached input, output), as listed on developers.openai.com/api/docs/models/<model> on
``PRICES_DATE``. A model not in the table has no price: rtc says "unknown price" rather than
guess. ``config.toml`` overrides them::

    [prices."gpt-realtime"]            # per model (any name the server reports)
    audio_output = 64.0

    [profiles.azure-eu.prices]         # per profile: this profile's sessions, whatever model
    text_input = 4.4

An override table names only the rates it changes; for a model the table does not know, the
rates it leaves out cost 0. No I/O: the caller reads the file and hands the tables here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

PRICES_DATE = "2026-12-02"
PRICES_SOURCE = "developers.openai.com model pages"
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens."""

    text_input: float = 0.0
    text_cached_input: float = 0.0
    text_output: float = 0.0
    audio_input: float = 0.0
    audio_cached_input: float = 0.0
    audio_output: float = 0.0
    image_input: float = 0.0
    image_cached_input: float = 0.0


RATE_NAMES = tuple(f.name for f in fields(Price))

_GPT_REALTIME = Price(4.0, 0.4, 16.0, 32.0, 0.4, 64.0, 5.0, 0.5)
_MINI = Price(0.6, 0.06, 2.4, 10.0, 0.3, 20.0, 0.8, 0.08)
_4O_PREVIEW = Price(5.0, 2.5, 20.0, 40.0, 2.5, 80.0)
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-realtime": _GPT_REALTIME,
    "gpt-realtime-2025-08-28": _GPT_REALTIME,
    "gpt-realtime-1.5": _GPT_REALTIME,
    "gpt-realtime-2": replace(_GPT_REALTIME, text_output=24.0),
    "gpt-realtime-mini": _MINI,
    "gpt-realtime-mini-2025-10-06": _MINI,
    "gpt-realtime-mini-2025-12-15": _MINI,
    "gpt-realtime-2.1-mini": _MINI,
    "gpt-4o-realtime-preview": _4O_PREVIEW,
    "gpt-4o-realtime-preview-2024-12-17": _4O_PREVIEW,
    "gpt-4o-realtime-preview-2025-06-03": _4O_PREVIEW,
    # The first snapshot's cached audio was not yet discounted.
    "gpt-4o-realtime-preview-2024-10-01": replace(_4O_PREVIEW, audio_cached_input=20.0),
    "gpt-4o-mini-realtime-preview": Price(0.6, 0.3, 2.4, 10.0, 0.3, 20.0),
    "gpt-4o-mini-realtime-preview-2024-12-17": Price(0.6, 0.3, 2.4, 10.0, 0.3, 20.0),
}


def parse_rates(table: Any, where: str) -> dict[str, float]:
    """One override table (``{"audio_output": 64}``), checked: ``ValueError`` says what is wrong
    with it, naming ``where``."""
    if not isinstance(table, Mapping):
        raise ValueError(f"{where} must be a table of rates (e.g. audio_output = 64.0)")
    rates = {}
    for key, value in table.items():
        if key not in RATE_NAMES:
            raise ValueError(f"{where}: unknown rate {key!r} (known: {', '.join(RATE_NAMES)})")
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value < 0:
            raise ValueError(f"{where}.{key} must be USD per 1M tokens, a number >= 0")
        rates[key] = float(value)
    return rates


def parse_model_prices(table: Any, where: str = "prices") -> dict[str, dict[str, float]]:
    """The top-level ``[prices]`` table: model name → rates."""
    if not isinstance(table, Mapping):
        raise ValueError(f'{where} must be a table of [{where}."MODEL"] tables')
    return {str(model): parse_rates(rates, f'{where}."{model}"') for model, rates in table.items()}


@dataclass(frozen=True)
class PriceTable:
    """The defaults, then per-model overrides, then a profile's rates (which win for any model)."""

    models: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    profile: Mapping[str, float] | None = None

    def lookup(self, model: str | None) -> Price | None:
        """The price of ``model`` (a dated snapshot falls back to its alias), or None."""
        if not model:
            return None if self.profile is None else Price(**self.profile)
        overrides = self.models
        alias = _SNAPSHOT.sub("", model)
        base = DEFAULT_PRICES.get(model) or DEFAULT_PRICES.get(alias)
        rates = overrides.get(model) or overrides.get(alias)
        if rates is not None:
            base = replace(base or Price(), **rates)
        if self.profile is not None:
            base = replace(base or Price(), **self.profile)
        return base


DEFAULT_TABLE = PriceTable()
