"""Escalation to the paid tier: our retry policy, the budget and the circuit breaker.

Before every attempt the attempt's worst case is reserved atomically against the month's
budget; the real cost replaces it after (or the worst case, when the outcome is unknown: a
timeout after sending may still be billed). Retries happen only on 429, 529, 5xx and
timeouts, at most `max_attempts`, waiting what the server asks but never longer than the cap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from models.port import PaidAttempt, PaidTier
from models.schema import Analysis
from triage.breaker import Breaker
from triage.costs import Price, cost_usd, worst_case_usd
from triage.ports import BudgetStore
from triage.result import Attempt
from triage.store import LedgerEntry

log = structlog.get_logger("triage.escalation")


@dataclass(frozen=True)
class EscalationPolicy:
    budget_usd: float
    max_attempts: int
    retry_cap_seconds: float
    first_backoff_seconds: float = 1.0


@dataclass
class EscalationOutcome:
    analysis: Analysis | None
    attempts: list[Attempt] = field(default_factory=list)
    usd: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cached_tokens: int = 0
    problem: str | None = None  # why there is no analysis, for needs_review


def month_window(moment: datetime) -> tuple[datetime, datetime]:
    start = moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


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
        self._store = store
        self._policy = policy
        self._breaker = breaker
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep

    def replace_policy(self, policy: EscalationPolicy) -> None:
        self._policy = policy

    def healthy(self) -> bool:
        return self._breaker.state(self._monotonic()) != "open"

    def escalate(self, ticket_id: str, workflow: str, values: dict[str, str]) -> EscalationOutcome:
        outcome = EscalationOutcome(analysis=None)
        worst = worst_case_usd(self._price, self.paid.count_tokens(values), self.paid.max_tokens)
        for number in range(1, self._policy.max_attempts + 1):
            if not self._breaker.allow(self._monotonic()):
                outcome.problem = "paid tier cooling down after repeated failures"
                break
            since, until = month_window(self._clock())
            reservation = self._store.reserve(
                "paid", ticket_id, worst, self._policy.budget_usd, since, until, self._clock()
            )
            if reservation is None:
                outcome.problem = (
                    f"paid budget exhausted: ${worst:.4f} would not fit the month's "
                    f"${self._policy.budget_usd:.2f}"
                )
                break
            attempt = self.paid.attempt(values)
            self._book(reservation, ticket_id, workflow, attempt, worst, outcome)
            if attempt.outcome == "ok":
                self._breaker.success()
                outcome.analysis = attempt.analysis
                outcome.problem = None
                break
            outcome.problem = f"paid tier: {attempt.error}"
            if attempt.outcome == "fatal":
                break  # a 400 or a malformed answer: retrying sends the same thing again
            self._breaker.failure(self._monotonic())
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
        self._store.settle(
            reservation,
            [
                LedgerEntry(
                    at=self._clock(),
                    ticket_id=ticket_id,
                    workflow=workflow,
                    tier="paid",
                    model=self.paid.model,
                    template=self.paid.template,
                    template_version=self.paid.template_version,
                    tokens_in=tokens_in,
                    tokens_out=usage.output_tokens,
                    cached_tokens=usage.cache_read_tokens,
                    seconds=attempt.seconds,
                    usd=usd,
                    baseline_usd=usd,
                    outcome="unknown: possibly billed" if billed else attempt.outcome,
                )
            ],
        )
        outcome.attempts.append(
            Attempt(tier="paid", ok=attempt.outcome == "ok", error=attempt.error)
        )
        outcome.usd += usd
        outcome.tokens_in += tokens_in
        outcome.tokens_out += usage.output_tokens
        outcome.cached_tokens += usage.cache_read_tokens
