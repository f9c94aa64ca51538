"""What the digest and the report are made of, read from the store for one period.

Every money figure comes from the ledger; the result rows only say what happened to tickets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from triage.delivery.queue import problems as delivery_problems
from triage.records import month_bounds
from triage.store import utc_text


class Queryable(Protocol):
    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]: ...


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


@dataclass(frozen=True)
class CostLine:
    """Ledger rows grouped by some keys."""

    keys: tuple[str, ...]
    calls: int
    tokens_in: int
    tokens_out: int
    usd: float
    baseline_usd: float
    cache_hits: int
    cache_saved_usd: float


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
    tickets_by_tier: dict[str, int] = field(default_factory=dict)
    tickets_by_workflow: dict[str, int] = field(default_factory=dict)
    expensive: list[tuple[str, str, float]] = field(default_factory=list)  # id, workflow, usd
    subjects: dict[str, str] = field(default_factory=dict)  # of the expensive tickets
    results_usd: float = 0.0  # the sum of the results' cost, to check against the ledger


_COST_COLUMNS = (
    "count(*), coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0),"
    " coalesce(sum(usd), 0), coalesce(sum(baseline_usd), 0),"
    " coalesce(sum(outcome = 'cache_hit'), 0),"
    " coalesce(sum(CASE WHEN outcome = 'cache_hit' THEN baseline_usd ELSE 0 END), 0)"
)


def _costs(store: Queryable, window: Window, *columns: str) -> list[CostLine]:
    keys = ", ".join(columns)
    rows = store.query(
        f"SELECT {keys}, {_COST_COLUMNS} FROM ledger WHERE at >= ? AND at < ?"
        f" GROUP BY {keys} ORDER BY {keys}",
        (utc_text(window.since), utc_text(window.until)),
    )
    return [_cost_line(row, len(columns)) for row in rows]


def _cost_line(row: tuple[object, ...], width: int) -> CostLine:
    return CostLine(
        keys=tuple(str(v) for v in row[:width]),
        calls=int(str(row[width])),
        tokens_in=int(str(row[width + 1])),
        tokens_out=int(str(row[width + 2])),
        usd=float(str(row[width + 3])),
        baseline_usd=float(str(row[width + 4])),
        cache_hits=int(str(row[width + 5])),
        cache_saved_usd=float(str(row[width + 6])),
    )


def local_days(window: Window) -> list[tuple[str, str, str]]:
    """(day, its start, the next day's start) for each day of the window in the window's
    time zone, the bounds as the ledger writes times (UTC text): a day is 23 or 25 hours
    long when the clocks change, and each call lands on the day its local time names."""
    zone = window.since.tzinfo
    first = window.since.date()
    days = []
    for number in range((window.until.date() - first).days):
        day = first + timedelta(days=number)
        since = max(datetime.combine(day, time(0), zone), window.since)
        until = min(datetime.combine(day + timedelta(days=1), time(0), zone), window.until)
        days.append((day.isoformat(), utc_text(since), utc_text(until)))
    return days


def _daily_costs(store: Queryable, window: Window) -> list[CostLine]:
    """Cost lines keyed (day, tier), each call on its day in the window's time zone."""
    days = local_days(window)
    if not days:
        return []
    rows = ", ".join("(?, ?, ?)" for _ in days)
    found = store.query(
        f"WITH days(day, since, until) AS (VALUES {rows})"
        f" SELECT days.day, tier, {_COST_COLUMNS} FROM ledger"
        " JOIN days ON ledger.at >= days.since AND ledger.at < days.until"
        " GROUP BY days.day, tier ORDER BY days.day, tier",
        tuple(value for day in days for value in day),
    )
    return [_cost_line(row, 2) for row in found]


def read_period(store: Queryable, window: Window, with_tickets: bool) -> PeriodData:
    since, until = utc_text(window.since), utc_text(window.until)
    data = PeriodData(window)
    data.by_workflow_tier = _costs(store, window, "workflow", "tier")
    data.inventory = _costs(store, window, "template", "template_version", "tier", "workflow")
    data.daily_by_tier = _daily_costs(store, window)
    where = "created_at >= ? AND created_at < ?"
    data.ticket_count = int(
        str(
            store.query(
                f"SELECT count(*) FROM tickets WHERE {where}",
                (since, until),
            )[0][0]
        )
    )
    data.tickets_by_tier = {
        str(tier): int(str(n))
        for tier, n in store.query(
            f"SELECT tier, count(*) FROM tickets WHERE {where} GROUP BY tier", (since, until)
        )
    }
    data.tickets_by_workflow = {
        str(wf): int(str(n))
        for wf, n in store.query(
            f"SELECT workflow, count(*) FROM tickets WHERE {where} GROUP BY workflow",
            (since, until),
        )
    }
    data.results_usd = float(
        str(
            store.query(
                f"SELECT coalesce(sum(cost_usd), 0) FROM tickets WHERE {where}", (since, until)
            )[0][0]
        )
    )
    data.expensive = [
        (str(ticket), str(workflow), float(str(usd)))
        for ticket, workflow, usd in store.query(
            "SELECT ticket_id, max(workflow), sum(usd) AS cost FROM ledger WHERE at >= ?"
            " AND at < ? AND ticket_id IS NOT NULL GROUP BY ticket_id HAVING cost > 0"
            " ORDER BY cost DESC LIMIT 10",
            (since, until),
        )
    ]
    ids = [ticket for ticket, _, _ in data.expensive]
    if ids:
        marks = ", ".join("?" * len(ids))
        data.subjects = {
            str(ticket): str(subject or "")
            for ticket, subject in store.query(
                f"SELECT id, json_extract(result, '$.subject') FROM tickets WHERE id IN ({marks})",
                tuple(ids),
            )
        }
    if with_tickets:
        data.tickets = [
            _line(str(row[0]))
            for row in store.query(
                f"SELECT result FROM tickets WHERE {where} ORDER BY created_at",
                (since, until),
            )
        ]
        quarantined = "FROM tickets WHERE status = 'quarantined'"
        data.quarantine_total = int(str(store.query(f"SELECT count(*) {quarantined}")[0][0]))
        data.quarantine = [
            _line(str(row[0]))
            for row in store.query(
                f"SELECT result {quarantined} ORDER BY created_at DESC LIMIT ?",
                (QUARANTINE_LISTED,),
            )
        ]
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
    )


def spent_by_tier(store: Queryable, since: datetime, until: datetime) -> dict[str, float]:
    """Booked cost per tier in [since, until)."""
    rows = store.query(
        "SELECT tier, coalesce(sum(usd), 0) FROM ledger WHERE at >= ? AND at < ? GROUP BY tier",
        (utc_text(since), utc_text(until)),
    )
    return {str(tier): float(str(usd)) for tier, usd in rows}


@dataclass(frozen=True)
class MonthTotals:
    """What a month cost and how many tickets it had: for comparing with the month before."""

    usd: float
    tickets: int


def month_totals(store: Queryable, window: Window) -> MonthTotals:
    since, until = utc_text(window.since), utc_text(window.until)
    usd = store.query(
        "SELECT coalesce(sum(usd), 0) FROM ledger WHERE at >= ? AND at < ?", (since, until)
    )
    count = store.query(
        "SELECT count(*) FROM tickets WHERE created_at >= ? AND created_at < ?", (since, until)
    )
    return MonthTotals(float(str(usd[0][0])), int(str(count[0][0])))
