"""Meters: what a response took (latency, tokens by modality, tokens per second, cost) and what a
session has taken so far. Sans-I/O: built from the tracker's ``ResponseState`` and a price table.

Latencies count from the ``response.create`` rtc sent (or, for a response the server started
itself, from its ``response.created``): to ``response.created``, to the first delta (text, audio
or function-call arguments), to ``response.done``. Tokens per second is the output tokens over
the streaming time (first delta to done). Cost prices each modality's uncached input, cached
input and output; cached tokens are a part of the input tokens (openai.types.realtime).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from realtime_cli.protocol.events import JSON
from realtime_cli.protocol.fields import count, obj
from realtime_cli.protocol.prices import DEFAULT_TABLE, PRICES_DATE, Price, PriceTable
from realtime_cli.protocol.tracker import ResponseState

UNKNOWN_PRICE = "unknown price"
MODALITIES = ("text", "audio", "image")


@dataclass(frozen=True)
class Tokens:
    """Tokens by modality. ``cached_*`` are the part of ``input_*`` read from the cache."""

    input_text: int = 0
    input_audio: int = 0
    input_image: int = 0
    cached_text: int = 0
    cached_audio: int = 0
    cached_image: int = 0
    output_text: int = 0
    output_audio: int = 0

    @property
    def input(self) -> int:
        return self.input_text + self.input_audio + self.input_image

    @property
    def cached(self) -> int:
        return self.cached_text + self.cached_audio + self.cached_image

    @property
    def output(self) -> int:
        return self.output_text + self.output_audio

    def cost(self, price: Price) -> float:
        """US dollars."""
        total = 0.0
        for modality in MODALITIES:
            given = getattr(self, f"input_{modality}")
            cached = min(given, getattr(self, f"cached_{modality}"))
            total += (given - cached) * getattr(price, f"{modality}_input")
            total += cached * getattr(price, f"{modality}_cached_input")
        total += self.output_text * price.text_output + self.output_audio * price.audio_output
        return total / 1_000_000

    def as_json(self) -> JSON:
        return {
            "input": {
                "text": self.input_text,
                "audio": self.input_audio,
                "image": self.input_image,
            },
            "cached": {
                "text": self.cached_text,
                "audio": self.cached_audio,
                "image": self.cached_image,
            },
            "output": {"text": self.output_text, "audio": self.output_audio},
        }


def tokens_of(usage: JSON | None) -> Tokens:
    """``usage`` (the tracker's: integers only) by modality. Without details, input and output are
    text, and ``cached_tokens`` without its details is cached text."""
    if not usage:
        return Tokens()
    given, out = obj(usage.get("input_token_details")), obj(usage.get("output_token_details"))
    cached = obj(given.get("cached_tokens_details"))
    audio, image = count(given.get("audio_tokens")), count(given.get("image_tokens"))
    in_text = count(
        given.get("text_tokens"), max(0, count(usage.get("input_tokens")) - audio - image)
    )
    cached_audio, cached_image = (
        count(cached.get("audio_tokens")),
        count(cached.get("image_tokens")),
    )
    cached_text = count(
        cached.get("text_tokens"),
        max(0, count(given.get("cached_tokens")) - cached_audio - cached_image),
    )
    out_audio = count(out.get("audio_tokens"))
    out_text = count(out.get("text_tokens"), max(0, count(usage.get("output_tokens")) - out_audio))
    return Tokens(
        in_text, audio, image, cached_text, cached_audio, cached_image, out_text, out_audio
    )


@dataclass(frozen=True)
class Meter:
    """One response measured. Durations in seconds, None where not known (yet)."""

    id: str
    status: str
    model: str | None
    created: float | None
    first_delta: float | None
    done: float | None
    tokens_per_s: float | None
    tokens: Tokens
    cost: float | None  # None: unknown price, or no usage yet

    @property
    def price_note(self) -> str:
        return UNKNOWN_PRICE if self.cost is None else f"list prices of {PRICES_DATE}"

    def cost_text(self) -> str:
        """``$0.000512`` or ``unknown price``."""
        return UNKNOWN_PRICE if self.cost is None else dollars(self.cost)

    def as_json(self) -> JSON:
        """Seconds as milliseconds (rounded to 0.1), for scripts."""
        return {
            "id": self.id,
            "status": self.status,
            "model": self.model,
            "timings_ms": {
                "created": _ms(self.created),
                "first_delta": _ms(self.first_delta),
                "done": _ms(self.done),
            },
            "output_tokens_per_s": None
            if self.tokens_per_s is None
            else round(self.tokens_per_s, 1),
            "tokens": self.tokens.as_json(),
            "cost_usd": None if self.cost is None else round(self.cost, 8),
            "price": f"{self.model}, prices of {PRICES_DATE}"
            if self.cost is not None
            else UNKNOWN_PRICE,
        }


def meter_line(meter: Meter) -> str:
    """``42.0 tok/s · est. $0.000512 (gpt-realtime)``: the panel's row."""
    parts = [] if meter.tokens_per_s is None else [f"{meter.tokens_per_s:.1f} tok/s"]
    if meter.cost is None:
        parts.append(f"{UNKNOWN_PRICE} ({meter.model or 'no model'})")
    else:
        parts.append(f"est. {dollars(meter.cost)} ({meter.model})")
    return " · ".join(parts)


def dollars(amount: float) -> str:
    """Small amounts keep their digits: ``$0.000512``, ``$1.25``."""
    if amount == 0:
        return "$0"
    return f"${amount:.2f}" if amount >= 1 else f"${amount:.6f}".rstrip("0")


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def measure(
    response: ResponseState, model: str | None, prices: PriceTable = DEFAULT_TABLE
) -> Meter:
    start = response.t_request if response.t_request is not None else response.t_created

    def since(t: float | None) -> float | None:
        return None if t is None else max(0.0, t - start)

    tokens = tokens_of(response.usage)
    rate = None
    if response.usage and response.t_first_delta is not None and response.t_done is not None:
        streaming = response.t_done - response.t_first_delta
        # One delta is no stream: its "rate" would be its tokens over the moment between it and
        # response.done (two tokens in half a millisecond read as 4,000 tok/s).
        if response.deltas > 1 and streaming > 0:
            rate = tokens.output / streaming
    price = prices.lookup(model)
    cost = tokens.cost(price) if price is not None and response.usage else None
    return Meter(
        id=response.id,
        status=response.status,
        model=model,
        created=since(response.t_created) if response.t_request is not None else None,
        first_delta=since(response.t_first_delta),
        done=since(response.t_done),
        tokens_per_s=rate,
        tokens=tokens,
        cost=cost,
    )


def session_model(session: JSON | None, fallback: str | None) -> str | None:
    """The model the server says the session runs (``session.model``), else the one asked for."""
    model = obj(session).get("model")
    return model if isinstance(model, str) and model else fallback


@dataclass
class Totals:
    """A session's finished responses added up; ``add`` is O(1)."""

    responses: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    unpriced: int = 0  # responses with usage but no known price

    def add(self, meter: Meter) -> None:
        self.responses += 1
        self.by_status[meter.status] = self.by_status.get(meter.status, 0) + 1
        self.input_tokens += meter.tokens.input
        self.cached_tokens += meter.tokens.cached
        self.output_tokens += meter.tokens.output
        if meter.cost is not None:
            self.cost += meter.cost
        elif meter.tokens.input or meter.tokens.output:
            self.unpriced += 1

    def cost_text(self) -> str:
        if self.unpriced and self.unpriced == self.responses:
            return UNKNOWN_PRICE
        text = dollars(self.cost)
        return text + (f" (+{self.unpriced} {UNKNOWN_PRICE})" if self.unpriced else "")

    def line(self) -> str:
        """``3 responses (3 completed) · 120 in / 45 out tokens · $0.000912``."""
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(self.by_status.items()))
        noun = "response" if self.responses == 1 else "responses"
        head = f"{self.responses} {noun}" + (f" ({statuses})" if statuses else "")
        return (
            f"{head} · {self.input_tokens} in / {self.output_tokens} out tokens"
            f" · {self.cost_text()}"
        )

    def short(self) -> str:
        """The toolbar's: ``3 resp · 165 tok · $0.000912``."""
        tokens = self.input_tokens + self.output_tokens
        return f"{self.responses} resp · {tokens} tok · {self.cost_text()}"

    def as_json(self) -> JSON:
        return {
            "responses": self.responses,
            "by_status": dict(self.by_status),
            "input_tokens": self.input_tokens,
            "cached_tokens": self.cached_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost, 8),
            "unpriced_responses": self.unpriced,
        }
