"""How the store's records become rows: the tickets table's columns for a result, a ledger
row for a booking, and moments as stored (UTC ISO 8601 text, which sorts as time does)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from triage.result import Result

if TYPE_CHECKING:
    from triage.records import LedgerEntry, TicketKeys


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


def insert_ledger(db: sqlite3.Connection, entry: LedgerEntry) -> None:
    db.execute(
        "INSERT INTO ledger (at, ticket_id, workflow, tier, model, template, template_version,"
        " tokens_in, tokens_out, cached_tokens, seconds, usd, baseline_usd, outcome, provider)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            utc(entry.at),
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
            entry.provider,
        ),
    )


def utc_text(moment: datetime) -> str:
    """How moments are stored: UTC ISO 8601, sortable as text."""
    return utc(moment)


def utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime reached the store")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
