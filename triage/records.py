"""Plain records the layers pass each other: a ledger row, dedup keys, a handled input's
outcome, and the budget month. This module imports nothing of the project above the result
and ticket types, so ports, adapters and the store can all use it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from models.schema import ModelAnswer
from triage.result import Result

# A pending delivery's last_error starts with this when its destination is set up wrong (a
# webhook URL that redirects): kept and shown as such by check, the digest and metrics.
DELIVERY_MISCONFIGURED = "misconfigured: "


@dataclass(frozen=True)
class LedgerEntry:
    """One model call (or cache hit, or failed attempt), booked to a workflow and a tier."""

    at: datetime
    ticket_id: str | None
    workflow: str
    tier: str
    model: str | None
    template: str | None
    template_version: str | None
    tokens_in: int
    tokens_out: int
    cached_tokens: int
    seconds: float
    usd: float
    baseline_usd: float
    outcome: str

    @classmethod
    def call(
        cls,
        model: ModelRef,
        *,
        at: datetime,
        ticket_id: str | None,
        workflow: str,
        tier: str,
        outcome: str,
        tokens_in: int = 0,
        tokens_out: int = 0,
        cached_tokens: int = 0,
        seconds: float = 0.0,
        usd: float = 0.0,
        baseline_usd: float = 0.0,
    ) -> LedgerEntry:
        """The row for one call of `model` (a cache hit: no tokens, no seconds, $0)."""
        return cls(
            at=at,
            ticket_id=ticket_id,
            workflow=workflow,
            tier=tier,
            model=model.model,
            template=model.template,
            template_version=model.template_version,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cached_tokens=cached_tokens,
            seconds=seconds,
            usd=usd,
            baseline_usd=baseline_usd,
            outcome=outcome,
        )


class ModelRef(Protocol):
    """Which model and prompt template a ledger row is booked to."""

    @property
    def model(self) -> str: ...

    @property
    def template(self) -> str: ...

    @property
    def template_version(self) -> str: ...


@dataclass(frozen=True)
class Booked:
    """A ModelRef for a tier whose client does not carry the template (Runpod)."""

    model: str
    template: str
    template_version: str


@dataclass(frozen=True)
class Prepared:
    """A model answer obtained ahead of the one-by-one pass (a Runpod batch), or why not."""

    tier: str
    answer: ModelAnswer | None
    error: str | None
    tokens_in: int = 0
    tokens_out: int = 0
    usd: float = 0.0


# Extra writes in a result's transaction (its deliveries): called with the connection, inside.
Also = Callable[[sqlite3.Connection], None]


@dataclass(frozen=True)
class TicketKeys:
    """What dedup looks tickets up by, stored beside the result."""

    content_key: str | None
    incident: frozenset[str] = frozenset()  # its storm signature (rules/storm.py), if any
    incident_at: datetime | None = None  # when the incident was reported (the mail's Date)


@dataclass(frozen=True)
class Outcome:
    """What handling one input gave: its result, and whether it was committed just now."""

    result: Result
    new: bool  # False: this input had been handled before; nothing was written


def month_bounds(year: int, month: int, zone: str) -> tuple[datetime, datetime]:
    """The calendar month [start, end) in `zone`."""
    tz = ZoneInfo(zone)
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def month_window(moment: datetime, zone: str) -> tuple[datetime, datetime]:
    """The budget month holding `moment`: the calendar month in the configured zone (the
    report's `[digest] timezone`), so the budget and the monthly report count the same days."""
    local = moment.astimezone(ZoneInfo(zone))
    return month_bounds(local.year, local.month, zone)
