from __future__ import annotations

import pytest

from triage.costs import (
    Price,
    PriceMissing,
    Usage,
    baseline_usd,
    cost_usd,
    price_for,
    worst_case_usd,
)

SONNET = Price(3.0, 15.0, cache_read_per_mtok=0.3, cache_write_per_mtok=3.75)


def test_cost_counts_each_kind_of_token_at_its_rate():
    usage = Usage(
        input_tokens=1000, output_tokens=500, cache_read_tokens=2000, cache_write_tokens=100
    )
    expected = (1000 * 3.0 + 500 * 15.0 + 2000 * 0.3 + 100 * 3.75) / 1e6
    assert cost_usd(SONNET, usage) == pytest.approx(expected)


def test_without_cache_rates_cache_tokens_cost_as_input():
    assert cost_usd(Price(1.0, 2.0), Usage(cache_read_tokens=1_000_000)) == pytest.approx(1.0)


def test_the_worst_case_is_never_below_the_real_cost():
    worst = worst_case_usd(SONNET, input_tokens=3000, max_output_tokens=1024)
    for usage in (Usage(3000, 1024), Usage(0, 1024, 0, 3000), Usage(0, 1024, 3000, 0)):
        assert cost_usd(SONNET, usage) <= worst


def test_baseline_and_missing_prices():
    assert baseline_usd(SONNET, 1_000_000, 0) == pytest.approx(3.0)
    with pytest.raises(PriceMissing, match=r'pricing\."claude-x"'):
        price_for({"claude-sonnet-4-6": SONNET}, "claude-x")
