"""SQLite store: tickets and their results, source cursors, the cost ledger, the answer cache.

The store is the single source of truth for "has this input been handled". One connection in
WAL mode, serialised by a lock, so connector threads can share it. The schema is versioned
with PRAGMA user_version; MIGRATIONS only ever grows.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from triage.errors import StoreError
from triage.records import Also, LedgerEntry, TicketKeys
from triage.result import Result

MIGRATIONS: tuple[str, ...] = (
    # 1: tickets, cursors, ledger, answer cache
    """
    CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        source_ref TEXT NOT NULL,
        message_id TEXT,
        content_key TEXT,
        sender TEXT,
        received_at TEXT NOT NULL,   -- UTC ISO 8601, sortable
        created_at TEXT NOT NULL,
        status TEXT NOT NULL,
        status_reason TEXT,
        duplicate_of TEXT,
        category TEXT NOT NULL,
        priority TEXT NOT NULL,
        risk TEXT NOT NULL,
        sensitivity TEXT NOT NULL,
        tier TEXT NOT NULL,
        workflow TEXT NOT NULL,
        cost_usd REAL NOT NULL DEFAULT 0,
        result TEXT NOT NULL         -- the result JSON, as written to the outbox
    );
    CREATE INDEX tickets_message_id ON tickets(message_id) WHERE message_id IS NOT NULL;
    CREATE INDEX tickets_content_key ON tickets(content_key, received_at);
    CREATE INDEX tickets_created_at ON tickets(created_at);
    CREATE TABLE cursors (
        source TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE ledger (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        ticket_id TEXT,
        workflow TEXT NOT NULL,
        tier TEXT NOT NULL,
        model TEXT,
        template TEXT,
        template_version TEXT,
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        cached_tokens INTEGER NOT NULL DEFAULT 0,
        seconds REAL NOT NULL DEFAULT 0,
        usd REAL NOT NULL DEFAULT 0,
        baseline_usd REAL NOT NULL DEFAULT 0,
        outcome TEXT NOT NULL
    );
    CREATE INDEX ledger_at ON ledger(at);
    CREATE INDEX ledger_ticket ON ledger(ticket_id);
    CREATE TABLE answer_cache (
        key TEXT PRIMARY KEY,
        scope TEXT NOT NULL,
        answer TEXT NOT NULL,
        created_at TEXT NOT NULL,
        hits INTEGER NOT NULL DEFAULT 0
    );
    """,
    # 2: per-sender counting for mail-loop protection
    """
    CREATE INDEX tickets_sender ON tickets(sender, received_at) WHERE sender IS NOT NULL;
    """,
    # 3: budget reservations: a paid call's worst case, held until its real cost is booked
    """
    CREATE TABLE reservations (
        id INTEGER PRIMARY KEY,
        tier TEXT NOT NULL,
        ticket_id TEXT,
        usd REAL NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX ledger_tier_at ON ledger(tier, at);
    """,
    # 4: scheduled jobs done, so a digest or report is never made twice for one period
    """
    CREATE TABLE jobs_done (
        kind TEXT NOT NULL,
        period TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (kind, period)
    );
    """,
    # 5: other ids of a ticket: a quarantined file replayed after a fix has new bytes, so a
    # new id; that id is the same ticket, never a second one
    """
    CREATE TABLE aliases (
        id TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL REFERENCES tickets(id)
    );
    """,
    # 6: deliveries (relay mail, webhooks), made in the transaction of their result; the
    # payload is the exact bytes to send, dropped once sent (triage.delivery.queue)
    """
    CREATE TABLE deliveries (
        key TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        destination TEXT NOT NULL,
        recipients TEXT NOT NULL,
        payload BLOB,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        done_at TEXT
    );
    CREATE INDEX deliveries_due ON deliveries(kind, state, next_at);
    CREATE INDEX deliveries_ticket ON deliveries(ticket_id);
    """,
)


# A tier's booked cost in [since, until) plus what is reserved and not yet settled.
_SPENT_SQL = (
    "SELECT (SELECT coalesce(sum(usd), 0) FROM ledger WHERE tier = ? AND at >= ? AND at < ?)"
    " + (SELECT coalesce(sum(usd), 0) FROM reservations WHERE tier = ?)"
)


class SqliteStore:
    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = path
        try:
            if read_only:
                self._db = sqlite3.connect(
                    f"file:{path}?mode=ro", uri=True, check_same_thread=False
                )
            else:
                if isinstance(path, Path):
                    path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(
                    str(path), isolation_level=None, check_same_thread=False, timeout=30
                )
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.execute("PRAGMA foreign_keys=ON")
                self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from exc
        self._lock = threading.RLock()

    # -- schema -------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the store {self.path} has schema version {version}, newer than this "
                f"triage ({len(MIGRATIONS)}): upgrade triage or use another store"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in script.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    # SQLite has rolled back already on some errors (SQLITE_FULL): a second
                    # ROLLBACK would hide the real error behind "no transaction is active".
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StoreError(f"store write failed: {exc}") from exc

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"store read failed: {exc}") from exc

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
            (key, _utc(since), _utc(until)),
        )
        return str(rows[0][0]) if rows else None

    def count_from_sender(self, sender: str, since: datetime, until: datetime) -> int:
        rows = self._read(
            "SELECT count(*) FROM tickets WHERE sender = ? AND received_at >= ? "
            "AND received_at <= ?",
            (sender, _utc(since), _utc(until)),
        )
        return int(str(rows[0][0]))

    def save(
        self, result: Result, keys: TicketKeys, now: datetime, also: Also | None = None
    ) -> None:
        """Commit one result, durably, with whatever `also` writes in the same transaction
        (its deliveries). Raises StoreError; then the input stays unacknowledged."""
        row = _ticket_row(result, keys, now)
        with self._write() as db:
            db.execute(
                f"INSERT INTO tickets ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",  # noqa: S608 - our column names
                tuple(row.values()),
            )
            if also is not None:
                also(db)

    def replace_quarantined(
        self,
        result: Result,
        keys: TicketKeys,
        now: datetime,
        alias: str | None = None,
        also: Also | None = None,
    ) -> bool:
        """A replay: the quarantined result of this id is replaced, in place, and `alias`
        (the id of the fixed input) recorded as the same ticket. False when the id holds no
        quarantined result (triaged meanwhile, or never seen)."""
        row = _ticket_row(result, keys, now)
        del row["id"]
        with self._write() as db:
            if alias and alias != result.id:
                db.execute(
                    "INSERT OR IGNORE INTO aliases (id, ticket_id) VALUES (?, ?)",
                    (alias, result.id),
                )
            cursor = db.execute(
                f"UPDATE tickets SET {', '.join(f'{column} = ?' for column in row)}"  # noqa: S608
                " WHERE id = ? AND status = 'quarantined'",
                (*row.values(), result.id),
            )
            if cursor.rowcount == 1 and also is not None:
                also(db)
            return cursor.rowcount == 1

    def count_quarantined(self) -> int:
        rows = self._read("SELECT count(*) FROM tickets WHERE status = 'quarantined'")
        return int(str(rows[0][0]))

    def count_tickets(self) -> int:
        return int(str(self._read("SELECT count(*) FROM tickets")[0][0]))

    def count_since(self, since: datetime) -> int:
        rows = self._read("SELECT count(*) FROM tickets WHERE created_at >= ?", (_utc(since),))
        return int(str(rows[0][0]))

    def spent_total(self, since: datetime, until: datetime) -> float:
        """Every tier's booked cost in [since, until)."""
        rows = self._read(
            "SELECT coalesce(sum(usd), 0) FROM ledger WHERE at >= ? AND at < ?",
            (_utc(since), _utc(until)),
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
                (source, value, _utc(now)),
            )

    # -- ledger -------------------------------------------------------------------------

    def book(self, entry: LedgerEntry) -> None:
        with self._write() as db:
            _insert_ledger(db, entry)

    def ledger_for(self, ticket_id: str) -> list[LedgerEntry]:
        rows = self._read(
            "SELECT at, ticket_id, workflow, tier, model, template, template_version, tokens_in,"
            " tokens_out, cached_tokens, seconds, usd, baseline_usd, outcome FROM ledger"
            " WHERE ticket_id = ? ORDER BY id",
            (ticket_id,),
        )
        return [
            LedgerEntry(datetime.fromisoformat(str(row[0])), *row[1:])  # type: ignore[arg-type]
            for row in rows
        ]

    # -- budgets ------------------------------------------------------------------------

    def spent(self, tier: str, since: datetime, until: datetime) -> float:
        """Booked cost of a tier in [since, until), plus what is reserved and not settled."""
        rows = self._read(_SPENT_SQL, (tier, _utc(since), _utc(until), tier))
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
            spent = db.execute(_SPENT_SQL, (tier, _utc(since), _utc(until), tier)).fetchone()[0]
            if spent + usd > budget + 1e-12:
                return None
            cursor = db.execute(
                "INSERT INTO reservations (tier, ticket_id, usd, at) VALUES (?, ?, ?, ?)",
                (tier, ticket_id, usd, _utc(now)),
            )
            return int(cursor.lastrowid or 0)

    def settle(self, reservation: int, entries: list[LedgerEntry]) -> None:
        """Replace a reservation by the ledger rows of what was really spent, atomically."""
        with self._write() as db:
            db.execute("DELETE FROM reservations WHERE id = ?", (reservation,))
            for entry in entries:
                _insert_ledger(db, entry)

    # -- answer cache -------------------------------------------------------------------

    def cache_get(self, key: str, scope: str, since: datetime) -> str | None:
        with self._write() as db:
            row = db.execute(
                "SELECT answer FROM answer_cache WHERE key = ? AND scope = ? AND created_at >= ?",
                (key, scope, _utc(since)),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE answer_cache SET hits = hits + 1 WHERE key = ?", (key,))
            return str(row[0])

    def cache_peek(self, key: str, scope: str, since: datetime) -> str | None:
        """cache_get without counting the hit (for read-only use)."""
        rows = self._read(
            "SELECT answer FROM answer_cache WHERE key = ? AND scope = ? AND created_at >= ?",
            (key, scope, _utc(since)),
        )
        return str(rows[0][0]) if rows else None

    def cache_put(self, key: str, scope: str, answer: str, now: datetime) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO answer_cache (key, scope, answer, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET scope = excluded.scope,"
                " answer = excluded.answer, created_at = excluded.created_at",
                (key, scope, answer, _utc(now)),
            )

    # -- reports --------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction for a module that keeps its own tables (triage.delivery)."""
        with self._write() as db:
            yield db

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """Read-only SQL for the reports (triage.reporting builds the queries)."""
        return self._read(sql, params)

    def job_done(self, kind: str, period: str) -> bool:
        rows = self._read("SELECT 1 FROM jobs_done WHERE kind = ? AND period = ?", (kind, period))
        return bool(rows)

    def mark_job_done(self, kind: str, period: str, now: datetime) -> bool:
        """Record a job's period; False when it had been done already (by another run)."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO jobs_done (kind, period, at) VALUES (?, ?, ?)",
                (kind, period, _utc(now)),
            )
            return cursor.rowcount == 1

    # -- maintenance --------------------------------------------------------------------

    def integrity_check(self) -> str:
        return str(self._read("PRAGMA integrity_check")[0][0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _ticket_row(result: Result, keys: TicketKeys, now: datetime) -> dict[str, object]:
    """The tickets table's columns for one result (column names are ours, never input)."""
    return {
        "id": result.id,
        "source": result.source,
        "source_ref": result.source_ref,
        "message_id": result.message_id,
        "content_key": keys.content_key,
        "sender": result.sender,
        "received_at": _utc(result.received_at),
        "created_at": _utc(now),
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
    }


def _insert_ledger(db: sqlite3.Connection, entry: LedgerEntry) -> None:
    db.execute(
        "INSERT INTO ledger (at, ticket_id, workflow, tier, model, template, template_version,"
        " tokens_in, tokens_out, cached_tokens, seconds, usd, baseline_usd, outcome)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            _utc(entry.at),
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


def utc_text(moment: datetime) -> str:
    """How moments are stored: UTC ISO 8601, sortable as text."""
    return _utc(moment)


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime reached the store")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
