"""PostgreSQL store: the same tickets, results, cursors, ledger, budgets, answer cache, jobs and
labels as the SQLite store (triage.store), with the same methods and meaning, on a database
several daemons share (`[store] url`).

psycopg 3 with its connection pool: a read takes a pooled connection for one statement
(autocommit); a write transaction binds one connection to the calling thread, and the store's
reads and writes made inside it on that thread join it, as with SQLite.

What SQLite's BEGIN IMMEDIATE gives (a look-up and the write it decides, with nobody changing
the store in between) comes from a transaction-level advisory lock taken by `transaction()`:
the pipeline's commits (dedup look-ups, then the insert) are serialised across the fleet.
A budget reservation takes a lock of its own per tier, so daemons racing for the last dollar
never overshoot it. Plain single-statement writes take neither.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout

from triage.errors import StoreError
from triage.records import Also, LedgerEntry, TicketKeys
from triage.result import Result
from triage.rules.storm import Recent
from triage.store_postgres_schema import COMMIT_LOCK, MIGRATIONS, schema_version
from triage.store_postgres_schema import migrate as migrate_schema

__all__ = ["MIGRATIONS", "NodeSeen", "PostgresStore", "safe_url"]

RECENT_INCIDENTS = 200  # as the SQLite store: the earliest reports a storm is looked for among
_BEGIN_SERIALISED = f"BEGIN; SELECT pg_advisory_xact_lock({COMMIT_LOCK})".encode()
_BUDGET_LOCK = 0x7472_6962  # with a hash of the tier: one reservation at a time per tier

_Connection = psycopg.Connection[tuple[Any, ...]]


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class NodeSeen:
    """A daemon of the fleet, as its latest heartbeat told."""

    name: str
    pid: int
    seen_at: datetime
    status: str


class PostgresStore:
    """The store on PostgreSQL. `node` names this daemon in leases and heartbeats."""

    def __init__(
        self, url: str, *, node: str | None = None, pool_size: int = 4, migrate: bool = True
    ) -> None:
        """`migrate=False` (triage check) leaves the schema as it is."""
        self.url = url
        self.path = safe_url(url)  # what messages call the store (never with its password)
        self.node = node or os.uname().nodename
        self._local = threading.local()
        try:
            self._pool: ConnectionPool[_Connection] = ConnectionPool(
                url,
                min_size=1,
                max_size=max(1, pool_size),
                # UTC: date() and the moments read back mean the same as in the SQLite store.
                kwargs={"autocommit": True, "options": "-c TimeZone=UTC"},
                name="triage-store",
                open=False,
            )
            self._pool.open(wait=True, timeout=30)
            if migrate:
                with self._pool.connection() as db:
                    migrate_schema(db, self.path)
        except (psycopg.Error, PoolTimeout) as exc:
            self._close_quietly()
            raise StoreError(f"cannot open the store {self.path}: {_first_line(exc)}") from exc
        except BaseException:
            self._close_quietly()
            raise

    # -- schema and health ----------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        with self._connection() as db:
            return schema_version(db)

    @property
    def latest_schema(self) -> int:
        return len(MIGRATIONS)

    def server_version(self) -> str:
        """The server's version, e.g. '15.8'."""
        return str(self._read("SHOW server_version")[0][0]).split(" ")[0]

    def identity_problem(self) -> str | None:
        """A database has no file to be replaced under us: never a problem here."""
        return None

    def integrity_check(self) -> str:
        self._read("SELECT 1")
        return "ok"

    def close(self) -> None:
        self._pool.close()

    def _close_quietly(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()

    # -- connections and transactions ------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[_Connection]:
        """The thread's transaction's connection, or a pooled one for this use."""
        current: _Connection | None = getattr(self._local, "db", None)
        if current is not None:
            yield current
            return
        try:
            with self._pool.connection(timeout=30) as db:
                yield db
        except PoolTimeout as exc:
            raise StoreError(f"store unavailable: {_first_line(exc)}") from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction around look-ups and the writes they decide: no other
        daemon's or process's transaction() runs in between. Nested ones join it. Raises
        StoreError when it cannot commit."""
        with self._begin(serialised=True):
            yield

    @contextmanager
    def _begin(self, serialised: bool = False) -> Iterator[_Connection]:
        """A transaction on a connection bound to this thread (the thread's own, when one is
        open: joined). `serialised`: under the commit lock, as SQLite's BEGIN IMMEDIATE."""
        current: _Connection | None = getattr(self._local, "db", None)
        if current is not None:
            try:
                yield current
            except psycopg.Error as exc:
                raise StoreError(f"store write failed: {_first_line(exc)}") from exc
            return
        try:
            with self._pool.connection(timeout=30) as db:
                self._local.db = db
                try:
                    # BEGIN and the lock in one round trip (a simple query of two statements)
                    db.execute(_BEGIN_SERIALISED if serialised else b"BEGIN")
                    try:
                        yield db
                    except BaseException:
                        with contextlib.suppress(psycopg.Error):
                            db.execute(b"ROLLBACK")
                        raise
                    if db.info.transaction_status == TransactionStatus.INERROR:
                        db.execute(b"ROLLBACK")  # a statement failed and was caught: not kept
                        raise StoreError("store write failed: the transaction was aborted")
                    db.execute(b"COMMIT")
                finally:
                    self._local.db = None
        except psycopg.Error as exc:
            raise StoreError(f"store write failed: {_first_line(exc)}") from exc
        except PoolTimeout as exc:
            raise StoreError(f"store unavailable: {_first_line(exc)}") from exc

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._connection() as db:
                return db.execute(sql.encode("utf-8"), params).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"store read failed: {_first_line(exc)}") from exc

    def _write(self, sql: str, params: tuple[object, ...] = ()) -> int:
        """One statement in its own transaction (or the thread's): the rows it changed."""
        with self._begin() as db:
            return db.execute(sql.encode("utf-8"), params).rowcount

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
            (key, _at(since), _at(until)),
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
            (_at(since), _at(until), sorted(kinds), RECENT_INCIDENTS),
        )
        return [
            Recent(
                id=str(row[0]),
                received_at=_utc(row[1]),
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
            (sender, _at(since), _at(until)),
        )
        return int(rows[0][0])

    def save(
        self, result: Result, keys: TicketKeys, now: datetime, also: Also | None = None
    ) -> None:
        """Commit one result, durably, with whatever `also` writes in the same transaction.
        Raises StoreError (a second result for one id among others); the input then stays
        unacknowledged."""
        row = _ticket_row(result, keys, now)
        with self._begin() as db:
            db.execute(
                f"INSERT INTO tickets ({', '.join(row)})"  # noqa: S608 - our column names
                f" VALUES ({', '.join(['%s'] * len(row))})".encode(),
                tuple(row.values()),
            )
            if also is not None:
                also(SqliteDialect(db))  # type: ignore[arg-type]

    def replace_quarantined(
        self,
        result: Result,
        keys: TicketKeys,
        now: datetime,
        alias: str | None = None,
        also: Also | None = None,
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
                f"UPDATE tickets SET {', '.join(f'{column} = %s' for column in row)}"  # noqa: S608
                " WHERE id = %s AND status = 'quarantined'".encode(),
                (*row.values(), result.id),
            ).rowcount
            if changed == 1 and also is not None:
                also(SqliteDialect(db))  # type: ignore[arg-type]
            return changed == 1

    def count_quarantined(self) -> int:
        return int(self._read("SELECT count(*) FROM tickets WHERE status = 'quarantined'")[0][0])

    def count_tickets(self) -> int:
        return int(self._read("SELECT count(*) FROM tickets")[0][0])

    def count_since(self, since: datetime) -> int:
        rows = self._read("SELECT count(*) FROM tickets WHERE created_at >= %s", (_at(since),))
        return int(rows[0][0])

    def spent_total(self, since: datetime, until: datetime) -> float:
        """Every tier's booked cost in [since, until)."""
        rows = self._read(
            "SELECT coalesce(sum(usd), 0) FROM ledger WHERE at >= %s AND at < %s",
            (_at(since), _at(until)),
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
            (source, value, _at(now)),
        )

    # -- ledger -------------------------------------------------------------------------

    def book(self, entry: LedgerEntry) -> None:
        with self._begin() as db:
            _insert_ledger(db, entry)

    def ledger_for(self, ticket_id: str) -> list[LedgerEntry]:
        rows = self._read(
            "SELECT at, ticket_id, workflow, tier, model, template, template_version, tokens_in,"
            " tokens_out, cached_tokens, seconds, usd, baseline_usd, outcome FROM ledger"
            " WHERE ticket_id = %s ORDER BY id",
            (ticket_id,),
        )
        return [LedgerEntry(_utc(row[0]), *row[1:]) for row in rows]

    # -- budgets ------------------------------------------------------------------------

    def spent(self, tier: str, since: datetime, until: datetime) -> float:
        """Booked cost of a tier in [since, until), plus what is reserved and not settled."""
        rows = self._read(_SPENT_SQL, (tier, _at(since), _at(until), tier))
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
            row = db.execute(_SPENT_SQL.encode(), (tier, _at(since), _at(until), tier)).fetchone()
            spent = float(row[0]) if row else 0.0
            if spent + usd > budget + 1e-12:
                return None
            made = db.execute(
                "INSERT INTO reservations (tier, ticket_id, usd, at) VALUES (%s, %s, %s, %s)"
                " RETURNING id",
                (tier, ticket_id, usd, _at(now)),
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
            (key, scope, _at(since)),
        )
        return str(rows[0][0]) if rows else None

    def cache_peek(self, key: str, scope: str, since: datetime) -> str | None:
        """cache_get without counting the hit (for read-only use)."""
        rows = self._read(
            "SELECT answer FROM answer_cache WHERE key = %s AND scope = %s AND created_at >= %s",
            (key, scope, _at(since)),
        )
        return str(rows[0][0]) if rows else None

    def cache_put(self, key: str, scope: str, answer: str, now: datetime) -> None:
        self._write(
            "INSERT INTO answer_cache (key, scope, answer, created_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (key) DO UPDATE SET scope = excluded.scope,"
            " answer = excluded.answer, created_at = excluded.created_at",
            (key, scope, answer, _at(now)),
        )

    # -- scheduled jobs -------------------------------------------------------------------

    def job_done(self, kind: str, period: str) -> bool:
        rows = self._read("SELECT 1 FROM jobs_done WHERE kind = %s AND period = %s", (kind, period))
        return bool(rows)

    def mark_job_done(self, kind: str, period: str, now: datetime) -> bool:
        """Record a job's period; False when it had been done already (by another daemon)."""
        changed = self._write(
            "INSERT INTO jobs_done (kind, period, at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (kind, period, _at(now)),
        )
        return changed == 1

    # -- the fleet: leases and heartbeats ---------------------------------------------------

    def take_lease(self, name: str, seconds: float, now: datetime) -> bool:
        """Hold `name` (a mailbox, a job, this node's claims) for `seconds` from `now`: taken
        when free or run out, renewed when ours. False while another node holds it."""
        rows = self._read(
            "INSERT INTO leases (name, holder, until, since) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " until = excluded.until, since = CASE WHEN leases.holder = excluded.holder"
            " THEN leases.since ELSE excluded.since END"
            " WHERE leases.holder = excluded.holder OR leases.until < excluded.since"
            " RETURNING holder",
            (name, self.node, _at(now) + timedelta(seconds=seconds), _at(now)),
        )
        return bool(rows)

    def release_lease(self, name: str) -> None:
        """Let go of a lease of ours (at a clean stop: taken over at once, not after it runs
        out)."""
        self._write("DELETE FROM leases WHERE name = %s AND holder = %s", (name, self.node))

    def lease_holder(self, name: str, now: datetime) -> str | None:
        """Who holds `name` now; None when nobody does (free, or run out)."""
        rows = self._read(
            "SELECT holder FROM leases WHERE name = %s AND until >= %s", (name, _at(now))
        )
        return str(rows[0][0]) if rows else None

    def leases_held(self, now: datetime, prefix: str = "") -> list[str]:
        """The names this node holds now (starting with `prefix`), sorted."""
        rows = self._read(
            "SELECT name FROM leases WHERE holder = %s AND until >= %s"
            " AND left(name, %s) = %s ORDER BY name",
            (self.node, _at(now), len(prefix), prefix),
        )
        return [str(row[0]) for row in rows]

    def all_leases(self, now: datetime) -> list[tuple[str, str]]:
        """(name, holder) of every lease held now, for `triage check`."""
        rows = self._read(
            "SELECT name, holder FROM leases WHERE until >= %s ORDER BY name", (_at(now),)
        )
        return [(str(name), str(holder)) for name, holder in rows]

    def heartbeat(self, status: str, now: datetime) -> None:
        """This node is alive and says how it is (its STATUS= line), for `triage check`."""
        self._write(
            "INSERT INTO nodes (name, pid, seen_at, status) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET pid = excluded.pid,"
            " seen_at = excluded.seen_at, status = excluded.status",
            (self.node, os.getpid(), _at(now), status),
        )

    def fleet(self, since: datetime) -> list[NodeSeen]:
        """The nodes seen since `since`, most recently seen first."""
        rows = self._read(
            "SELECT name, pid, seen_at, status FROM nodes WHERE seen_at >= %s"
            " ORDER BY seen_at DESC, name",
            (_at(since),),
        )
        return [NodeSeen(str(n), int(p), _utc(at), str(st)) for n, p, at, st in rows]

    # -- the SQLite-dialect bridge ------------------------------------------------------

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """Read-only SQL written for SQLite (reports, metrics, the delivery queue), run here
        in PostgreSQL's words (`sqlite_dialect`); moments come back as ISO text, as there."""
        return [tuple(_as_text(v) for v in row) for row in self._read(sqlite_dialect(sql), params)]

    @contextmanager
    def writing(self) -> Iterator[SqliteDialect]:
        """A write transaction for a module that keeps its own tables (triage.delivery),
        speaking SQLite's dialect; it joins a transaction already open on this thread."""
        with self._begin() as db:
            yield SqliteDialect(db)

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
            (ticket_id, team, category, predicted, source, _at(now)),
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
    """The tickets table's columns for one result (column names are ours, never input)."""
    return {
        "id": result.id,
        "source": result.source,
        "source_ref": result.source_ref,
        "message_id": result.message_id,
        "content_key": keys.content_key,
        "sender": result.sender,
        "received_at": _at(result.received_at),
        "created_at": _at(now),
        "status": result.status,
        "status_reason": result.status_reason,
        "duplicate_of": result.duplicate_of,
        "category": result.category,
        "priority": result.priority,
        "risk": result.risk,
        "sensitivity": result.sensitivity.level,
        "tier": result.route.tier,
        "workflow": result.workflow,
        "cost_usd": result.cost.usd,
        "result": result.to_json(),
        "incident": sorted(keys.incident) if keys.incident else None,
        "incident_at": _at(keys.incident_at) if keys.incident and keys.incident_at else None,
        "storm_of": result.storm_of,
    }


def _insert_ledger(db: _Connection, entry: LedgerEntry) -> None:
    db.execute(
        "INSERT INTO ledger (at, ticket_id, workflow, tier, model, template, template_version,"
        " tokens_in, tokens_out, cached_tokens, seconds, usd, baseline_usd, outcome)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            _at(entry.at),
            entry.ticket_id,
            entry.workflow,
            entry.tier,
            entry.model,
            entry.template,
            entry.template_version,
            entry.tokens_in,
            entry.tokens_out,
            entry.cached_tokens,
            entry.seconds,
            entry.usd,
            entry.baseline_usd,
            entry.outcome,
        ),
    )


class SqliteDialect:
    """The part of sqlite3.Connection that the tables kept outside the store use (execute,
    executemany, rowcount), on a PostgreSQL connection inside the store's transaction."""

    def __init__(self, db: _Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[object] = ()) -> psycopg.Cursor[Any]:
        return self._db.execute(sqlite_dialect(sql).encode("utf-8"), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> psycopg.Cursor[Any]:
        cursor = self._db.cursor()
        cursor.executemany(sqlite_dialect(sql).encode("utf-8"), [tuple(row) for row in rows])
        return cursor


_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"json_extract\((\w+), '\$\.(\w+)'\)"), r"((\1)::jsonb ->> '\2')"),
    (re.compile(r"date\((\w+), '([+-]\d+) hours'\)"), r"date(\1 + interval '\2 hours')"),
    (re.compile(r"sum\((\w+) = ('\w+')\)"), r"sum((\1 = \2)::int)"),
    (re.compile(r"HAVING cost > 0"), "HAVING sum(usd) > 0"),
    (re.compile(r"\browid\b"), "seq"),
    (re.compile(r"(UNION ALL SELECT min\(at\) FROM ledger\))"), r"\1 AS records"),
)


def sqlite_dialect(sql: str) -> str:
    """The SQLite statements written outside the store, in PostgreSQL's words: `?` marks,
    INSERT OR IGNORE, json_extract, date(at, '+N hours'), sums of comparisons, an alias in
    HAVING, rowid. Only what those statements use (tested with each of them)."""
    text = sql.replace("%", "%%").replace("?", "%s")
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    if text.lstrip().upper().startswith("INSERT OR IGNORE"):
        text = text.replace("INSERT OR IGNORE", "INSERT", 1) + " ON CONFLICT DO NOTHING"
    return text


def _as_text(value: object) -> object:
    """Moments as the SQLite store gives them back: UTC ISO 8601 text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def _at(moment: datetime) -> datetime:
    """A moment as stored: aware, in UTC (a naive one is a bug, as in the SQLite store)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime reached the store")
    return moment.astimezone(UTC)


def _utc(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise StoreError(f"store read failed: a moment came back as {type(value).__name__}")
    return value.astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def _signature(stored: tuple[str, ...]) -> frozenset[str]:
    return frozenset(stored)


def _first_line(exc: BaseException) -> str:
    """An error's first line: psycopg adds context lines (and may quote the statement)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
