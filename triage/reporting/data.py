"""What the digest and the report are made of, read from the store for one period.

Every money figure comes from the ledger; the result rows only say what happened to tickets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from triage.delivery.queue import problems as delivery_problems
from triage.ports import ReportStore
from triage.records import CostLine, month_bounds


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime
    label: str  # 2026-11-24 or 2026-11


def day_window(day: date, zone: str) -> Window:
    tz = ZoneInfo(zone)
    since = datetime.combine(day, time(0), tz)
    until = datetime.combine(day + timedelta(days=1), time(0), tz)
    return Window(since, until, day.isoformat())


def report_month(year: int, month: int, zone: str) -> Window:
    """The report's month: the same calendar month the budgets count (records.month_bounds)."""
    since, until = month_bounds(year, month, zone)
    return Window(since, until, f"{year:04d}-{month:02d}")


QUARANTINE_LISTED = 50  # the digest lists the newest this many, and counts the rest


@dataclass(frozen=True)
class TicketLine:
    id: str
    status: str
    reason: str | None
    duplicate_of: str | None
    category: str
    priority: str
    risk: str
    tier: str
    cost_usd: float
    subject: str
    summary: str
    risk_reasons: list[str]
    next_steps: list[str]
    needs_review: list[str]
    cache_of: str | None
    source_ref: str = ""  # where the input came from: a file, or folder/UIDVALIDITY/UID
    received_at: str = ""  # ISO 8601
    sender: str | None = None
    requester: str | None = None
    source: str = ""
    storm_of: str | None = None
    team: str | None = None
    suggested: str | None = None  # the top knowledge suggestion: "title (source)"


@dataclass
class PeriodData:
    window: Window
    tickets: list[TicketLine] = field(default_factory=list)
    ticket_count: int = 0
    by_workflow_tier: list[CostLine] = field(default_factory=list)
    # What is in quarantine now, whichever day it came (read with the tickets).
    quarantine: list[TicketLine] = field(default_factory=list)
    quarantine_total: int = 0
    deliveries_stuck: list[str] = field(default_factory=list)  # relay/webhooks, in words
    daily_by_tier: list[CostLine] = field(default_factory=list)  # keys: (day, tier)
    inventory: list[CostLine] = field(default_factory=list)  # keys: (template, version, tier, wf)
    by_model: list[CostLine] = field(default_factory=list)  # keys: (tier, provider, model)
    tickets_by_tier: dict[str, int] = field(default_factory=dict)
    tickets_by_workflow: dict[str, int] = field(default_factory=dict)
    expensive: list[tuple[str, str, float]] = field(default_factory=list)  # id, workflow, usd
    subjects: dict[str, str] = field(default_factory=dict)  # of the expensive tickets
    results_usd: float = 0.0  # the sum of the results' cost, to check against the ledger


def read_period(store: ReportStore, window: Window, with_tickets: bool) -> PeriodData:
    since, until = window.since, window.until
    data = PeriodData(window)
    data.by_workflow_tier = store.ledger_costs(since, until, ("workflow", "tier"))
    data.inventory = store.ledger_costs(
        since, until, ("template", "template_version", "tier", "workflow")
    )
    data.by_model = store.ledger_costs(since, until, ("tier", "provider", "model"))
    zone = str(window.since.tzinfo) if window.since.tzinfo is not None else "UTC"
    data.daily_by_tier = store.ledger_costs(since, until, ("day", "tier"), zone)
    counts = store.ticket_counts(since, until)
    data.ticket_count = counts.total
    data.tickets_by_tier = counts.by_tier
    data.tickets_by_workflow = counts.by_workflow
    data.results_usd = counts.results_usd
    data.expensive = store.top_spenders(since, until, 10)
    data.subjects = store.subjects(ticket for ticket, _, _ in data.expensive)
    if with_tickets:
        data.tickets = [_line(text) for text in store.results_created(since, until)]
        data.quarantine_total = store.count_quarantined()
        data.quarantine = [_line(text) for text in store.quarantined_results(QUARANTINE_LISTED)]
        data.deliveries_stuck = delivery_problems(store)
    return data


def _line(result_json: str) -> TicketLine:
    result = json.loads(result_json)
    escalation = result.get("escalation") or {}
    return TicketLine(
        id=result["id"],
        status=result["status"],
        reason=result.get("status_reason"),
        duplicate_of=result.get("duplicate_of"),
        category=result.get("category", "other"),
        priority=result.get("priority", "P3"),
        risk=result.get("risk", "low"),
        tier=result.get("route", {}).get("tier", "rules"),
        cost_usd=float(result.get("cost", {}).get("usd", 0.0)),
        subject=result.get("subject", ""),
        summary=result.get("summary", ""),
        risk_reasons=list(result.get("risk_reasons", [])),
        next_steps=list(escalation.get("next_steps", [])),
        needs_review=list(result.get("needs_review", [])),
        cache_of=result.get("cache_of"),
        source_ref=result.get("source_ref", ""),
        received_at=str(result.get("received_at", "")),
        sender=result.get("from"),
        requester=(result.get("fields") or {}).get("requester"),
        source=result.get("source", ""),
        storm_of=result.get("storm_of"),
        team=((result.get("assignment") or {}).get("team")),
        suggested=_top_suggestion(result.get("suggestions") or []),
    )


def _top_suggestion(suggestions: list[dict[str, object]]) -> str | None:
    if not suggestions:
        return None
    top = suggestions[0]
    return f"{top.get('title', '')} ({top.get('source', '')})"


@dataclass(frozen=True)
class MonthTotals:
    """What a month cost and how many tickets it had: for comparing with the month before."""

    usd: float
    tickets: int


def month_totals(store: ReportStore, window: Window) -> MonthTotals:
    return MonthTotals(
        store.spent_total(window.since, window.until),
        store.count_created(window.since, window.until),
    )
