"""The Runpod tier's calls: batches of redacted compact tickets, a reserved worst case per job
(spend.py), the billed GPU seconds booked per job and split over its tickets. Whatever does
not come back answered is handed back to the local tier."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from models.port import GpuBatches
from models.schema import ModelAnswer
from triage.breaker import Breaker
from triage.costs import Price, baseline_usd
from triage.ports import BudgetStore
from triage.records import Booked, LedgerEntry, Prepared
from triage.tiers.spend import Spend

log = structlog.get_logger("triage.offload")


@dataclass(frozen=True)
class OffloadItem:
    ticket_id: str
    text: str  # the redacted compact ticket
    category: str
    risk: str
    workflow: str


@dataclass(frozen=True)
class OffloadPolicy:
    budget_usd: float
    usd_per_second: float
    timeout_seconds: float
    batch_size: int
    template: str
    template_version: str
    baseline_price: Price | None = None  # the paid model's: what the same tokens would cost
    zone: str = "UTC"  # the budget month is the calendar month in this zone


class Offloader:
    def __init__(
        self,
        gpu: GpuBatches,
        store: BudgetStore,
        policy: OffloadPolicy,
        breaker: Breaker,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gpu = gpu
        self._policy = policy
        self._spend = Spend(
            "runpod", store, policy.budget_usd, breaker, clock, policy.zone, monotonic
        )
        self._clock = clock

    @property
    def gpu(self) -> GpuBatches:
        return self._gpu

    def replace(self, policy: OffloadPolicy, gpu: GpuBatches) -> None:
        """A reload: new limits and prices, and a client built from the new settings."""
        self._policy = policy
        self._gpu = gpu
        self._spend.budget_usd, self._spend.zone = policy.budget_usd, policy.zone

    def healthy(self) -> bool:
        return self._spend.healthy()

    def run(self, items: list[OffloadItem]) -> dict[str, Prepared]:
        prepared: dict[str, Prepared] = {}
        size = self._policy.batch_size
        for start in range(0, len(items), size):
            batch = items[start : start + size]
            prepared.update(self._job(batch))
        return prepared

    def _job(self, batch: list[OffloadItem]) -> dict[str, Prepared]:
        policy = self._policy
        if not self._spend.allow():
            return _all_failed(batch, "runpod cooling down after repeated failures")
        worst = policy.timeout_seconds * policy.usd_per_second
        reservation = self._spend.reserve(None, worst)
        if reservation is None:
            return _all_failed(batch, "runpod budget exhausted")
        payload = {
            "template": policy.template,
            "version": policy.template_version,
            "tickets": [
                {"id": i.ticket_id, "text": i.text, "category": i.category, "risk": i.risk}
                for i in batch
            ],
        }
        outcome = self._gpu.run(payload)
        usd = outcome.billed_seconds * policy.usd_per_second
        share = usd / len(batch)
        answers = {str(a.get("id")): a for a in outcome.answers}
        prepared: dict[str, Prepared] = {}
        entries = []
        booked = Booked(self._gpu.model, policy.template, policy.template_version)
        price = policy.baseline_price
        for item in batch:
            reply = answers.get(item.ticket_id, {})
            answer = None
            error = outcome.error if outcome.status != "COMPLETED" else reply.get("error")
            if reply.get("answer"):
                try:
                    answer = ModelAnswer.model_validate(reply["answer"])
                except ValueError as exc:
                    error = f"invalid answer: {str(exc)[:120]}"
            if answer is None and error is None:
                error = f"no answer for this ticket (job {outcome.status})"
            tokens_in, tokens_out = int(reply.get("tokens_in", 0)), int(reply.get("tokens_out", 0))
            prepared[item.ticket_id] = Prepared(
                "runpod", answer, error if answer is None else None, tokens_in, tokens_out, share
            )
            entries.append(
                LedgerEntry.call(
                    booked,
                    at=self._clock(),
                    ticket_id=item.ticket_id,
                    workflow=item.workflow,
                    tier="runpod",
                    provider=self._gpu.provider,
                    outcome="ok" if answer else f"runpod {outcome.status.lower()}",
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                    seconds=outcome.billed_seconds / len(batch),
                    usd=share,
                    baseline_usd=baseline_usd(price, tokens_in, tokens_out) if price else 0.0,
                )
            )
        completed = outcome.status == "COMPLETED"
        self._spend.settle(reservation, entries, "ok" if completed else "failed")
        if not completed:
            log.warning(
                "runpod.job_failed",
                status=outcome.status,
                error=outcome.error,
                tickets=len(batch),
                job=outcome.job_id,
            )
        return prepared


def _all_failed(batch: list[OffloadItem], why: str) -> dict[str, Prepared]:
    return {item.ticket_id: Prepared("runpod", None, why) for item in batch}
