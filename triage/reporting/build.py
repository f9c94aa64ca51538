"""Pure: the digest's and the report's contents from a period's data (no I/O, no clock)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from triage.reporting.data import CostLine, PeriodData, TicketLine


@dataclass
class Budget:
    tier: str
    budget_usd: float
    spent_usd: float

    @property
    def share(self) -> float:
        return self.spent_usd / self.budget_usd if self.budget_usd else 0.0


@dataclass
class Digest:
    day: str
    tickets: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_priority: dict[str, int]
    by_risk: dict[str, int]
    high_risk: list[TicketLine]
    storms: list[tuple[str, int, str]]  # (first ticket, how many, subject)
    duplicates: int
    review: list[tuple[TicketLine, str]]  # (ticket, why)
    quarantine: list[TicketLine]  # in quarantine now, newest first
    quarantine_total: int
    deliveries_stuck: list[str]  # relay and webhook destinations failing, refused deliveries
    cost_by_tier: dict[str, float]
    cost_by_workflow: dict[str, float]
    total_usd: float
    baseline_usd: float

    @property
    def savings_usd(self) -> float:
        return self.baseline_usd - self.total_usd


@dataclass
class Report:
    month: str
    total_usd: float
    by_workflow: dict[str, float]
    by_tier: dict[str, float]
    baseline_all_paid_usd: float
    tickets: int
    tickets_by_tier: dict[str, int]
    cost_per_ticket: dict[str, float]
    rows: list[CostLine]  # workflow x tier
    cache_hits: int
    cache_saved_usd: float
    budgets: list[Budget]
    expensive: list[tuple[str, str, float]]
    inventory: list[dict[str, Any]]
    daily: dict[str, dict[str, float]] = field(default_factory=dict)  # day -> tier -> usd
    results_usd: float = 0.0

    @property
    def savings_usd(self) -> float:
        return self.baseline_all_paid_usd - self.total_usd

    def as_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "total_usd": round(self.total_usd, 6),
            "by_workflow": _rounded(self.by_workflow),
            "by_tier": _rounded(self.by_tier),
            "baseline_all_paid_usd": round(self.baseline_all_paid_usd, 6),
            "savings_usd": round(self.savings_usd, 6),
            "tickets": self.tickets,
            "tickets_by_tier": self.tickets_by_tier,
            "cost_per_ticket_by_workflow": _rounded(self.cost_per_ticket),
            "cache": {"hits": self.cache_hits, "saved_usd": round(self.cache_saved_usd, 6)},
            "budgets": [
                {
                    "tier": b.tier,
                    "budget_usd": b.budget_usd,
                    "spent_usd": round(b.spent_usd, 6),
                    "share": round(b.share, 4),
                }
                for b in self.budgets
            ],
            "most_expensive": [
                {"ticket": t, "workflow": w, "usd": round(u, 6)} for t, w, u in self.expensive
            ],
            "by_workflow_and_tier": [
                {
                    "workflow": r.keys[0],
                    "tier": r.keys[1],
                    "calls": r.calls,
                    "tokens_in": r.tokens_in,
                    "tokens_out": r.tokens_out,
                    "usd": round(r.usd, 6),
                }
                for r in self.rows
            ],
            "inventory": self.inventory,
        }


def build_digest(data: PeriodData) -> Digest:
    tickets = data.tickets
    high = sorted(
        (t for t in tickets if t.risk == "high" and t.status == "triaged"),
        key=lambda t: (t.priority, t.id),
    )
    storms = Counter(t.cache_of for t in tickets if t.cache_of)
    subjects = {t.id: t.subject for t in tickets}
    review: list[tuple[TicketLine, str]] = []
    for ticket in tickets:
        if ticket.needs_review and ticket.status != "quarantined":
            review.append((ticket, "; ".join(ticket.needs_review)))
    totals = _totals(data.by_workflow_tier)
    return Digest(
        day=data.window.label,
        tickets=len(tickets),
        by_status=_count(t.status for t in tickets),
        by_category=_count(t.category for t in tickets if t.status == "triaged"),
        by_priority=_count(t.priority for t in tickets if t.status == "triaged"),
        by_risk=_count(t.risk for t in tickets if t.status == "triaged"),
        high_risk=high,
        storms=[(first, n + 1, subjects.get(first, "")) for first, n in storms.most_common(10)],
        duplicates=sum(1 for t in tickets if t.status == "duplicate"),
        review=review,
        quarantine=data.quarantine,
        quarantine_total=data.quarantine_total,
        deliveries_stuck=data.deliveries_stuck,
        cost_by_tier=totals["tier"],
        cost_by_workflow=totals["workflow"],
        total_usd=sum(r.usd for r in data.by_workflow_tier),
        baseline_usd=sum(r.baseline_usd for r in data.by_workflow_tier),
    )


def build_report(data: PeriodData, budgets: list[Budget]) -> Report:
    totals = _totals(data.by_workflow_tier)
    daily: dict[str, dict[str, float]] = defaultdict(dict)
    for line in data.daily_by_tier:
        daily[line.keys[0]][line.keys[1]] = line.usd
    return Report(
        month=data.window.label,
        total_usd=sum(r.usd for r in data.by_workflow_tier),
        by_workflow=totals["workflow"],
        by_tier=totals["tier"],
        baseline_all_paid_usd=sum(r.baseline_usd for r in data.by_workflow_tier),
        tickets=data.ticket_count,
        tickets_by_tier=dict(sorted(data.tickets_by_tier.items())),
        cost_per_ticket={
            workflow: usd / data.tickets_by_workflow[workflow]
            for workflow, usd in totals["workflow"].items()
            if data.tickets_by_workflow.get(workflow)
        },
        rows=data.by_workflow_tier,
        cache_hits=sum(r.cache_hits for r in data.by_workflow_tier),
        cache_saved_usd=sum(r.cache_saved_usd for r in data.by_workflow_tier),
        budgets=budgets,
        expensive=data.expensive,
        inventory=inventory_rows(data.inventory),
        daily=dict(sorted(daily.items())),
        results_usd=data.results_usd,
    )


def inventory_rows(lines: list[CostLine]) -> list[dict[str, Any]]:
    """Each prompt template and version with its tier and workflow: calls, tokens, cost."""
    rows = []
    for line in lines:
        template, version, tier, workflow = line.keys
        rows.append(
            {
                "template": template,
                "version": version,
                "tier": tier,
                "workflow": workflow,
                "calls": line.calls,
                "tokens_in": line.tokens_in,
                "tokens_out": line.tokens_out,
                "avg_tokens_in": round(line.tokens_in / line.calls, 1) if line.calls else 0,
                "avg_tokens_out": round(line.tokens_out / line.calls, 1) if line.calls else 0,
                "usd": round(line.usd, 6),
                "cache_hits": line.cache_hits,
            }
        )
    return rows


def _totals(lines: list[CostLine]) -> dict[str, dict[str, float]]:
    by: dict[str, dict[str, float]] = {"workflow": defaultdict(float), "tier": defaultdict(float)}
    for line in lines:
        by["workflow"][line.keys[0]] += line.usd
        by["tier"][line.keys[1]] += line.usd
    return {name: dict(sorted(values.items())) for name, values in by.items()}


def _count(values: Any) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 6) for key, value in values.items()}
