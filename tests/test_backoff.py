from __future__ import annotations

from connectors.backoff import Backoff


def test_delays_grow_exponentially_up_to_the_cap():
    backoff = Backoff(first=1.0, cap=10.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_jitter_spreads_delays_within_its_fraction_and_never_past_the_cap():
    low = Backoff(first=4.0, cap=100.0, jitter=0.25).next_delay(rand=lambda: 0.0)
    high = Backoff(first=4.0, cap=100.0, jitter=0.25).next_delay(rand=lambda: 1.0)
    assert (low, high) == (3.0, 5.0)
    assert Backoff(first=100.0, cap=100.0, jitter=0.5).next_delay(rand=lambda: 1.0) == 100.0


def test_a_floor_raises_the_delay_and_reset_starts_over():
    backoff = Backoff(first=1.0, cap=300.0, jitter=0.0)
    assert backoff.next_delay(floor=30.0) == 30.0
    backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 1.0
