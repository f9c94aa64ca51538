"""The small interfaces the core talks to; concrete adapters are wired in triage.compose."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from triage.result import Result
from triage.store import LedgerEntry, TicketKeys


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class TicketStore(Protocol):
    """What the pipeline needs of a store. SqliteStore and DryRunStore provide it."""

    def get_result(self, ticket_id: str) -> Result | None: ...

    def find_by_message_id(self, message_id: str) -> str | None: ...

    def find_by_content_key(self, key: str, since: datetime, until: datetime) -> str | None: ...

    def save(self, result: Result, keys: TicketKeys, now: datetime) -> None: ...

    def book(self, entry: LedgerEntry) -> None: ...


class ResultSink(Protocol):
    """Where committed results are published (the outbox folder)."""

    def write(self, result: Result) -> None: ...

    def exists(self, ticket_id: str) -> bool: ...
