"""Offloading a backlog to Runpod: batches of redacted compact tickets, a reserved worst case
per job, the billed GPU seconds booked per job and split over its tickets. Whatever does not
come back answered is handed back to the local tier."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from models.port import GpuBatches
from models.schema import ModelAnswer
from triage.breaker import Breaker
from triage.costs import Price
from triage.escalation import month_window
from triage.ports import BudgetStore
from triage.store import LedgerEntry

log = structlog.get_logger("triage.offload")


@dataclass(frozen=True)
class OffloadItem:
    ticket_id: str
    text: str  # the redacted compact ticket
    category: str
    risk: str
    workflow: str


@dataclass(frozen=True)
class Prepared:
    """A model answer obtained ahead of the one-by-one pass, or why there is none."""

    tier: str
    answer: ModelAnswer | None
    error: str | None
    tokens_in: int = 0
    tokens_out: int = 0
    usd: float = 0.0


@dataclass(frozen=True)
class OffloadPolicy:
    budget_usd: float
    usd_per_second: float
    timeout_seconds: float
    batch_size: int
    template: str
    template_version: str
    baseline_price: Price | None = None  # the paid model's: what the same tokens would cost


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
        self._store = store
        self._policy = policy
        self._breaker = breaker
        self._clock = clock
        self._monotonic = monotonic

    @property
    def gpu(self) -> GpuBatches:
        return self._gpu

    def replace_policy(self, policy: OffloadPolicy) -> None:
        self._policy = policy

    def healthy(self) -> bool:
        return self._breaker.state(self._monotonic()) != "open"

    def run(self, items: list[OffloadItem]) -> dict[str, Prepared]:
        prepared: dict[str, Prepared] = {}
        size = self._policy.batch_size
        for start in range(0, len(items), size):
            batch = items[start : start + size]
            prepared.update(self._job(batch))
        return prepared

    def _job(self, batch: list[OffloadItem]) -> dict[str, Prepared]:
        policy = self._policy
        if not self._breaker.allow(self._monotonic()):
            return _all_failed(batch, "runpod cooling down after repeated failures")
        worst = policy.timeout_seconds * policy.usd_per_second
        since, until = month_window(self._clock())
        reservation = self._store.reserve(
            "runpod", None, worst, policy.budget_usd, since, until, self._clock()
        )
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
                LedgerEntry(
                    at=self._clock(),
                    ticket_id=item.ticket_id,
                    workflow=item.workflow,
                    tier="runpod",
                    model=self._gpu.model,
                    template=policy.template,
                    template_version=policy.template_version,
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                    cached_tokens=0,
                    seconds=outcome.billed_seconds / len(batch),
                    usd=share,
                    baseline_usd=0.0,
                    outcome=("ok" if answer else f"runpod {outcome.status.lower()}"),
                )
            )
        self._store.settle(reservation, entries)
        if outcome.status == "COMPLETED":
            self._breaker.success()
        else:
            self._breaker.failure(self._monotonic())
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
