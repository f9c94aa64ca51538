"""What the digest, the monthly report, /metrics and the scheduler read: typed answers from
the tickets, the ledger, the cursors and the deliveries. Read-only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from triage.records import CallTotal, CostLine, LedgerKey, TicketCounts, TicketTotal
from triage.store.database import Database
from triage.store.rows import utc_text

# What each ledger key groups by, in SQL both stores speak.
LEDGER_KEYS: dict[LedgerKey, str] = {
    "workflow": "workflow",
    "tier": "tier",
    "template": "template",
    "template_version": "template_version",
    "provider": "coalesce(provider, '')",
    "model": "coalesce(model, '')",
}
_COST_COLUMNS = (
    "count(*), coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0),"
    " coalesce(sum(usd), 0), coalesce(sum(baseline_usd), 0),"
    " coalesce(sum(outcome = 'cache_hit'), 0),"
    " coalesce(sum(CASE WHEN outcome = 'cache_hit' THEN baseline_usd ELSE 0 END), 0)"
)
_CREATED_IN = "created_at >= ? AND created_at < ?"


class ReportQueries(Database):
    """The ReportStore and MetricsStore ports on SQLite."""

    def ledger_costs(
        self, since: datetime, until: datetime, keys: tuple[LedgerKey, ...], zone: str = "UTC"
    ) -> list[CostLine]:
        """Ledger rows in [since, until) grouped by `keys`, in key order. "day" is each
        call's own calendar day in `zone` (so a call near midnight after a change of daylight
        saving time lands on its day)."""
        window = (utc_text(since), utc_text(until))
        if "day" not in keys:
            columns = ", ".join(LEDGER_KEYS[key] for key in keys)
            rows = self._read(
                f"SELECT {columns}, {_COST_COLUMNS} FROM ledger WHERE at >= ? AND at < ?"
                f" GROUP BY {columns} ORDER BY {columns}",
                window,
            )
            return [_cost_line(row, len(keys)) for row in rows]
        other = [LEDGER_KEYS[key] for key in keys if key != "day"]
        rows = self._read(
            f"SELECT at, {''.join(c + ', ' for c in other)}tokens_in, tokens_out, usd,"
            " baseline_usd, outcome FROM ledger WHERE at >= ? AND at < ?",
            window,
        )
        return grouped_by_day(rows, keys, zone)

    def ticket_counts(self, since: datetime, until: datetime) -> TicketCounts:
        window = (utc_text(since), utc_text(until))
        total = self._read(f"SELECT count(*) FROM tickets WHERE {_CREATED_IN}", window)
        tiers = self._read(
            f"SELECT tier, count(*) FROM tickets WHERE {_CREATED_IN} GROUP BY tier",
            window,
        )
        workflows = self._read(
            f"SELECT workflow, count(*) FROM tickets WHERE {_CREATED_IN} GROUP BY workflow",
            window,
        )
        usd = self._read(
            f"SELECT coalesce(sum(cost_usd), 0) FROM tickets WHERE {_CREATED_IN}",
            window,
        )
        return TicketCounts(
            total=int(str(total[0][0])),
            by_tier={str(tier): int(str(n)) for tier, n in tiers},
            by_workflow={str(wf): int(str(n)) for wf, n in workflows},
            results_usd=float(str(usd[0][0])),
        )

    def top_spenders(
        self, since: datetime, until: datetime, limit: int
    ) -> list[tuple[str, str, float]]:
        """(ticket id, workflow, usd) of the tickets that cost most in [since, until)."""
        rows = self._read(
            "SELECT ticket_id, max(workflow), sum(usd) AS cost FROM ledger WHERE at >= ?"
            " AND at < ? AND ticket_id IS NOT NULL GROUP BY ticket_id HAVING cost > 0"
            " ORDER BY cost DESC LIMIT ?",
            (utc_text(since), utc_text(until), limit),
        )
        return [(str(ticket), str(workflow), float(str(usd))) for ticket, workflow, usd in rows]

    def subjects(self, ids: Iterable[str]) -> dict[str, str]:
        wanted = tuple(ids)
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        rows = self._read(
            f"SELECT id, json_extract(result, '$.subject') FROM tickets WHERE id IN ({marks})",
            wanted,
        )
        return {str(ticket): str(subject or "") for ticket, subject in rows}

    def results_created(self, since: datetime, until: datetime) -> list[str]:
        """The result JSON of every ticket created in [since, until), oldest first."""
        rows = self._read(
            f"SELECT result FROM tickets WHERE {_CREATED_IN} ORDER BY created_at",
            (utc_text(since), utc_text(until)),
        )
        return [str(row[0]) for row in rows]

    def quarantined_results(self, limit: int) -> list[str]:
        """The result JSON of what is in quarantine now, newest first."""
        rows = self._read(
            "SELECT result FROM tickets WHERE status = 'quarantined'"
            " ORDER BY created_at DESC LIMIT ?",
            (limit,),
        )
        return [str(row[0]) for row in rows]

    def spent_by_tier(self, since: datetime, until: datetime) -> dict[str, float]:
        """Booked cost per tier in [since, until)."""
        rows = self._read(
            "SELECT tier, coalesce(sum(usd), 0) FROM ledger WHERE at >= ? AND at < ? GROUP BY tier",
            (utc_text(since), utc_text(until)),
        )
        return {str(tier): float(str(usd)) for tier, usd in rows}

    def count_created(self, since: datetime, until: datetime) -> int:
        rows = self._read(
            f"SELECT count(*) FROM tickets WHERE {_CREATED_IN}",
            (utc_text(since), utc_text(until)),
        )
        return int(str(rows[0][0]))

    def first_record_at(self) -> datetime | None:
        """When the store's first ticket or ledger row was written, or None when empty."""
        rows = self._read(
            "SELECT min(first) FROM (SELECT min(created_at) AS first FROM tickets"
            " UNION ALL SELECT min(at) FROM ledger)"
        )
        first = rows[0][0] if rows else None
        return datetime.fromisoformat(str(first)) if first else None

    # -- /metrics -------------------------------------------------------------------------

    def ticket_totals(self) -> list[TicketTotal]:
        rows = self._read(
            "SELECT source, status, category, risk, tier, count(*) FROM tickets"
            " GROUP BY source, status, category, risk, tier"
        )
        return [
            TicketTotal(str(source), str(status), str(category), str(risk), str(tier), int(str(n)))
            for source, status, category, risk, tier, n in rows
        ]

    def call_totals(self) -> list[CallTotal]:
        rows = self._read(
            "SELECT tier, outcome, count(*), coalesce(sum(tokens_in), 0),"
            " coalesce(sum(tokens_out), 0), coalesce(sum(cached_tokens), 0),"
            " coalesce(sum(seconds), 0) FROM ledger GROUP BY tier, outcome"
        )
        return [
            CallTotal(
                str(tier),
                str(outcome),
                int(str(n)),
                int(str(t_in)),
                int(str(t_out)),
                int(str(cached)),
                float(str(secs)),
            )
            for tier, outcome, n, t_in, t_out, cached, secs in rows
        ]

    def cursor_times(self) -> dict[str, datetime]:
        """Each source's last successful pass, as its cursor records it."""
        rows = self._read("SELECT source, updated_at FROM cursors")
        return {str(source): datetime.fromisoformat(str(at)) for source, at in rows}


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


def grouped_by_day(
    rows: list[tuple[object, ...]], keys: tuple[LedgerKey, ...], zone_name: str
) -> list[CostLine]:
    """Rows of (at as ISO text, the other keys..., tokens_in, tokens_out, usd, baseline_usd,
    outcome) summed per key tuple, the day taken per call in `zone_name` (both backends)."""
    zone = ZoneInfo(zone_name)
    others = len(keys) - 1
    sums: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0] * 7)
    for row in rows:
        day = datetime.fromisoformat(str(row[0])).astimezone(zone).date().isoformat()
        names = iter(str(v) for v in row[1 : 1 + others])
        group = tuple(day if key == "day" else next(names) for key in keys)
        *numbers, outcome = row[1 + others :]
        hit = outcome == "cache_hit"
        t_in_f, t_out_f, usd_f, baseline_f = (float(str(v or 0)) for v in numbers)
        total = sums[group]
        for index, value in enumerate(
            (1.0, t_in_f, t_out_f, usd_f, baseline_f, float(hit), baseline_f if hit else 0.0)
        ):
            total[index] += value
    return [
        CostLine(
            keys=group,
            calls=int(s[0]),
            tokens_in=int(s[1]),
            tokens_out=int(s[2]),
            usd=s[3],
            baseline_usd=s[4],
            cache_hits=int(s[5]),
            cache_saved_usd=s[6],
        )
        for group, s in sorted(sums.items())
    ]
