"""The paid tier's calls: our retry policy over the shared budget and breaker (spend.py).

Before every attempt the attempt's worst case is reserved atomically against the month's
budget; the real cost replaces it after (or the worst case, when the outcome is unknown: a
timeout after sending may still be billed). Retries happen only on 429, 529, 5xx and
timeouts, at most `max_attempts`, waiting what the server asks but never longer than the cap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from models.port import PaidAttempt, PaidTier
from models.schema import Analysis
from triage.costs import Price, cost_usd, worst_case_usd
from triage.ports import BudgetStore
from triage.records import LedgerEntry
from triage.result import Attempt
from triage.tiers.breaker import Breaker
from triage.tiers.spend import Health, Spend

log = structlog.get_logger("triage.escalation")


@dataclass(frozen=True)
class EscalationPolicy:
    budget_usd: float
    max_attempts: int
    retry_cap_seconds: float
    first_backoff_seconds: float = 1.0
    zone: str = "UTC"  # the budget month is the calendar month in this zone


@dataclass
class EscalationOutcome:
    analysis: Analysis | None
    attempts: list[Attempt] = field(default_factory=list)
    usd: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cached_tokens: int = 0
    problem: str | None = None  # why there is no analysis, for needs_review


class Escalator:
    def __init__(
        self,
        paid: PaidTier,
        price: Price,
        store: BudgetStore,
        policy: EscalationPolicy,
        breaker: Breaker,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.paid = paid
        self._price = price
        self._policy = policy
        self._spend = Spend(
            "paid", store, policy.budget_usd, breaker, clock, policy.zone, monotonic
        )
        self._clock = clock
        self._sleep = sleep

    def replace(self, policy: EscalationPolicy, paid: PaidTier, price: Price) -> None:
        """A reload: new limits, and a client built from the new settings."""
        self._policy = policy
        self.paid = paid
        self._price = price
        self._spend.budget_usd, self._spend.zone = policy.budget_usd, policy.zone

    def healthy(self) -> bool:
        return self._spend.healthy()

    def escalate(self, ticket_id: str, workflow: str, values: dict[str, str]) -> EscalationOutcome:
        outcome = EscalationOutcome(analysis=None)
        worst = worst_case_usd(self._price, self.paid.count_tokens(values), self.paid.max_tokens)
        for number in range(1, self._policy.max_attempts + 1):
            if not self._spend.allow():
                outcome.problem = "paid tier cooling down after repeated failures"
                break
            reservation = self._spend.reserve(ticket_id, worst)
            if reservation is None:
                outcome.problem = (
                    f"paid budget exhausted: ${worst:.4f} would not fit the month's "
                    f"${self._policy.budget_usd:.2f}"
                )
                break
            attempt = self.paid.attempt(values)
            self._book(reservation, ticket_id, workflow, attempt, worst, outcome)
            if attempt.outcome == "ok":
                outcome.analysis = attempt.analysis
                outcome.problem = None
                break
            outcome.problem = f"paid tier: {attempt.error}"
            if attempt.outcome == "fatal":
                break  # a 400 or a malformed answer: retrying sends the same thing again
            if number < self._policy.max_attempts:
                backoff = self._policy.first_backoff_seconds * 2 ** (number - 1)
                wait = min(self._policy.retry_cap_seconds, attempt.retry_after or backoff)
                log.warning(
                    "paid.retry",
                    ticket=ticket_id,
                    attempt=number,
                    error=attempt.error,
                    wait_seconds=wait,
                )
                self._sleep(wait)
        return outcome

    def _book(
        self,
        reservation: int,
        ticket_id: str,
        workflow: str,
        attempt: PaidAttempt,
        worst: float,
        outcome: EscalationOutcome,
    ) -> None:
        usage = attempt.usage
        billed = attempt.outcome == "unknown"
        usd = worst if billed else cost_usd(self._price, usage)
        tokens_in = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
        entry = LedgerEntry.call(
            self.paid,
            at=self._clock(),
            ticket_id=ticket_id,
            workflow=workflow,
            tier="paid",
            outcome="unknown: possibly billed" if billed else attempt.outcome,
            tokens_in=tokens_in,
            tokens_out=usage.output_tokens,
            cached_tokens=usage.cache_read_tokens,
            seconds=attempt.seconds,
            usd=usd,
            baseline_usd=usd,
        )
        health: Health = (
            "ok"
            if attempt.outcome == "ok"
            else "neutral"
            if attempt.outcome == "fatal"  # a 400: our request, not the backend, was bad
            else "failed"
        )
        self._spend.settle(reservation, [entry], health)
        outcome.attempts.append(
            Attempt(tier="paid", ok=attempt.outcome == "ok", error=attempt.error)
        )
        outcome.usd += usd
        outcome.tokens_in += tokens_in
        outcome.tokens_out += usage.output_tokens
        outcome.cached_tokens += usage.cache_read_tokens
