"""The paid tier's calls: our retry policy over the shared budget and breaker (spend.py), and
the ordered fallbacks ([[paid.fallback]]) when a provider fails.

Before every attempt the attempt's worst case is reserved atomically against the month's
budget; the real cost replaces it after (or the worst case, when the outcome is unknown: a
timeout after sending may still be billed). Retries happen only on 429, 529, 5xx and
timeouts, at most `max_attempts`, waiting what the server asks but never longer than the cap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from models.port import PaidAttempt, PaidTier
from models.schema import Analysis
from triage.breaker import Breaker
from triage.costs import Price, cost_usd, worst_case_usd
from triage.ports import BudgetStore
from triage.records import LedgerEntry
from triage.result import Attempt
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
    model: str | None = None  # who answered (a fallback, maybe)
    provider: str | None = None


@dataclass
class _Provider:
    """One link of the chain: the client, its model's price, its own breaker (an outage of
    one provider must not cool down the others), all on the one budget."""

    paid: PaidTier
    price: Price
    spend: Spend


class Escalator:
    """The paid tier and its ordered fallbacks: when one fails (5xx, timeouts, 429 past its
    retries, a refused request) the next is asked, each attempt reserved against the one
    budget and booked at its own model's price."""

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
        fallbacks: Sequence[tuple[PaidTier, Price]] = (),
    ) -> None:
        self._store = store
        self._breaker = breaker
        self._policy = policy
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._chain: list[_Provider] = []
        self.replace(policy, paid, price, fallbacks)

    @property
    def paid(self) -> PaidTier:
        """The first provider: what the answer cache and the reports name the tier by."""
        return self._chain[0].paid

    @property
    def chain(self) -> list[PaidTier]:
        return [link.paid for link in self._chain]

    def replace(
        self,
        policy: EscalationPolicy,
        paid: PaidTier,
        price: Price,
        fallbacks: Sequence[tuple[PaidTier, Price]] = (),
    ) -> None:
        """A reload: new limits, and clients built from the new settings. A provider that
        stays (same kind, address and model) keeps its breaker."""
        old = {(link.paid.provider, link.paid.model): link.spend for link in self._chain}
        self._policy = policy
        chain = []
        for number, (client, cost) in enumerate([(paid, price), *fallbacks]):
            spend = old.get((client.provider, client.model))
            if spend is None:
                breaker = (
                    self._breaker
                    if number == 0
                    else Breaker(self._breaker.failures, self._breaker.cooldown)
                )
                spend = Spend(
                    "paid",
                    self._store,
                    policy.budget_usd,
                    breaker,
                    self._clock,
                    policy.zone,
                    self._monotonic,
                )
            spend.budget_usd, spend.zone = policy.budget_usd, policy.zone
            chain.append(_Provider(client, cost, spend))
        self._chain = chain

    def healthy(self) -> bool:
        return any(link.spend.healthy() for link in self._chain)

    def escalate(self, ticket_id: str, workflow: str, values: dict[str, str]) -> EscalationOutcome:
        outcome = EscalationOutcome(analysis=None)
        problems: list[str] = []
        for link in self._chain:
            problem = self._ask(link, ticket_id, workflow, values, outcome)
            if outcome.analysis is not None:
                outcome.problem = None
                return outcome
            problems.append(problem if len(self._chain) == 1 else f"{link.paid.model}: {problem}")
            log.warning(
                "paid.provider_failed",
                ticket=ticket_id,
                provider=link.paid.provider,
                model=link.paid.model,
                error=problem,
            )
        outcome.problem = "; ".join(problems)
        return outcome

    def _ask(
        self,
        link: _Provider,
        ticket_id: str,
        workflow: str,
        values: dict[str, str],
        outcome: EscalationOutcome,
    ) -> str:
        """This provider's attempts, with the retry policy; why it gave no analysis."""
        paid, spend = link.paid, link.spend
        calls = paid.calls_per_attempt
        # Every request one attempt may send, the later ones with the earlier answers in.
        tokens = paid.count_tokens(values) + (calls - 1) * paid.max_tokens
        worst = calls * worst_case_usd(link.price, tokens, paid.max_tokens)
        problem = "not asked"
        for number in range(1, self._policy.max_attempts + 1):
            if not spend.allow():
                return "paid tier cooling down after repeated failures"
            reservation = spend.reserve(ticket_id, worst)
            if reservation is None:
                return (
                    f"paid budget exhausted: ${worst:.4f} would not fit the month's "
                    f"${self._policy.budget_usd:.2f}"
                )
            attempt = paid.attempt(values)
            self._book(link, reservation, ticket_id, workflow, attempt, worst, outcome)
            if attempt.outcome == "ok":
                outcome.analysis = attempt.analysis
                outcome.model, outcome.provider = paid.model, paid.provider
                return ""
            problem = f"paid tier: {attempt.error}"
            if attempt.outcome == "fatal":
                return problem  # a 400 or a malformed answer: retrying sends the same thing
            if number < self._policy.max_attempts:
                backoff = self._policy.first_backoff_seconds * 2 ** (number - 1)
                wait = min(self._policy.retry_cap_seconds, attempt.retry_after or backoff)
                log.warning(
                    "paid.retry",
                    ticket=ticket_id,
                    provider=paid.provider,
                    attempt=number,
                    error=attempt.error,
                    wait_seconds=wait,
                )
                self._sleep(wait)
        return problem

    def _book(
        self,
        link: _Provider,
        reservation: int,
        ticket_id: str,
        workflow: str,
        attempt: PaidAttempt,
        worst: float,
        outcome: EscalationOutcome,
    ) -> None:
        usage = attempt.usage
        billed = attempt.outcome == "unknown"
        usd = worst if billed else cost_usd(link.price, usage)
        tokens_in = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
        entry = LedgerEntry.call(
            link.paid,
            at=self._clock(),
            ticket_id=ticket_id,
            workflow=workflow,
            tier="paid",
            provider=link.paid.provider,
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
        link.spend.settle(reservation, [entry], health)
        outcome.attempts.append(
            Attempt(
                tier="paid",
                ok=attempt.outcome == "ok",
                error=attempt.error
                if len(self._chain) == 1 or attempt.error is None
                else f"{link.paid.model}: {attempt.error}",
            )
        )
        outcome.usd += usd
        outcome.tokens_in += tokens_in
        outcome.tokens_out += usage.output_tokens
        outcome.cached_tokens += usage.cache_read_tokens
