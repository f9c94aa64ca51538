"""Spending on a tier that costs money (paid, Runpod): the month's budget and the breaker.

Before a call its worst case is reserved atomically against the month's budget; after it the
reservation is replaced by the ledger rows of what was really spent, and the breaker hears
whether the backend worked. One helper, so the two tiers cannot drift apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from triage.breaker import Breaker
from triage.ports import BudgetStore
from triage.records import LedgerEntry, month_window

Health = Literal["ok", "failed", "neutral"]  # neutral: our request was bad, not the backend


class Spend:
    def __init__(
        self,
        tier: str,
        store: BudgetStore,
        budget_usd: float,
        breaker: Breaker,
        clock: Callable[[], datetime],
        zone: str = "UTC",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tier = tier
        self.budget_usd = budget_usd
        self.zone = zone
        self._store = store
        self._breaker = breaker
        self._clock = clock
        self._monotonic = monotonic

    def healthy(self) -> bool:
        """False while the breaker is open (cooling down after repeated failures)."""
        return self._breaker.state(self._monotonic()) != "open"

    def allow(self) -> bool:
        """May a call be made now (the breaker closed, or this is its one trial)?"""
        return self._breaker.allow(self._monotonic())

    def reserve(self, ticket_id: str | None, usd: float) -> int | None:
        """Hold `usd` against this month's budget: None when it does not fit."""
        now = self._clock()
        since, until = month_window(now, self.zone)
        return self._store.reserve(self.tier, ticket_id, usd, self.budget_usd, since, until, now)

    def settle(self, reservation: int, entries: list[LedgerEntry], health: Health) -> None:
        """Book what was spent in place of the reservation; tell the breaker how it went."""
        self._store.settle(reservation, entries)
        if health == "ok":
            self._breaker.success()
        elif health == "failed":
            self._breaker.failure(self._monotonic())
