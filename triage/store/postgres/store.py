"""The PostgreSQL store: the same tickets, results, cursors, ledger, budgets, answer cache,
jobs, labels, deliveries and report queries as the SQLite store (triage.store.sqlite), with
the same methods and meaning, on a database several daemons share (`[store] url`); and the
fleet's leases and heartbeats. A budget reservation takes a lock of its own per tier, so
daemons racing for the last dollar never overshoot it."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from triage.records import GuardAnswer, Lease, LedgerEntry, Planned, TicketKeys
from triage.result import Result
from triage.rules.storm import Recent
from triage.store.postgres.database import Connection, at, utc
from triage.store.postgres.deliveries import PostgresDeliveries, insert_planned
from triage.store.postgres.knowledge import PostgresKnowledge
from triage.store.postgres.reports import PostgresReports
from triage.store.rows import LEDGER_COLUMNS, ledger_values, ticket_row

__all__ = ["NodeSeen", "PostgresStore"]

RECENT_INCIDENTS = 200  # as the SQLite store: the earliest reports a storm is looked for among
_BUDGET_LOCK = 0x7472_6962  # with a hash of the tier: one reservation at a time per tier


@dataclass(frozen=True)
class NodeSeen:
    """A daemon of the fleet, as its latest heartbeat told."""

    name: str
    pid: int
    seen_at: datetime
    status: str


class PostgresStore(PostgresDeliveries, PostgresReports, PostgresKnowledge):
    """The Store port (triage.ports) on PostgreSQL."""

    # -- tickets ------------------------------------------------------------------------

    def get_result(self, ticket_id: str) -> Result | None:
        """The result of this id, or of the ticket this id is an alias of."""
        rows = self._read(
            "SELECT result FROM tickets WHERE id = %s UNION ALL"
            " SELECT t.result FROM aliases a JOIN tickets t ON t.id = a.ticket_id"
            " WHERE a.id = %s LIMIT 1",
            (ticket_id, ticket_id),
        )
        return Result.from_json(str(rows[0][0])) if rows else None

    def find_by_message_id(self, message_id: str) -> str | None:
        """The original ticket with this Message-ID (following duplicate links)."""
        rows = self._read(
            "SELECT id, duplicate_of FROM tickets WHERE message_id = %s"
            " AND status IN ('triaged', 'duplicate', 'ignored') ORDER BY received_at, id LIMIT 1",
            (message_id,),
        )
        return str(rows[0][1] or rows[0][0]) if rows else None

    def find_by_content_key(self, key: str, since: datetime, until: datetime) -> str | None:
        rows = self._read(
            "SELECT id FROM tickets WHERE content_key = %s AND status = 'triaged'"
            " AND received_at >= %s AND received_at <= %s ORDER BY received_at, id LIMIT 1",
            (key, at(since), at(until)),
        )
        return str(rows[0][0]) if rows else None

    def recent_incidents(
        self, since: datetime, until: datetime, kinds: frozenset[str]
    ) -> list[Recent]:
        """Triaged tickets reporting an incident of one of these `kinds` in [since, until],
        earliest first, for storms."""
        if not kinds:
            return []
        rows = self._read(
            "SELECT id, incident_at, category, risk, incident, storm_of FROM tickets"
            " WHERE incident IS NOT NULL AND status = 'triaged'"
            " AND incident_at >= %s AND incident_at <= %s AND incident && %s::text[]"
            " ORDER BY incident_at, id LIMIT %s",
            (at(since), at(until), sorted(kinds), RECENT_INCIDENTS),
        )
        return [
            Recent(
                id=str(row[0]),
                received_at=utc(row[1]),
                category=str(row[2]),  # type: ignore[arg-type]
                risk=str(row[3]),  # type: ignore[arg-type]
                signature=_signature(tuple(row[4])),
                storm_of=str(row[5]) if row[5] else None,
            )
            for row in rows
        ]

    def count_from_sender(self, sender: str, since: datetime, until: datetime) -> int:
        rows = self._read(
            "SELECT count(*) FROM tickets WHERE sender = %s AND received_at >= %s"
            " AND received_at <= %s",
            (sender, at(since), at(until)),
        )
        return int(rows[0][0])

    def save(
        self, result: Result, keys: TicketKeys, now: datetime, planned: Planned | None = None
    ) -> None:
        """Commit one result, durably, with its planned deliveries in the same transaction.
        Raises StoreError (a second result for one id among others); the input then stays
        unacknowledged."""
        row = _ticket_row(result, keys, now)
        with self._begin() as db:
            db.execute(
                f"INSERT INTO tickets ({', '.join(row)})"
                f" VALUES ({', '.join(['%s'] * len(row))})".encode(),
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
        recorded as the same ticket. False when the id holds no quarantined result."""
        row = _ticket_row(result, keys, now)
        del row["id"]
        with self._begin() as db:
            if alias and alias != result.id:
                db.execute(
                    "INSERT INTO aliases (id, ticket_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (alias, result.id),
                )
            changed = db.execute(
                f"UPDATE tickets SET {', '.join(f'{column} = %s' for column in row)}"
                " WHERE id = %s AND status = 'quarantined'".encode(),
                (*row.values(), result.id),
            ).rowcount
            if changed == 1 and planned is not None:
                insert_planned(db, result.id, planned, now)
            return changed == 1

    def count_quarantined(self) -> int:
        return int(self._read("SELECT count(*) FROM tickets WHERE status = 'quarantined'")[0][0])

    def count_tickets(self) -> int:
        return int(self._read("SELECT count(*) FROM tickets")[0][0])

    def count_since(self, since: datetime) -> int:
        rows = self._read("SELECT count(*) FROM tickets WHERE created_at >= %s", (at(since),))
        return int(rows[0][0])

    def spent_total(self, since: datetime, until: datetime) -> float:
        """Every tier's booked cost in [since, until)."""
        rows = self._read(
            "SELECT coalesce(sum(usd), 0) FROM ledger WHERE at >= %s AND at < %s",
            (at(since), at(until)),
        )
        return float(rows[0][0])

    # -- cursors ------------------------------------------------------------------------

    def get_cursor(self, source: str) -> str | None:
        rows = self._read("SELECT value FROM cursors WHERE source = %s", (source,))
        return str(rows[0][0]) if rows else None

    def set_cursor(self, source: str, value: str, now: datetime) -> None:
        self._write(
            "INSERT INTO cursors (source, value, updated_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (source) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            (source, value, at(now)),
        )

    # -- ledger -------------------------------------------------------------------------

    def book(self, entry: LedgerEntry) -> None:
        with self._begin() as db:
            _insert_ledger(db, entry)

    def ledger_for(self, ticket_id: str) -> list[LedgerEntry]:
        rows = self._read(
            f"SELECT {', '.join(LEDGER_COLUMNS)} FROM ledger WHERE ticket_id = %s ORDER BY id",
            (ticket_id,),
        )
        return [LedgerEntry(utc(row[0]), *row[1:]) for row in rows]

    # -- budgets ------------------------------------------------------------------------

    def spent(self, tier: str, since: datetime, until: datetime) -> float:
        """Booked cost of a tier in [since, until), plus what is reserved and not settled."""
        rows = self._read(_SPENT_SQL, (tier, at(since), at(until), tier))
        return float(rows[0][0])

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
        """Hold `usd` against the budget, atomically across the fleet: None when it does not
        fit. The tier's budget lock keeps two daemons from both fitting the last dollar."""
        with self._begin() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s::int4, hashtext(%s))", (_BUDGET_LOCK, tier))
            row = db.execute(_SPENT_SQL.encode(), (tier, at(since), at(until), tier)).fetchone()
            spent = float(row[0]) if row else 0.0
            if spent + usd > budget + 1e-12:
                return None
            made = db.execute(
                "INSERT INTO reservations (tier, ticket_id, usd, at) VALUES (%s, %s, %s, %s)"
                " RETURNING id",
                (tier, ticket_id, usd, at(now)),
            ).fetchone()
            return int(made[0]) if made else None

    def settle(self, reservation: int, entries: list[LedgerEntry]) -> None:
        """Replace a reservation by the ledger rows of what was really spent, atomically."""
        with self._begin() as db:
            db.execute("DELETE FROM reservations WHERE id = %s", (reservation,))
            for entry in entries:
                _insert_ledger(db, entry)

    # -- answer cache -------------------------------------------------------------------

    def cache_get(self, key: str, scope: str, since: datetime) -> str | None:
        rows = self._read(
            "UPDATE answer_cache SET hits = hits + 1 WHERE key = %s AND scope = %s"
            " AND created_at >= %s RETURNING answer",
            (key, scope, at(since)),
        )
        return str(rows[0][0]) if rows else None

    def cache_peek(self, key: str, scope: str, since: datetime) -> str | None:
        """cache_get without counting the hit (for read-only use)."""
        rows = self._read(
            "SELECT answer FROM answer_cache WHERE key = %s AND scope = %s AND created_at >= %s",
            (key, scope, at(since)),
        )
        return str(rows[0][0]) if rows else None

    def cache_put(self, key: str, scope: str, answer: str, now: datetime) -> None:
        self._write(
            "INSERT INTO answer_cache (key, scope, answer, created_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (key) DO UPDATE SET scope = excluded.scope,"
            " answer = excluded.answer, created_at = excluded.created_at",
            (key, scope, answer, at(now)),
        )

    # -- the crying-wolf guard's memory ------------------------------------------------------

    def guard_answers(self, limit: int) -> list[GuardAnswer]:
        """The last `limit` model answers remembered by any daemon, oldest first."""
        rows = self._read(
            "SELECT raised, held FROM guard_answers ORDER BY seq DESC LIMIT %s", (limit,)
        )
        return [GuardAnswer(bool(raised), bool(held)) for raised, held in reversed(rows)]

    def remember_guard_answer(
        self, answer: GuardAnswer, ticket_id: str, model: str, now: datetime, keep: int
    ) -> None:
        """Append one answer (in one round trip); only the last `keep` stay. Under the commit
        lock, as the pipeline's transaction() is: the sequence follows the commits, so the
        answers every daemon reads back are in the order they were counted."""
        with self._begin(serialised=True) as db:
            db.execute(
                "WITH added AS (INSERT INTO guard_answers (at, ticket_id, model, raised, held)"
                " VALUES (%s, %s, %s, %s, %s) RETURNING seq)"
                " DELETE FROM guard_answers WHERE seq <= (SELECT seq FROM added) - %s",
                (at(now), ticket_id, model, answer.raised, answer.held, keep),
            )

    # -- scheduled jobs -------------------------------------------------------------------

    def job_done(self, kind: str, period: str) -> bool:
        rows = self._read("SELECT 1 FROM jobs_done WHERE kind = %s AND period = %s", (kind, period))
        return bool(rows)

    def mark_job_done(self, kind: str, period: str, now: datetime) -> bool:
        """Record a job's period; False when it had been done already (by another daemon)."""
        changed = self._write(
            "INSERT INTO jobs_done (kind, period, at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (kind, period, at(now)),
        )
        return changed == 1

    # -- the fleet: leases and heartbeats ---------------------------------------------------

    def take_lease(self, name: str, seconds: float, now: datetime) -> bool:
        """Hold `name` (a mailbox, a job, this node's claims) for `seconds` from `now`: taken
        when free or run out, renewed when ours (this node, this process). False while
        another holds it, also another process under this node's name."""
        rows = self._read(
            "INSERT INTO leases (name, holder, instance, until, since)"
            " VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " instance = excluded.instance, until = excluded.until,"
            " since = CASE WHEN leases.holder = excluded.holder"
            " AND leases.instance = excluded.instance THEN leases.since ELSE excluded.since END"
            " WHERE (leases.holder = excluded.holder AND leases.instance = excluded.instance)"
            " OR leases.until < excluded.since"
            " RETURNING holder",
            (name, self.node, self.instance, at(now) + timedelta(seconds=seconds), at(now)),
        )
        return bool(rows)

    def release_lease(self, name: str) -> None:
        """Let go of a lease of ours (at a clean stop: taken over at once, not after it runs
        out)."""
        self._write(
            "DELETE FROM leases WHERE name = %s AND holder = %s AND instance = %s",
            (name, self.node, self.instance),
        )

    def lease_holder(self, name: str, now: datetime) -> str | None:
        """Who holds `name` now; None when nobody does (free, or run out)."""
        rows = self._read(
            "SELECT holder FROM leases WHERE name = %s AND until >= %s", (name, at(now))
        )
        return str(rows[0][0]) if rows else None

    def lease_of(self, name: str, now: datetime) -> Lease | None:
        """The lease `name` while it is held: who, which process, until when."""
        rows = self._read(
            "SELECT holder, instance, until FROM leases WHERE name = %s AND until >= %s",
            (name, at(now)),
        )
        if not rows:
            return None
        holder, instance, until = rows[0]
        return Lease(name, str(holder), str(instance), utc(until))

    def leases_held(self, now: datetime, prefix: str = "") -> list[str]:
        """The names this node (this process) holds now (starting with `prefix`), sorted."""
        rows = self._read(
            "SELECT name FROM leases WHERE holder = %s AND instance = %s AND until >= %s"
            " AND left(name, %s) = %s ORDER BY name",
            (self.node, self.instance, at(now), len(prefix), prefix),
        )
        return [str(row[0]) for row in rows]

    def all_leases(self, now: datetime) -> list[tuple[str, str]]:
        """(name, holder) of every lease held now, for `triage check`."""
        rows = self._read(
            "SELECT name, holder FROM leases WHERE until >= %s ORDER BY name", (at(now),)
        )
        return [(str(name), str(holder)) for name, holder in rows]

    def heartbeat(self, status: str, now: datetime) -> None:
        """This node is alive and says how it is (its STATUS= line), for `triage check`."""
        self._write(
            "INSERT INTO nodes (name, pid, seen_at, status) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET pid = excluded.pid,"
            " seen_at = excluded.seen_at, status = excluded.status",
            (self.node, os.getpid(), at(now), status),
        )

    def fleet(self, since: datetime) -> list[NodeSeen]:
        """The nodes seen since `since`, most recently seen first."""
        rows = self._read(
            "SELECT name, pid, seen_at, status FROM nodes WHERE seen_at >= %s"
            " ORDER BY seen_at DESC, name",
            (at(since),),
        )
        return [NodeSeen(str(n), int(p), utc(at), str(st)) for n, p, at, st in rows]

    # -- labels -------------------------------------------------------------------------

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
        self._write(
            "INSERT INTO labels (ticket_id, team, category, predicted, source, at)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (ticket_id) DO UPDATE SET"
            " team = excluded.team, category = excluded.category,"
            " predicted = excluded.predicted, source = excluded.source, at = excluded.at",
            (ticket_id, team, category, predicted, source, at(now)),
        )

    def record_labels(
        self,
        labels: list[tuple[str, str, str | None, str | None]],
        source: str,
        now: datetime,
    ) -> None:
        """(ticket id, team, category, predicted) each, all in one transaction: an import
        is recorded whole or not at all."""
        with self._begin() as db:
            db.cursor().executemany(
                b"INSERT INTO labels (ticket_id, team, category, predicted, source, at)"
                b" VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (ticket_id) DO UPDATE SET"
                b" team = excluded.team, category = excluded.category,"
                b" predicted = excluded.predicted, source = excluded.source, at = excluded.at",
                [(*label, source, at(now)) for label in labels],
            )

    def labelled(self) -> list[tuple[str, str | None, Result]]:
        """(team, category, result) of every labelled ticket, oldest label first."""
        rows = self._read(
            "SELECT l.team, l.category, t.result FROM labels l"
            " JOIN tickets t ON t.id = l.ticket_id ORDER BY l.at, l.ticket_id"
        )
        return [
            (str(team), None if category is None else str(category), Result.from_json(str(result)))
            for team, category, result in rows
        ]


# A tier's booked cost in [since, until) plus what is reserved and not yet settled.
_SPENT_SQL = (
    "SELECT (SELECT coalesce(sum(usd), 0) FROM ledger WHERE tier = %s AND at >= %s AND at < %s)"
    " + (SELECT coalesce(sum(usd), 0) FROM reservations WHERE tier = %s)"
)


def _ticket_row(result: Result, keys: TicketKeys, now: datetime) -> dict[str, object]:
    """The tickets table's columns (rows.ticket_row, the one list of them), with moments as
    timestamptz and the incident as a text array, as PostgreSQL keeps them."""
    incident = bool(keys.incident)
    return {
        **ticket_row(result, keys, now),
        "received_at": at(result.received_at),
        "created_at": at(now),
        "incident": sorted(keys.incident) if incident else None,
        "incident_at": at(keys.incident_at) if incident and keys.incident_at else None,
    }


def _insert_ledger(db: Connection, entry: LedgerEntry) -> None:
    db.execute(
        f"INSERT INTO ledger ({', '.join(LEDGER_COLUMNS)})"
        f" VALUES ({', '.join(['%s'] * len(LEDGER_COLUMNS))})".encode(),
        (at(entry.at), *ledger_values(entry)),
    )


@functools.lru_cache(maxsize=4096)
def _signature(stored: tuple[str, ...]) -> frozenset[str]:
    return frozenset(stored)
