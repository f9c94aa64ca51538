"""Budget reservations in the store: atomic, so concurrent paid calls cannot overshoot."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from triage.records import LedgerEntry
from triage.store.sqlite import SqliteStore

MONTH = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
NOW = datetime(2026, 11, 20, tzinfo=UTC)


def entry(usd: float, tier: str = "paid", at: datetime = NOW) -> LedgerEntry:
    return LedgerEntry(
        at, "t-1", "security", tier, "claude", "analysis", "1", 100, 50, 0, 1.0, usd, usd, "ok"
    )


def test_a_reservation_that_fits_is_held_and_settled_by_the_real_cost(store):
    reservation = store.reserve("paid", "t-1", 0.30, 1.00, *MONTH, NOW)
    assert reservation is not None
    assert store.spent("paid", *MONTH) == 0.30
    store.settle(reservation, [entry(0.12)])
    assert store.spent("paid", *MONTH) == 0.12


def test_a_reservation_that_does_not_fit_is_refused(store):
    store.book(entry(0.95))
    assert store.reserve("paid", "t-1", 0.10, 1.00, *MONTH, NOW) is None
    assert store.reserve("paid", "t-1", 0.05, 1.00, *MONTH, NOW) is not None


def test_budgets_are_per_tier_and_per_month(store):
    store.book(entry(0.90, tier="runpod"))
    store.book(entry(0.90, at=datetime(2026, 10, 31, 23, tzinfo=UTC)))
    assert store.reserve("paid", "t-1", 0.50, 1.00, *MONTH, NOW) is not None


def test_fifty_concurrent_escalations_never_overshoot_an_almost_spent_budget(settings):
    path = settings.store.path
    setup = SqliteStore(path)
    setup.book(entry(0.55))
    setup.close()
    granted: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(50)

    def escalate() -> None:
        store = SqliteStore(path)  # its own connection, as a second process would have
        start.wait()
        reservation = store.reserve("paid", "t-x", 0.10, 1.00, *MONTH, NOW)
        if reservation is not None:
            store.settle(reservation, [entry(0.10)])
            with lock:
                granted.append(reservation)
        store.close()

    threads = [threading.Thread(target=escalate) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = SqliteStore(path)
    spent = final.spent("paid", *MONTH)
    final.close()
    assert len(granted) == 4
    assert spent <= 1.00 + 1e-9
