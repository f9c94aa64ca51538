"""The deliveries table: each delivery a row, added in the transaction of its result, worked
off by the delivery senders. Pending rows survive a restart or a kill -9; a sent row keeps its
facts and drops its payload."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime

from triage.records import (
    ALL_DESTINATIONS,
    DELIVERY_MISCONFIGURED,
    Delivery,
    DeliveryFacts,
    DeliveryKind,
    FailingDestination,
    Lane,
    Pending,
    Planned,
    QuarantinedDelivery,
)
from triage.store.database import Database
from triage.store.rows import utc_text


def insert_planned(db: sqlite3.Connection, ticket_id: str, planned: Planned, now: datetime) -> None:
    """Inside the result's transaction. A delivery planned before (a replay, a retried
    commit) is kept as it was: one row per key. An unbuildable plan is one quarantined row."""
    if planned.unbuildable is not None:
        db.execute(
            "INSERT OR IGNORE INTO deliveries (key, ticket_id, kind, destination, recipients,"
            " state, next_at, last_error, created_at, done_at)"
            " VALUES (?, ?, 'smtp', '(unbuilt)', '[]', 'quarantined', ?, ?, ?, ?)",
            (
                f"{ticket_id}.unbuilt",
                ticket_id,
                utc_text(now),
                planned.unbuildable,
                utc_text(now),
                utc_text(now),
            ),
        )
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
            for d in planned.deliveries
        ],
    )
    if planned.revised:  # earlier revisions still pending are never sent: this one replaces them
        db.executemany(
            "UPDATE deliveries SET state = 'superseded', payload = NULL, done_at = ?,"
            " last_error = ? WHERE ticket_id = ? AND kind = ? AND destination = ?"
            " AND state = 'pending' AND key != ?",
            [
                (utc_text(now), f"superseded by {d.key}", ticket_id, d.kind, d.destination, d.key)
                for d in planned.deliveries
            ],
        )


def lane_filter(lane: Lane) -> tuple[str, tuple[str, ...]]:
    """The SQL condition (placeholders only) and parameters that select `lane`'s rows."""
    if lane.destination is not None:
        return " AND destination = ?", (lane.destination,)
    if lane.others:
        return f" AND destination NOT IN ({', '.join('?' * len(lane.others))})", lane.others
    return "", ()


class DeliveryTables(Database):
    """The store's delivery queue (the DeliveryStore port)."""

    def add_deliveries(self, ticket_id: str, planned: Planned, now: datetime) -> None:
        """Deliveries of a result committed before, in a transaction of their own (a result
        and its deliveries are written together by `save`)."""
        with self._write() as db:
            insert_planned(db, ticket_id, planned, now)

    def deliveries_due(
        self,
        kind: DeliveryKind,
        now: datetime,
        limit: int,
        batch_bytes: int,
        lane: Lane = ALL_DESTINATIONS,
    ) -> list[Pending]:
        """The oldest due deliveries of `lane`, up to `limit` and `batch_bytes` of payload
        (at least one): a backlog of large mails is never read into memory at once."""
        where, params = lane_filter(lane)
        rows = self._read(
            "SELECT key, ticket_id, destination, recipients, created_at, attempts,"
            " length(payload) FROM deliveries WHERE kind = ? AND state = 'pending'"
            f" AND next_at <= ?{where} ORDER BY next_at, rowid LIMIT ?",
            (kind, utc_text(now), *params, limit),
        )
        batch: list[Pending] = []
        total = 0
        for key, ticket, destination, recipients, created, attempts, size in rows:
            total += int(str(size or 0))
            if batch and total > batch_bytes:
                break
            payload = self._read("SELECT payload FROM deliveries WHERE key = ?", (key,))
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

    def next_delivery_due(
        self, kind: DeliveryKind, lane: Lane = ALL_DESTINATIONS
    ) -> datetime | None:
        where, params = lane_filter(lane)
        rows = self._read(
            f"SELECT min(next_at) FROM deliveries WHERE kind = ? AND state = 'pending'{where}",
            (kind, *params),
        )
        value = rows[0][0]
        return datetime.fromisoformat(str(value)) if value is not None else None

    def delivery_revisions(self, ticket_id: str) -> dict[tuple[str, str], int]:
        """(kind, destination) -> deliveries planned for this ticket so far."""
        rows = self._read(
            "SELECT kind, destination, count(*) FROM deliveries WHERE ticket_id = ?"
            " GROUP BY kind, destination",
            (ticket_id,),
        )
        return {(str(kind), str(destination)): int(str(n)) for kind, destination, n in rows}

    def deliveries_of(self, ticket_id: str) -> list[DeliveryFacts]:
        """Every delivery planned for this ticket, in the order planned (its ticket index)."""
        rows = self._read(
            "SELECT key, kind, destination, recipients, state, attempts, last_error,"
            " created_at, next_at, done_at FROM deliveries WHERE ticket_id = ? ORDER BY rowid",
            (ticket_id,),
        )
        return [_facts(row) for row in rows]

    def deliveries_to(self, kind: DeliveryKind, recipient: str, since: datetime) -> int:
        """Deliveries of `kind` planned for the one recipient `recipient` (case ignored)
        since `since`, whatever became of them. A row's next_at is never before its
        created_at, so the due index bounds the rows read to those of the last hours."""
        rows = self._read(
            "SELECT count(*) FROM deliveries WHERE kind = ?"
            " AND state IN ('pending', 'done', 'quarantined') AND next_at >= ?"
            " AND created_at >= ? AND lower(recipients) = ?",
            (kind, utc_text(since), utc_text(since), json.dumps([recipient.lower()])),
        )
        return int(str(rows[0][0]))

    def deliveries_hold(self, kind: DeliveryKind, destination: str, until: datetime) -> None:
        """No pending delivery to `destination` is due before `until` (misconfigured)."""
        with self._write() as db:
            db.execute(
                "UPDATE deliveries SET next_at = max(next_at, ?) WHERE kind = ?"
                " AND destination = ? AND state = 'pending'",
                (utc_text(until), kind, destination),
            )

    def deliveries_done(self, keys: Iterable[str], now: datetime) -> None:
        """Accepted by the destination: the payload is dropped, the facts kept."""
        with self._write() as db:
            db.executemany(
                "UPDATE deliveries SET state = 'done', payload = NULL, attempts = attempts + 1,"
                " done_at = ?, last_error = NULL WHERE key = ? AND state = 'pending'",
                [(utc_text(now), key) for key in keys],
            )

    def delivery_retry(self, key: str, error: str, at: datetime) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, next_at = ?"
                " WHERE key = ? AND state = 'pending'",
                (error, utc_text(at), key),
            )

    def delivery_quarantine(self, key: str, reason: str, now: datetime) -> None:
        """Refused for good: kept with the reason and the payload, for a person to look at."""
        with self._write() as db:
            db.execute(
                "UPDATE deliveries SET state = 'quarantined', attempts = attempts + 1,"
                " last_error = ?, done_at = ? WHERE key = ?",
                (reason, utc_text(now), key),
            )

    def delivery_counts(self) -> dict[tuple[str, str], int]:
        """(kind, state) -> rows."""
        rows = self._read("SELECT kind, state, count(*) FROM deliveries GROUP BY kind, state")
        return {(str(kind), str(state)): int(str(n)) for kind, state, n in rows}

    def deliveries_retrying(self) -> dict[str, int]:
        """kind -> pending deliveries that failed at least once."""
        rows = self._read(
            "SELECT kind, count(*) FROM deliveries WHERE state = 'pending' AND attempts > 0"
            " GROUP BY kind"
        )
        return {str(kind): int(str(n)) for kind, n in rows}

    def deliveries_failing(self, after: int) -> list[FailingDestination]:
        """Destinations whose pending deliveries have failed `after` times or more."""
        rows = self._read(
            "SELECT kind, destination, count(*), max(attempts),"
            " (SELECT last_error FROM deliveries AS d WHERE d.kind = deliveries.kind"
            "  AND d.destination = deliveries.destination AND d.state = 'pending'"
            "  ORDER BY attempts DESC LIMIT 1)"
            " FROM deliveries WHERE state = 'pending' GROUP BY kind, destination"
            " HAVING max(attempts) >= ?",
            (after,),
        )
        return [
            FailingDestination(str(kind), str(dest), int(str(n)), int(str(attempts)), _text(error))
            for kind, dest, n, attempts, error in rows
        ]

    def deliveries_misconfigured(self) -> list[FailingDestination]:
        """Destinations held back as set up wrong: last_error says why."""
        pattern = DELIVERY_MISCONFIGURED + "%"
        rows = self._read(
            "SELECT kind, destination, count(*), max(attempts),"
            " max(CASE WHEN last_error LIKE ? THEN last_error END)"
            " FROM deliveries WHERE state = 'pending' GROUP BY kind, destination"
            " HAVING max(last_error LIKE ?)",
            (pattern, pattern),
        )
        return [
            FailingDestination(str(kind), str(dest), int(str(n)), int(str(attempts)), _text(error))
            for kind, dest, n, attempts, error in rows
        ]

    def deliveries_quarantined(self, limit: int) -> list[QuarantinedDelivery]:
        """Deliveries refused for good, newest first."""
        rows = self._read(
            "SELECT key, ticket_id, kind, destination, last_error FROM deliveries"
            " WHERE state = 'quarantined' ORDER BY done_at DESC LIMIT ?",
            (limit,),
        )
        return [
            QuarantinedDelivery(str(key), str(ticket), str(kind), str(dest), _text(reason))
            for key, ticket, kind, dest, reason in rows
        ]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _facts(row: tuple[object, ...]) -> DeliveryFacts:
    key, kind, destination, recipients, state, attempts, error, created, next_at, done = row
    return DeliveryFacts(
        key=str(key),
        kind=str(kind),
        destination=str(destination),
        recipients=tuple(str(r) for r in json.loads(str(recipients))),
        state=str(state),
        attempts=int(str(attempts)),
        last_error=_text(error),
        created_at=datetime.fromisoformat(str(created)),
        next_at=datetime.fromisoformat(str(next_at)),
        done_at=None if done is None else datetime.fromisoformat(str(done)),
    )
