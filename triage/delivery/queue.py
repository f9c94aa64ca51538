"""The deliveries table: each delivery a row, added in the transaction of its result, worked
off by a Sender. Pending rows survive a restart or a kill -9; a sent row keeps its facts
and drops its payload."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from triage.delivery.records import MISCONFIGURED, Delivery, Kind, Pending
from triage.store import SqliteStore, utc_text

FIRST_RETRY_SECONDS = 5.0
# Payload bytes read into memory per batch of deliveries (a batch holds at least one).
BATCH_BYTES = 32 * 1024 * 1024
# A destination whose oldest pending delivery has failed this often is reported as failing.
FAILING_AFTER = 3


def insert(db: sqlite3.Connection, deliveries: Iterable[Delivery]) -> None:
    """Inside the result's transaction. A delivery planned before (a replay, a retried
    commit) is kept as it was: one row per key."""
    db.executemany(
        "INSERT OR IGNORE INTO deliveries (key, ticket_id, kind, destination, recipients,"
        " payload, state, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
        [
            (
                d.key,
                d.ticket_id,
                d.kind,
                d.destination,
                json.dumps(list(d.recipients)),
                d.payload,
                utc_text(d.created_at),
                utc_text(d.created_at),
            )
            for d in deliveries
        ],
    )


def earlier(db: sqlite3.Connection, ticket_id: str) -> dict[tuple[str, str], int]:
    """(kind, destination) -> deliveries planned for this ticket before (its earlier
    results, when it is replayed)."""
    rows = db.execute(
        "SELECT kind, destination, count(*) FROM deliveries WHERE ticket_id = ?"
        " GROUP BY kind, destination",
        (ticket_id,),
    ).fetchall()
    return {(str(kind), str(destination)): int(n) for kind, destination, n in rows}


def supersede(db: sqlite3.Connection, deliveries: Iterable[Delivery], now: datetime) -> None:
    """Earlier revisions still pending to the same destination are never sent: the new one
    carries the whole current result, and an old one sent after it would undo it."""
    db.executemany(
        "UPDATE deliveries SET state = 'superseded', payload = NULL, done_at = ?,"
        " last_error = ? WHERE ticket_id = ? AND kind = ? AND destination = ?"
        " AND state = 'pending' AND key != ?",
        [
            (utc_text(now), f"superseded by {d.key}", d.ticket_id, d.kind, d.destination, d.key)
            for d in deliveries
        ],
    )


def insert_unbuildable(db: sqlite3.Connection, ticket_id: str, reason: str, now: datetime) -> None:
    """A delivery that could not even be planned: quarantined at once, so check and the
    digest show it."""
    db.execute(
        "INSERT OR IGNORE INTO deliveries (key, ticket_id, kind, destination, recipients,"
        " state, next_at, last_error, created_at, done_at)"
        " VALUES (?, ?, 'smtp', '(unbuilt)', '[]', 'quarantined', ?, ?, ?, ?)",
        (f"{ticket_id}.unbuilt", ticket_id, utc_text(now), reason, utc_text(now), utc_text(now)),
    )


def backoff_seconds(attempts: int, cap: float) -> float:
    """5 s after the first failure, doubling, never more than `cap`."""
    return float(min(cap, FIRST_RETRY_SECONDS * 2 ** max(0, min(attempts - 1, 30))))


@dataclass(frozen=True)
class Lane:
    """The deliveries one sender works off: those to `destination`, or (None) those to any
    destination outside `others` (each of which has a lane of its own)."""

    destination: str | None = None
    others: tuple[str, ...] = ()

    def where(self) -> tuple[str, tuple[str, ...]]:
        if self.destination is not None:
            return " AND destination = ?", (self.destination,)
        if self.others:
            return f" AND destination NOT IN ({', '.join('?' * len(self.others))})", self.others
        return "", ()


ALL = Lane()


@dataclass(frozen=True)
class Failing:
    """A destination that keeps failing: for check, the digest and STATUS=."""

    kind: str
    destination: str
    pending: int
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class Quarantined:
    key: str
    ticket_id: str
    kind: str
    destination: str
    reason: str | None


class DeliveryQueue:
    def __init__(self, store: SqliteStore, batch_bytes: int = BATCH_BYTES) -> None:
        self._store = store
        self._batch_bytes = batch_bytes

    def due(self, kind: Kind, now: datetime, limit: int = 50, lane: Lane = ALL) -> list[Pending]:
        """The oldest due deliveries of `lane`, up to `limit` and `batch_bytes` of payload
        (at least one): a backlog of large mails is never read into memory at once."""
        where, params = lane.where()  # placeholders only
        sql = (
            "SELECT key, ticket_id, destination, recipients, created_at, attempts,"  # noqa: S608
            " length(payload) FROM deliveries WHERE kind = ? AND state = 'pending'"
            f" AND next_at <= ?{where} ORDER BY next_at, rowid LIMIT ?"
        )
        rows = self._store.query(sql, (kind, utc_text(now), *params, limit))
        batch: list[Pending] = []
        total = 0
        for key, ticket, destination, recipients, created, attempts, size in rows:
            total += int(str(size or 0))
            if batch and total > self._batch_bytes:
                break
            payload = self._store.query("SELECT payload FROM deliveries WHERE key = ?", (key,))
            data = payload[0][0] if payload else None
            batch.append(
                Pending(
                    Delivery(
                        key=str(key),
                        ticket_id=str(ticket),
                        kind=kind,
                        destination=str(destination),
                        recipients=tuple(json.loads(str(recipients))),
                        payload=bytes(data) if isinstance(data, bytes) else b"",
                        created_at=datetime.fromisoformat(str(created)),
                    ),
                    int(str(attempts)),
                )
            )
        return batch

    def next_due(self, kind: Kind, lane: Lane = ALL) -> datetime | None:
        where, params = lane.where()
        rows = self._store.query(
            f"SELECT min(next_at) FROM deliveries WHERE kind = ? AND state = 'pending'{where}",  # noqa: S608
            (kind, *params),
        )
        value = rows[0][0]
        return datetime.fromisoformat(str(value)) if value is not None else None

    def done(self, keys: Iterable[str], now: datetime) -> None:
        """Accepted by the destination: the payload is dropped, the facts kept."""
        with self._store.writing() as db:
            db.executemany(
                "UPDATE deliveries SET state = 'done', payload = NULL, attempts = attempts + 1,"
                " done_at = ?, last_error = NULL WHERE key = ? AND state = 'pending'",
                [(utc_text(now), key) for key in keys],
            )

    def retry(self, key: str, error: str, at: datetime) -> None:
        with self._store.writing() as db:
            db.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, next_at = ?"
                " WHERE key = ? AND state = 'pending'",
                (error, utc_text(at), key),
            )

    def hold(self, kind: Kind, destination: str, until: datetime) -> None:
        """No delivery to `destination` is due before `until` (it is misconfigured)."""
        with self._store.writing() as db:
            db.execute(
                "UPDATE deliveries SET next_at = max(next_at, ?) WHERE kind = ?"
                " AND destination = ? AND state = 'pending'",
                (utc_text(until), kind, destination),
            )

    def quarantine(self, key: str, reason: str, now: datetime) -> None:
        """Refused for good: kept with the reason and the payload, for a person to look at."""
        with self._store.writing() as db:
            db.execute(
                "UPDATE deliveries SET state = 'quarantined', attempts = attempts + 1,"
                " last_error = ?, done_at = ? WHERE key = ?",
                (reason, utc_text(now), key),
            )


class Queryable(Protocol):
    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]: ...


def counts(store: Queryable) -> dict[tuple[str, str], int]:
    """(kind, state) -> rows."""
    rows = store.query("SELECT kind, state, count(*) FROM deliveries GROUP BY kind, state")
    return {(str(kind), str(state)): int(str(n)) for kind, state, n in rows}


def failing(store: Queryable) -> list[Failing]:
    """Destinations whose pending deliveries have failed FAILING_AFTER times or more."""
    rows = store.query(
        "SELECT kind, destination, count(*), max(attempts),"
        " (SELECT last_error FROM deliveries AS d WHERE d.kind = deliveries.kind"
        "  AND d.destination = deliveries.destination AND d.state = 'pending'"
        "  ORDER BY attempts DESC LIMIT 1)"
        " FROM deliveries WHERE state = 'pending' GROUP BY kind, destination"
        " HAVING max(attempts) >= ?",
        (FAILING_AFTER,),
    )
    return [
        Failing(str(kind), str(dest), int(str(n)), int(str(attempts)), _text(error))
        for kind, dest, n, attempts, error in rows
    ]


def misconfigured(store: Queryable) -> list[Failing]:
    """Destinations held back as misconfigured: last_error is the reason."""
    pattern = MISCONFIGURED + "%"
    rows = store.query(
        "SELECT kind, destination, count(*), max(attempts),"
        " max(CASE WHEN last_error LIKE ? THEN last_error END)"
        " FROM deliveries WHERE state = 'pending' GROUP BY kind, destination"
        " HAVING max(last_error LIKE ?)",
        (pattern, pattern),
    )
    return [
        Failing(str(kind), str(dest), int(str(n)), int(str(attempts)), _text(error))
        for kind, dest, n, attempts, error in rows
    ]


def quarantined(store: Queryable, limit: int = 20) -> list[Quarantined]:
    """Deliveries refused for good, newest first."""
    rows = store.query(
        "SELECT key, ticket_id, kind, destination, last_error FROM deliveries"
        " WHERE state = 'quarantined' ORDER BY done_at DESC LIMIT ?",
        (limit,),
    )
    return [
        Quarantined(str(key), str(ticket), str(kind), str(dest), _text(reason))
        for key, ticket, kind, dest, reason in rows
    ]


def problems(store: Queryable) -> list[str]:
    """What is stuck, in words: for check, the digest and STATUS=."""
    held = misconfigured(store)
    lines = [
        f"{f.kind} to {f.destination} is {f.last_error or MISCONFIGURED}; {f.pending} waiting,"
        " kept until it is fixed"
        for f in held
    ]
    named = {(f.kind, f.destination) for f in held}
    lines += [
        f"{f.kind} to {f.destination} keeps failing: {f.pending} waiting, {f.attempts}"
        f" attempts, last error: {f.last_error}"
        for f in failing(store)
        if (f.kind, f.destination) not in named
    ]
    for (kind, state), count in sorted(counts(store).items()):
        if state == "quarantined":
            lines.append(f"{kind}: {count} deliveries refused for good (quarantined)")
    return lines


def _text(value: object) -> str | None:
    return None if value is None else str(value)
