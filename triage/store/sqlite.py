"""SQLite store: tickets and their results, source cursors, the cost ledger, the answer cache.

The store is the single source of truth for "has this input been handled". One connection in
WAL mode, serialised by a lock, so connector threads can share it; other processes (`process`,
`replay` next to the daemon) share the file. A look-up and the write it decides happen in one
write transaction (`transaction`), so no other process slips in between. The schema and its
migrations are in triage.store.schema, the file itself in triage.store.database.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime

from triage.records import GuardAnswer, LedgerEntry, Planned, TicketKeys
from triage.result import Result
from triage.rules.storm import Recent
from triage.store.deliveries import DeliveryTables, insert_planned
from triage.store.knowledge import KnowledgeTables
from triage.store.reports import ReportQueries
from triage.store.rows import LEDGER_COLUMNS, insert_ledger, ticket_row, utc, utc_text
from triage.store.schema import MIGRATIONS

__all__ = ["MIGRATIONS", "SqliteStore", "utc_text"]


# A tier's booked cost in [since, until) plus what is reserved and not yet settled.
_SPENT_SQL = (
    "SELECT (SELECT coalesce(sum(usd), 0) FROM ledger WHERE tier = ? AND at >= ? AND at < ?)"
    " + (SELECT coalesce(sum(usd), 0) FROM reservations WHERE tier = ?)"
)


RECENT_INCIDENTS = 200  # the earliest reports a storm is looked for among


@functools.lru_cache(maxsize=4096)
def _signature(stored: str) -> frozenset[str]:
    """A stored signature (a JSON list), parsed once: a backlog asks for the same rows often."""
    return frozenset(json.loads(stored))


class SqliteStore(DeliveryTables, ReportQueries, KnowledgeTables):
    """Tickets and their results, cursors, the ledger and budgets, the answer cache, jobs
    done, labels, the delivery queue, the reports' queries and the knowledge index, on one
    SQLite file (triage.store.database.Database)."""

    # -- tickets ------------------------------------------------------------------------

    def get_result(self, ticket_id: str) -> Result | None:
        """The result of this id, or of the ticket this id is an alias of."""
        rows = self._read("SELECT result FROM tickets WHERE id = ?", (ticket_id,))
        if not rows:
            rows = self._read(
                "SELECT t.result FROM aliases a JOIN tickets t ON t.id = a.ticket_id"
                " WHERE a.id = ?",
                (ticket_id,),
            )
        return Result.from_json(str(rows[0][0])) if rows else None

    def find_by_message_id(self, message_id: str) -> str | None:
        """The original ticket with this Message-ID (following duplicate links)."""
        rows = self._read(
            "SELECT id, duplicate_of FROM tickets WHERE message_id = ? "
            "AND status IN ('triaged', 'duplicate', 'ignored') ORDER BY received_at LIMIT 1",
            (message_id,),
        )
        return str(rows[0][1] or rows[0][0]) if rows else None

    def find_by_content_key(self, key: str, since: datetime, until: datetime) -> str | None:
        rows = self._read(
            "SELECT id FROM tickets WHERE content_key = ? AND status = 'triaged' "
            "AND received_at >= ? AND received_at <= ? ORDER BY received_at LIMIT 1",
            (key, utc(since), utc(until)),
        )
        return str(rows[0][0]) if rows else None

    def recent_incidents(
        self, since: datetime, until: datetime, kinds: frozenset[str]
    ) -> list[Recent]:
        """Triaged tickets reporting an incident of one of these `kinds` (storm.FAILURE,
        storm.INCIDENT) in [since, until], earliest first, for storms."""
        if not kinds:
            return []
        first, *more = sorted(kinds)
        second = more[0] if more else first
        rows = self._read(
            "SELECT id, incident_at, category, risk, incident, storm_of FROM tickets"
            " WHERE incident IS NOT NULL AND status = 'triaged'"
            " AND incident_at >= ? AND incident_at <= ?"
            " AND (incident LIKE ? OR incident LIKE ?) ORDER BY incident_at LIMIT ?",
            (utc(since), utc(until), f'%"{first}"%', f'%"{second}"%', RECENT_INCIDENTS),
        )
        return [
            Recent(
                id=str(row[0]),
                received_at=datetime.fromisoformat(str(row[1])),
                category=str(row[2]),  # type: ignore[arg-type]
                risk=str(row[3]),  # type: ignore[arg-type]
                signature=_signature(str(row[4])),
                storm_of=str(row[5]) if row[5] else None,
            )
            for row in rows
        ]

    def count_from_sender(self, sender: str, since: datetime, until: datetime) -> int:
        rows = self._read(
            "SELECT count(*) FROM tickets WHERE sender = ? AND received_at >= ? "
            "AND received_at <= ?",
            (sender, utc(since), utc(until)),
        )
        return int(str(rows[0][0]))

    def save(
        self, result: Result, keys: TicketKeys, now: datetime, planned: Planned | None = None
    ) -> None:
        """Commit one result, durably, with its planned deliveries in the same transaction.
        Raises StoreError; then the input stays unacknowledged."""
        row = ticket_row(result, keys, now)
        with self._write() as db:
            db.execute(
                f"INSERT INTO tickets ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
            if planned is not None:
                insert_planned(db, result.id, planned, now)

    def replace_quarantined(
        self,
        result: Result,
        keys: TicketKeys,
        now: datetime,
        alias: str | None = None,
        planned: Planned | None = None,
    ) -> bool:
        """A replay: the quarantined result of this id is replaced, in place, and `alias`
        (the id of the fixed input) recorded as the same ticket. False when the id holds no
        quarantined result (triaged meanwhile, or never seen)."""
        row = ticket_row(result, keys, now)
        del row["id"]
        with self._write() as db:
            if alias and alias != result.id:
                db.execute(
                    "INSERT OR IGNORE INTO aliases (id, ticket_id) VALUES (?, ?)",
                    (alias, result.id),
                )
            cursor = db.execute(
                f"UPDATE tickets SET {', '.join(f'{column} = ?' for column in row)}"
                " WHERE id = ? AND status = 'quarantined'",
                (*row.values(), result.id),
            )
            if cursor.rowcount == 1 and planned is not None:
                insert_planned(db, result.id, planned, now)
            return cursor.rowcount == 1

    def count_quarantined(self) -> int:
        rows = self._read("SELECT count(*) FROM tickets WHERE status = 'quarantined'")
        return int(str(rows[0][0]))

    def count_tickets(self) -> int:
        return int(str(self._read("SELECT count(*) FROM tickets")[0][0]))

    def count_since(self, since: datetime) -> int:
        rows = self._read("SELECT count(*) FROM tickets WHERE created_at >= ?", (utc(since),))
        return int(str(rows[0][0]))

    def spent_total(self, since: datetime, until: datetime) -> float:
        """Every tier's booked cost in [since, until)."""
        rows = self._read(
            "SELECT coalesce(sum(usd), 0) FROM ledger WHERE at >= ? AND at < ?",
            (utc(since), utc(until)),
        )
        return float(str(rows[0][0]))

    # -- cursors ------------------------------------------------------------------------

    def get_cursor(self, source: str) -> str | None:
        rows = self._read("SELECT value FROM cursors WHERE source = ?", (source,))
        return str(rows[0][0]) if rows else None

    def set_cursor(self, source: str, value: str, now: datetime) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO cursors (source, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT(source) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (source, value, utc(now)),
            )

    # -- ledger -------------------------------------------------------------------------

    def book(self, entry: LedgerEntry) -> None:
        with self._write() as db:
            insert_ledger(db, entry)

    def ledger_for(self, ticket_id: str) -> list[LedgerEntry]:
        rows = self._read(
            f"SELECT {', '.join(LEDGER_COLUMNS)} FROM ledger WHERE ticket_id = ? ORDER BY id",
            (ticket_id,),
        )
        return [
            LedgerEntry(datetime.fromisoformat(str(row[0])), *row[1:])  # type: ignore[arg-type]
            for row in rows
        ]

    # -- budgets ------------------------------------------------------------------------

    def spent(self, tier: str, since: datetime, until: datetime) -> float:
        """Booked cost of a tier in [since, until), plus what is reserved and not settled."""
        rows = self._read(_SPENT_SQL, (tier, utc(since), utc(until), tier))
        return float(str(rows[0][0]))

    def reserve(
        self,
        tier: str,
        ticket_id: str | None,
        usd: float,
        budget: float,
        since: datetime,
        until: datetime,
        now: datetime,
    ) -> int | None:
        """Hold `usd` against the budget, atomically: None when it does not fit."""
        with self._write() as db:
            spent = db.execute(_SPENT_SQL, (tier, utc(since), utc(until), tier)).fetchone()[0]
            if spent + usd > budget + 1e-12:
                return None
            cursor = db.execute(
                "INSERT INTO reservations (tier, ticket_id, usd, at) VALUES (?, ?, ?, ?)",
                (tier, ticket_id, usd, utc(now)),
            )
            return int(cursor.lastrowid or 0)

    def settle(self, reservation: int, entries: list[LedgerEntry]) -> None:
        """Replace a reservation by the ledger rows of what was really spent, atomically."""
        with self._write() as db:
            db.execute("DELETE FROM reservations WHERE id = ?", (reservation,))
            for entry in entries:
                insert_ledger(db, entry)

    # -- answer cache -------------------------------------------------------------------

    def cache_get(self, key: str, scope: str, since: datetime) -> str | None:
        with self._write() as db:
            row = db.execute(
                "SELECT answer FROM answer_cache WHERE key = ? AND scope = ? AND created_at >= ?",
                (key, scope, utc(since)),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE answer_cache SET hits = hits + 1 WHERE key = ?", (key,))
            return str(row[0])

    def cache_peek(self, key: str, scope: str, since: datetime) -> str | None:
        """cache_get without counting the hit (for read-only use)."""
        rows = self._read(
            "SELECT answer FROM answer_cache WHERE key = ? AND scope = ? AND created_at >= ?",
            (key, scope, utc(since)),
        )
        return str(rows[0][0]) if rows else None

    def cache_put(self, key: str, scope: str, answer: str, now: datetime) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO answer_cache (key, scope, answer, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET scope = excluded.scope,"
                " answer = excluded.answer, created_at = excluded.created_at",
                (key, scope, answer, utc(now)),
            )

    # -- the crying-wolf guard's memory ------------------------------------------------------

    def guard_answers(self, limit: int) -> list[GuardAnswer]:
        """The last `limit` model answers remembered, oldest first."""
        rows = self._read(
            "SELECT raised, held FROM guard_answers ORDER BY seq DESC LIMIT ?", (limit,)
        )
        return [GuardAnswer(bool(raised), bool(held)) for raised, held in reversed(rows)]

    def remember_guard_answer(
        self, answer: GuardAnswer, ticket_id: str, model: str, now: datetime, keep: int
    ) -> None:
        """Append one answer; only the last `keep` stay."""
        with self._write() as db:
            seq = db.execute(
                "INSERT INTO guard_answers (at, ticket_id, model, raised, held)"
                " VALUES (?, ?, ?, ?, ?)",
                (utc(now), ticket_id, model, int(answer.raised), int(answer.held)),
            ).lastrowid
            db.execute("DELETE FROM guard_answers WHERE seq <= ?", ((seq or 0) - keep,))

    # -- reports --------------------------------------------------------------------------

    def job_done(self, kind: str, period: str) -> bool:
        rows = self._read("SELECT 1 FROM jobs_done WHERE kind = ? AND period = ?", (kind, period))
        return bool(rows)

    def mark_job_done(self, kind: str, period: str, now: datetime) -> bool:
        """Record a job's period; False when it had been done already (by another run)."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO jobs_done (kind, period, at) VALUES (?, ?, ?)",
                (kind, period, utc(now)),
            )
            return cursor.rowcount == 1

    # -- labels (triage label, learn --from-store) ---------------------------------------

    def record_label(
        self,
        ticket_id: str,
        team: str,
        category: str | None,
        predicted: str | None,
        source: str,
        now: datetime,
    ) -> None:
        """A person's word on a ticket's team; a later one replaces an earlier one."""
        self.record_labels([(ticket_id, team, category, predicted)], source, now)

    def record_labels(
        self,
        labels: list[tuple[str, str, str | None, str | None]],
        source: str,
        now: datetime,
    ) -> None:
        """(ticket id, team, category, predicted) each, all in one transaction: an import
        is recorded whole or not at all."""
        with self._write() as db:
            db.executemany(
                "INSERT INTO labels (ticket_id, team, category, predicted, source, at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(ticket_id) DO UPDATE SET"
                " team = excluded.team, category = excluded.category,"
                " predicted = excluded.predicted, source = excluded.source, at = excluded.at",
                [(*label, source, utc(now)) for label in labels],
            )

    def labelled(self) -> list[tuple[str, str | None, Result]]:
        """(team, category, result) of every labelled ticket, oldest label first."""
        rows = self._read(
            "SELECT l.team, l.category, t.result FROM labels l"
            " JOIN tickets t ON t.id = l.ticket_id ORDER BY l.at"
        )
        return [
            (str(team), None if category is None else str(category), Result.from_json(str(result)))
            for team, category, result in rows
        ]
