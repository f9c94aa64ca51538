"""Pure cost arithmetic: prices per million tokens, worst cases for budget reservations, and
the all-paid baseline the reports compare against."""

from __future__ import annotations

from dataclasses import dataclass

from triage.errors import PriceMissing

MILLION = 1_000_000


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float
    cache_read_per_mtok: float | None = None
    cache_write_per_mtok: float | None = None


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0  # not counting cache reads and writes
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


def price_for(prices: dict[str, Price], model: str) -> Price:
    try:
        return prices[model]
    except KeyError:
        raise PriceMissing(
            f'no [pricing."{model}"] in the config: add its input_per_mtok and output_per_mtok'
        ) from None


def cost_usd(price: Price, usage: Usage) -> float:
    read = (
        price.cache_read_per_mtok if price.cache_read_per_mtok is not None else price.input_per_mtok
    )
    write = (
        price.cache_write_per_mtok
        if price.cache_write_per_mtok is not None
        else price.input_per_mtok
    )
    return (
        usage.input_tokens * price.input_per_mtok
        + usage.output_tokens * price.output_per_mtok
        + usage.cache_read_tokens * read
        + usage.cache_write_tokens * write
    ) / MILLION


def worst_case_usd(price: Price, input_tokens: int, max_output_tokens: int) -> float:
    """What a call can cost at most: every input token written to the cache at the dearer
    rate, and the full max_tokens of output."""
    write = max(price.input_per_mtok, price.cache_write_per_mtok or 0.0)
    return (input_tokens * write + max_output_tokens * price.output_per_mtok) / MILLION


def baseline_usd(price: Price, tokens_in: int, tokens_out: int) -> float:
    """What the same tokens would have cost on the paid model, with no cache."""
    return (tokens_in * price.input_per_mtok + tokens_out * price.output_per_mtok) / MILLION
