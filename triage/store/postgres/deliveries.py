"""The deliveries table on PostgreSQL: the DeliveryStore port, as triage.store.deliveries has
it on SQLite (rows added in the transaction of their result; a sent row keeps its facts and
drops its payload)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

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
from triage.store.postgres.database import Connection, PostgresDatabase, utc
from triage.store.postgres.database import at as _at


def insert_planned(db: Connection, ticket_id: str, planned: Planned, now: datetime) -> None:
    """Inside the result's transaction. A delivery planned before (a replay, a retried
    commit) is kept as it was: one row per key. An unbuildable plan is one quarantined row."""
    if planned.unbuildable is not None:
        db.execute(
            "INSERT INTO deliveries (key, ticket_id, kind, destination, recipients,"
            " state, next_at, last_error, created_at, done_at)"
            " VALUES (%s, %s, 'smtp', '(unbuilt)', '[]', 'quarantined', %s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            (f"{ticket_id}.unbuilt", ticket_id, _at(now), planned.unbuildable, _at(now), _at(now)),
        )
    if planned.deliveries:
        db.cursor().executemany(
            "INSERT INTO deliveries (key, ticket_id, kind, destination, recipients,"
            " payload, state, next_at, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, 'pending', %s, %s) ON CONFLICT DO NOTHING",
            [
                (
                    d.key,
                    d.ticket_id,
                    d.kind,
                    d.destination,
                    json.dumps(list(d.recipients)),
                    d.payload,
                    _at(d.created_at),
                    _at(d.created_at),
                )
                for d in planned.deliveries
            ],
        )
    if planned.revised and planned.deliveries:  # earlier revisions still pending: never sent
        db.cursor().executemany(
            "UPDATE deliveries SET state = 'superseded', payload = NULL, done_at = %s,"
            " last_error = %s WHERE ticket_id = %s AND kind = %s AND destination = %s"
            " AND state = 'pending' AND key != %s",
            [
                (_at(now), f"superseded by {d.key}", ticket_id, d.kind, d.destination, d.key)
                for d in planned.deliveries
            ],
        )


def lane_filter(lane: Lane) -> tuple[str, tuple[Any, ...]]:
    """The SQL condition (placeholders only) and parameters that select `lane`'s rows."""
    if lane.destination is not None:
        return " AND destination = %s", (lane.destination,)
    if lane.others:
        return " AND NOT (destination = ANY(%s))", (list(lane.others),)
    return "", ()


class PostgresDeliveries(PostgresDatabase):
    """The store's delivery queue (the DeliveryStore port)."""

    def add_deliveries(self, ticket_id: str, planned: Planned, now: datetime) -> None:
        """Deliveries of a result committed before, in a transaction of their own."""
        with self._begin() as db:
            insert_planned(db, ticket_id, planned, now)

    def deliveries_due(
        self,
        kind: DeliveryKind,
        now: datetime,
        limit: int,
        batch_bytes: int,
        lane: Lane = ALL_DESTINATIONS,
    ) -> list[Pending]:
        """The oldest due deliveries, up to `limit` and `batch_bytes` of payload (at least
        one), claimed for this daemon: their next attempt moves `lease_seconds` on, so the
        other daemons of the fleet skip them (rows another daemon is claiming are skipped,
        never waited for). Each is then done, retried or quarantined; a daemon that dies
        first leaves them due again once the claim runs out."""
        where, params = lane_filter(lane)
        with self._begin() as db:
            rows = db.execute(
                "SELECT key, ticket_id, destination, recipients, created_at, attempts,"
                " length(payload) FROM deliveries WHERE kind = %s AND state = 'pending'"
                f" AND next_at <= %s{where} ORDER BY next_at, seq LIMIT %s"
                " FOR UPDATE SKIP LOCKED",
                (kind, _at(now), *params, limit),
            ).fetchall()
            chosen: list[tuple[Any, ...]] = []
            total = 0
            for row in rows:
                total += int(row[6] or 0)
                if chosen and total > batch_bytes:
                    break
                chosen.append(row)
            if not chosen:
                return []
            keys = [str(row[0]) for row in chosen]
            db.execute(
                "UPDATE deliveries SET next_at = %s WHERE key = ANY(%s)",
                (_at(now) + timedelta(seconds=self.lease_seconds), keys),
            )
            payloads = dict(
                db.execute(
                    "SELECT key, payload FROM deliveries WHERE key = ANY(%s)", (keys,)
                ).fetchall()
            )
        return [
            Pending(
                Delivery(
                    key=str(key),
                    ticket_id=str(ticket),
                    kind=kind,
                    destination=str(destination),
                    recipients=tuple(json.loads(str(recipients))),
                    payload=bytes(payloads[key]) if payloads.get(key) is not None else b"",
                    created_at=utc(created),
                ),
                int(attempts),
            )
            for key, ticket, destination, recipients, created, attempts, _ in chosen
        ]

    def next_delivery_due(
        self, kind: DeliveryKind, lane: Lane = ALL_DESTINATIONS
    ) -> datetime | None:
        where, params = lane_filter(lane)
        rows = self._read(
            f"SELECT min(next_at) FROM deliveries WHERE kind = %s AND state = 'pending'{where}",
            (kind, *params),
        )
        value = rows[0][0]
        return utc(value) if value is not None else None

    def delivery_revisions(self, ticket_id: str) -> dict[tuple[str, str], int]:
        """(kind, destination) -> deliveries planned for this ticket so far."""
        rows = self._read(
            "SELECT kind, destination, count(*) FROM deliveries WHERE ticket_id = %s"
            " GROUP BY kind, destination",
            (ticket_id,),
        )
        return {(str(kind), str(destination)): int(n) for kind, destination, n in rows}

    def deliveries_of(self, ticket_id: str) -> list[DeliveryFacts]:
        """Every delivery planned for this ticket, in the order planned (its ticket index)."""
        rows = self._read(
            "SELECT key, kind, destination, recipients, state, attempts, last_error,"
            " created_at, next_at, done_at FROM deliveries WHERE ticket_id = %s ORDER BY seq",
            (ticket_id,),
        )
        return [_facts(row) for row in rows]

    def deliveries_to(self, kind: DeliveryKind, recipient: str, since: datetime) -> int:
        """Deliveries of `kind` planned for the one recipient `recipient` (case ignored)
        since `since`, whatever became of them. A row's next_at is never before its
        created_at, so the due index bounds the rows read to those of the last hours."""
        rows = self._read(
            "SELECT count(*) FROM deliveries WHERE kind = %s"
            " AND state IN ('pending', 'done', 'quarantined') AND next_at >= %s"
            " AND created_at >= %s AND lower(recipients) = %s",
            (kind, _at(since), _at(since), json.dumps([recipient.lower()])),
        )
        return int(rows[0][0])

    def deliveries_hold(self, kind: DeliveryKind, destination: str, until: datetime) -> None:
        """No pending delivery to `destination` is due before `until` (misconfigured)."""
        self._write(
            "UPDATE deliveries SET next_at = GREATEST(next_at, %s) WHERE kind = %s"
            " AND destination = %s AND state = 'pending'",
            (_at(until), kind, destination),
        )

    def deliveries_done(self, keys: Iterable[str], now: datetime) -> None:
        """Accepted by the destination: the payload is dropped, the facts kept."""
        with self._begin() as db:
            db.cursor().executemany(
                "UPDATE deliveries SET state = 'done', payload = NULL, attempts = attempts + 1,"
                " done_at = %s, last_error = NULL WHERE key = %s AND state = 'pending'",
                [(_at(now), key) for key in keys],
            )

    def delivery_retry(self, key: str, error: str, at: datetime) -> None:
        self._write(
            "UPDATE deliveries SET attempts = attempts + 1, last_error = %s, next_at = %s"
            " WHERE key = %s AND state = 'pending'",
            (error, _at(at), key),
        )

    def delivery_quarantine(self, key: str, reason: str, now: datetime) -> None:
        """Refused for good: kept with the reason and the payload, for a person to look at."""
        self._write(
            "UPDATE deliveries SET state = 'quarantined', attempts = attempts + 1,"
            " last_error = %s, done_at = %s WHERE key = %s",
            (reason, _at(now), key),
        )

    def delivery_counts(self) -> dict[tuple[str, str], int]:
        """(kind, state) -> rows."""
        rows = self._read("SELECT kind, state, count(*) FROM deliveries GROUP BY kind, state")
        return {(str(kind), str(state)): int(n) for kind, state, n in rows}

    def deliveries_retrying(self) -> dict[str, int]:
        """kind -> pending deliveries that failed at least once."""
        rows = self._read(
            "SELECT kind, count(*) FROM deliveries WHERE state = 'pending' AND attempts > 0"
            " GROUP BY kind"
        )
        return {str(kind): int(n) for kind, n in rows}

    def deliveries_failing(self, after: int) -> list[FailingDestination]:
        """Destinations whose pending deliveries have failed `after` times or more."""
        rows = self._read(
            "SELECT kind, destination, count(*), max(attempts),"
            " (SELECT last_error FROM deliveries AS d WHERE d.kind = deliveries.kind"
            "  AND d.destination = deliveries.destination AND d.state = 'pending'"
            "  ORDER BY attempts DESC LIMIT 1)"
            " FROM deliveries WHERE state = 'pending' GROUP BY kind, destination"
            " HAVING max(attempts) >= %s",
            (after,),
        )
        return [
            FailingDestination(str(kind), str(dest), int(n), int(attempts), _text(error))
            for kind, dest, n, attempts, error in rows
        ]

    def deliveries_misconfigured(self) -> list[FailingDestination]:
        """Destinations held back as set up wrong: last_error says why."""
        pattern = DELIVERY_MISCONFIGURED + "%"
        rows = self._read(
            "SELECT kind, destination, count(*), max(attempts),"
            " max(last_error) FILTER (WHERE last_error LIKE %s)"
            " FROM deliveries WHERE state = 'pending' GROUP BY kind, destination"
            " HAVING bool_or(last_error LIKE %s)",
            (pattern, pattern),
        )
        return [
            FailingDestination(str(kind), str(dest), int(n), int(attempts), _text(error))
            for kind, dest, n, attempts, error in rows
        ]

    def deliveries_quarantined(self, limit: int) -> list[QuarantinedDelivery]:
        """Deliveries refused for good, newest first."""
        rows = self._read(
            "SELECT key, ticket_id, kind, destination, last_error FROM deliveries"
            " WHERE state = 'quarantined' ORDER BY done_at DESC, seq DESC LIMIT %s",
            (limit,),
        )
        return [
            QuarantinedDelivery(str(key), str(ticket), str(kind), str(dest), _text(reason))
            for key, ticket, kind, dest, reason in rows
        ]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _facts(row: tuple[Any, ...]) -> DeliveryFacts:
    key, kind, destination, recipients, state, attempts, error, created, next_at, done = row
    return DeliveryFacts(
        key=str(key),
        kind=str(kind),
        destination=str(destination),
        recipients=tuple(str(r) for r in json.loads(str(recipients))),
        state=str(state),
        attempts=int(attempts),
        last_error=_text(error),
        created_at=utc(created),
        next_at=utc(next_at),
        done_at=None if done is None else utc(done),
    )
