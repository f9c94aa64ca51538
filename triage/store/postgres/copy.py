"""Moving a SQLite store to PostgreSQL (`triage store-to-postgres`): every table copied, in one
PostgreSQL transaction, into a store that has no tickets yet, moments and storm signatures
turned into PostgreSQL's types. The SQLite file is only read."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from triage.errors import StoreError
from triage.store.postgres.store import PostgresStore
from triage.store.rows import LEDGER_COLUMNS

# table -> (columns, the moment columns among them); copied in this order (aliases and labels
# refer to tickets).
TABLES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "tickets": (
        (
            "id",
            "source",
            "source_ref",
            "message_id",
            "content_key",
            "sender",
            "received_at",
            "created_at",
            "status",
            "status_reason",
            "duplicate_of",
            "category",
            "priority",
            "risk",
            "sensitivity",
            "tier",
            "workflow",
            "cost_usd",
            "result",
            "incident",
            "incident_at",
            "storm_of",
        ),
        frozenset({"received_at", "created_at", "incident_at"}),
    ),
    "aliases": (("id", "ticket_id"), frozenset()),
    "cursors": (("source", "value", "updated_at"), frozenset({"updated_at"})),
    "ledger": (
        LEDGER_COLUMNS,
        frozenset({"at"}),
    ),
    "answer_cache": (("key", "scope", "answer", "created_at", "hits"), frozenset({"created_at"})),
    "reservations": (("tier", "ticket_id", "usd", "at"), frozenset({"at"})),
    "jobs_done": (("kind", "period", "at"), frozenset({"at"})),
    "deliveries": (
        (
            "key",
            "ticket_id",
            "kind",
            "destination",
            "recipients",
            "payload",
            "state",
            "attempts",
            "next_at",
            "last_error",
            "created_at",
            "done_at",
        ),
        frozenset({"next_at", "created_at", "done_at"}),
    ),
    "labels": (
        ("ticket_id", "team", "category", "predicted", "source", "at"),
        frozenset({"at"}),
    ),
    "guard_answers": (("at", "ticket_id", "model", "raised", "held"), frozenset({"at"})),
}
ORDERED = {"ledger": "id", "guard_answers": "seq"}  # copied in this order: it means something
BOOLEANS = frozenset({"raised", "held"})  # SQLite's 0 and 1


@dataclass(frozen=True)
class Copied:
    rows: dict[str, int]  # table -> rows copied


def copy_to_postgres(sqlite_path: Path, target: PostgresStore) -> Copied:
    """Copy the SQLite store at `sqlite_path` into `target`, which must hold no tickets.
    All or nothing: raises StoreError, leaving `target` as it was."""
    if not sqlite_path.exists():
        raise StoreError(f"no SQLite store at {sqlite_path}")
    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        version = int(source.execute("PRAGMA user_version").fetchone()[0])
        from triage.store.schema import MIGRATIONS

        if version != len(MIGRATIONS):
            raise StoreError(
                f"{sqlite_path} has schema version {version}, this triage {len(MIGRATIONS)}: "
                "run this triage on it once (`triage check`, then `triage run`), then copy"
            )
        if target.count_tickets():
            raise StoreError(
                f"{target.path} holds tickets already: copy into an empty database only"
            )
        counts: dict[str, int] = {}
        with target._begin() as db:
            for table, (columns, moments) in TABLES.items():
                rows = source.execute(
                    f"SELECT {', '.join(columns)} FROM {table}"
                    + (f" ORDER BY {ORDERED[table]}" if table in ORDERED else "")
                ).fetchall()
                converted = [_row(columns, moments, row) for row in rows]
                marks = ", ".join(["%s"] * len(columns))
                db.cursor().executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})".encode(),
                    converted,
                )
                counts[table] = len(converted)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read {sqlite_path}: {exc}") from exc
    finally:
        source.close()
    return Copied(counts)


def _row(columns: tuple[str, ...], moments: frozenset[str], row: tuple[Any, ...]) -> list[Any]:
    values = []
    for column, value in zip(columns, row, strict=True):
        if value is not None and column in moments:
            value = datetime.fromisoformat(str(value))
        elif value is not None and column == "incident":
            value = list(json.loads(str(value)))
        elif value is not None and column in BOOLEANS:
            value = bool(value)
        values.append(value)
    return values
