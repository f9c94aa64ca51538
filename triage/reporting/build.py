"""Pure: the monthly report's contents from a period's data (no I/O, no clock: the moment
the report is made comes in as an argument). The digest is built in `digest.py`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from triage.records import CostLine
from triage.reporting.data import MonthTotals, PeriodData
from triage.reporting.digest import Digest, build_digest
from triage.rules.sensitivity import CARD, CREDENTIAL, EMAIL, IBAN, PHONE, scrub

__all__ = ["Budget", "Digest", "Report", "build_digest", "build_report", "inventory_rows"]

SCRUBBED = (CREDENTIAL, CARD, IBAN, PHONE, EMAIL)  # a subject in a finance report names no one


@dataclass
class Budget:
    tier: str
    budget_usd: float
    spent_usd: float

    @property
    def share(self) -> float:
        return self.spent_usd / self.budget_usd if self.budget_usd else 0.0


@dataclass(frozen=True)
class Group:
    """Rows of a table under one heading (a workflow, a template), with their subtotal."""

    name: str
    rows: list[Any]
    calls: int
    tokens_in: int
    tokens_out: int
    usd: float


@dataclass(frozen=True)
class Projection:
    """Where the month ends if it goes on as it went, against the enabled budgets."""

    complete: bool  # the month is over: the projection is the total
    elapsed_share: float  # of the month, 0-1
    projected_usd: float
    budget_usd: float  # the enabled tiers' budgets together; 0 when none is enabled

    @property
    def over_budget(self) -> bool:
        return bool(self.budget_usd) and self.projected_usd > self.budget_usd


@dataclass(frozen=True)
class Expensive:
    ticket: str
    workflow: str
    usd: float
    subject: str  # scrubbed


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
    expensive: list[Expensive]
    inventory: list[dict[str, Any]]
    daily: dict[str, dict[str, float]] = field(default_factory=dict)  # day -> tier -> usd
    by_model: list[CostLine] = field(default_factory=list)  # keys: (tier, provider, model)
    results_usd: float = 0.0
    previous: MonthTotals | None = None
    previous_month: str = ""
    projection: Projection | None = None
    days_in_month: int = 30

    @property
    def savings_usd(self) -> float:
        return self.baseline_all_paid_usd - self.total_usd

    @property
    def calls(self) -> int:
        return sum(row.calls for row in self.rows)

    @property
    def rules_only(self) -> bool:
        """No model was called: every ticket was answered by the rules."""
        return not self.rows and set(self.tickets_by_tier) <= {"rules"}

    @property
    def by_workflow_groups(self) -> list[Group]:
        return _groups(self.rows, lambda row: row.keys[0])

    @property
    def inventory_groups(self) -> list[Group]:
        return _groups(self.inventory, lambda row: row["template"])

    @property
    def daily_budget_usd(self) -> float:
        budget = sum(b.budget_usd for b in self.budgets)
        return budget / self.days_in_month if budget else 0.0

    def change(self, now: float, then: float) -> str:
        if not then:
            return "new" if now else "same"
        return f"{(now - then) / then:+.0%}"

    def as_json(self) -> dict[str, Any]:
        projection = self.projection
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
                {
                    "ticket": e.ticket,
                    "workflow": e.workflow,
                    "usd": round(e.usd, 6),
                    "subject": e.subject,
                }
                for e in self.expensive
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
            "by_provider_and_model": [
                {
                    "tier": r.keys[0],
                    "provider": r.keys[1] or None,
                    "model": r.keys[2] or None,
                    "calls": r.calls,
                    "tokens_in": r.tokens_in,
                    "tokens_out": r.tokens_out,
                    "usd": round(r.usd, 6),
                }
                for r in self.by_model
            ],
            "previous_month": None
            if self.previous is None
            else {
                "month": self.previous_month,
                "total_usd": round(self.previous.usd, 6),
                "tickets": self.previous.tickets,
            },
            "projection": None
            if projection is None
            else {
                "complete": projection.complete,
                "projected_usd": round(projection.projected_usd, 6),
                "budget_usd": projection.budget_usd,
            },
        }


def build_report(
    data: PeriodData,
    budgets: list[Budget],
    previous: MonthTotals | None = None,
    as_of: datetime | None = None,
) -> Report:
    """`as_of`: when the report is made; a month not over yet is projected to its end."""
    totals = _totals(data.by_workflow_tier)
    daily: dict[str, dict[str, float]] = defaultdict(dict)
    for line in data.daily_by_tier:
        daily[line.keys[0]][line.keys[1]] = line.usd
    total = sum(r.usd for r in data.by_workflow_tier)
    window = data.window
    year, month = window.since.year, window.since.month
    return Report(
        month=window.label,
        total_usd=total,
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
        expensive=[
            Expensive(ticket, workflow, usd, scrub(data.subjects.get(ticket, ""), SCRUBBED))
            for ticket, workflow, usd in data.expensive
        ],
        inventory=inventory_rows(data.inventory),
        daily=dict(sorted(daily.items())),
        by_model=[line for line in data.by_model if line.keys[2]],
        results_usd=data.results_usd,
        previous=previous,
        previous_month=f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}",
        projection=project(total, window.since, window.until, budgets, as_of),
        days_in_month=(window.until - window.since).days or 30,
    )


def project(
    total: float,
    since: datetime,
    until: datetime,
    budgets: list[Budget],
    as_of: datetime | None,
) -> Projection:
    budget = sum(b.budget_usd for b in budgets)
    if as_of is None or as_of >= until:
        return Projection(True, 1.0, total, budget)
    share = max((as_of - since) / (until - since), 1 / 31 / 24)  # at least an hour's worth
    return Projection(False, share, total / share, budget)


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


def _groups(rows: list[Any], key: Any) -> list[Group]:
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(str(key(row)), []).append(row)

    def total(items: list[Any], name: str) -> Any:
        return sum(
            (item[name] if isinstance(item, dict) else getattr(item, name)) for item in items
        )

    groups = [
        Group(
            name,
            items,
            total(items, "calls"),
            total(items, "tokens_in"),
            total(items, "tokens_out"),
            total(items, "usd"),
        )
        for name, items in grouped.items()
    ]
    return sorted(groups, key=lambda g: (-g.usd, g.name))


def _totals(lines: list[CostLine]) -> dict[str, dict[str, float]]:
    by: dict[str, dict[str, float]] = {"workflow": defaultdict(float), "tier": defaultdict(float)}
    for line in lines:
        by["workflow"][line.keys[0]] += line.usd
        by["tier"][line.keys[1]] += line.usd
    return {name: dict(sorted(values.items())) for name, values in by.items()}


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 6) for key, value in values.items()}
