"""What the digest, the monthly report, /metrics and the scheduler read, on PostgreSQL: the
ReportStore and MetricsStore ports as triage.store.reports has them on SQLite. Read-only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from triage.records import CallTotal, CostLine, LedgerKey, TicketCounts, TicketTotal
from triage.store.postgres.database import PostgresDatabase, at, utc
from triage.store.reports import LEDGER_KEYS, grouped_by_day

_COST_COLUMNS = (
    "count(*), coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0),"
    " coalesce(sum(usd), 0), coalesce(sum(baseline_usd), 0),"
    " count(*) FILTER (WHERE outcome = 'cache_hit'),"
    " coalesce(sum(baseline_usd) FILTER (WHERE outcome = 'cache_hit'), 0)"
)
_CREATED_IN = "created_at >= %s AND created_at < %s"


class PostgresReports(PostgresDatabase):
    """The ReportStore and MetricsStore ports on PostgreSQL."""

    def ledger_costs(
        self, since: datetime, until: datetime, keys: tuple[LedgerKey, ...], zone: str = "UTC"
    ) -> list[CostLine]:
        """Ledger rows in [since, until) grouped by `keys`, in key order; "day" is each call's
        own calendar day in `zone`."""
        window = (at(since), at(until))
        if "day" not in keys:
            columns = ", ".join(LEDGER_KEYS[key] for key in keys)
            rows = self._read(
                f"SELECT {columns}, {_COST_COLUMNS} FROM ledger WHERE at >= %s AND at < %s"
                f" GROUP BY {columns} ORDER BY {columns}",
                window,
            )
            return [_cost_line(row, len(keys)) for row in rows]
        other = [LEDGER_KEYS[key] for key in keys if key != "day"]
        rows = self._read(
            f"SELECT at, {''.join(c + ', ' for c in other)}tokens_in, tokens_out, usd,"
            " baseline_usd, outcome FROM ledger WHERE at >= %s AND at < %s",
            window,
        )
        return grouped_by_day([(utc(r[0]).isoformat(), *r[1:]) for r in rows], keys, zone)

    def ticket_counts(self, since: datetime, until: datetime) -> TicketCounts:
        window = (at(since), at(until))
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
            total=int(total[0][0]),
            by_tier={str(tier): int(n) for tier, n in tiers},
            by_workflow={str(wf): int(n) for wf, n in workflows},
            results_usd=float(usd[0][0]),
        )

    def top_spenders(
        self, since: datetime, until: datetime, limit: int
    ) -> list[tuple[str, str, float]]:
        """(ticket id, workflow, usd) of the tickets that cost most in [since, until)."""
        rows = self._read(
            "SELECT ticket_id, max(workflow), sum(usd) AS cost FROM ledger WHERE at >= %s"
            " AND at < %s AND ticket_id IS NOT NULL GROUP BY ticket_id HAVING sum(usd) > 0"
            " ORDER BY cost DESC, ticket_id LIMIT %s",
            (at(since), at(until), limit),
        )
        return [(str(ticket), str(workflow), float(usd)) for ticket, workflow, usd in rows]

    def subjects(self, ids: Iterable[str]) -> dict[str, str]:
        wanted = list(ids)
        if not wanted:
            return {}
        rows = self._read(
            "SELECT id, (result::jsonb ->> 'subject') FROM tickets WHERE id = ANY(%s)",
            (wanted,),
        )
        return {str(ticket): str(subject or "") for ticket, subject in rows}

    def results_created(self, since: datetime, until: datetime) -> list[str]:
        """The result JSON of every ticket created in [since, until), oldest first."""
        rows = self._read(
            f"SELECT result FROM tickets WHERE {_CREATED_IN} ORDER BY created_at, id",
            (at(since), at(until)),
        )
        return [str(row[0]) for row in rows]

    def quarantined_results(self, limit: int) -> list[str]:
        """The result JSON of what is in quarantine now, newest first."""
        rows = self._read(
            "SELECT result FROM tickets WHERE status = 'quarantined'"
            " ORDER BY created_at DESC, id LIMIT %s",
            (limit,),
        )
        return [str(row[0]) for row in rows]

    def spent_by_tier(self, since: datetime, until: datetime) -> dict[str, float]:
        """Booked cost per tier in [since, until)."""
        rows = self._read(
            "SELECT tier, coalesce(sum(usd), 0) FROM ledger WHERE at >= %s AND at < %s"
            " GROUP BY tier",
            (at(since), at(until)),
        )
        return {str(tier): float(usd) for tier, usd in rows}

    def count_created(self, since: datetime, until: datetime) -> int:
        rows = self._read(
            f"SELECT count(*) FROM tickets WHERE {_CREATED_IN}",
            (at(since), at(until)),
        )
        return int(rows[0][0])

    def first_record_at(self) -> datetime | None:
        """When the store's first ticket or ledger row was written, or None when empty."""
        rows = self._read(
            "SELECT least((SELECT min(created_at) FROM tickets), (SELECT min(at) FROM ledger))"
        )
        first = rows[0][0] if rows else None
        return utc(first) if first is not None else None

    # -- /metrics -------------------------------------------------------------------------

    def ticket_totals(self) -> list[TicketTotal]:
        rows = self._read(
            "SELECT source, status, category, risk, tier, count(*) FROM tickets"
            " GROUP BY source, status, category, risk, tier"
        )
        return [
            TicketTotal(str(source), str(status), str(category), str(risk), str(tier), int(n))
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
                str(tier), str(outcome), int(n), int(t_in), int(t_out), int(cached), float(secs)
            )
            for tier, outcome, n, t_in, t_out, cached, secs in rows
        ]

    def cursor_times(self) -> dict[str, datetime]:
        """Each source's last successful pass, as its cursor records it."""
        rows = self._read("SELECT source, updated_at FROM cursors")
        return {str(source): utc(updated) for source, updated in rows}


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
