"""How the store's records become rows: the tickets table's columns for a result, a ledger
row for a booking, and moments as stored (UTC ISO 8601 text, which sorts as time does)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from triage.records import LedgerEntry
from triage.result import Result

if TYPE_CHECKING:
    from triage.records import TicketKeys


def ticket_row(result: Result, keys: TicketKeys, now: datetime) -> dict[str, object]:
    """The tickets table's columns for one result (column names are ours, never input)."""
    return {
        "id": result.id,
        "source": result.source,
        "source_ref": result.source_ref,
        "message_id": result.message_id,
        "content_key": keys.content_key,
        "sender": result.sender,
        "received_at": utc(result.received_at),
        "created_at": utc(now),
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
        "incident": json.dumps(sorted(keys.incident)) if keys.incident else None,
        "incident_at": utc(keys.incident_at) if keys.incident and keys.incident_at else None,
        "storm_of": result.storm_of,
    }


# The ledger's columns, in the order of LedgerEntry's fields: both stores write and read them
# so, and a field added to the record is added here with it.
LEDGER_COLUMNS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(LedgerEntry))


def ledger_values(entry: LedgerEntry) -> tuple[object, ...]:
    """An entry's values in LEDGER_COLUMNS order, but `at`, which each store writes its way."""
    return tuple(getattr(entry, column) for column in LEDGER_COLUMNS[1:])


def insert_ledger(db: sqlite3.Connection, entry: LedgerEntry) -> None:
    db.execute(
        f"INSERT INTO ledger ({', '.join(LEDGER_COLUMNS)})"
        f" VALUES ({', '.join('?' * len(LEDGER_COLUMNS))})",
        (utc(entry.at), *ledger_values(entry)),
    )


def utc_text(moment: datetime) -> str:
    """How moments are stored: UTC ISO 8601, sortable as text."""
    return utc(moment)


def utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime reached the store")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
