"""The small interfaces the core talks to; concrete adapters are wired in triage.compose."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from triage.records import Also, LedgerEntry, Outcome, TicketKeys
from triage.result import Result
from triage.rules.storm import Recent
from triage.ticket import RawInput


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class TicketStore(Protocol):
    """What the pipeline needs of a store. SqliteStore and DryRunStore provide it."""

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction: the look-ups and writes made inside it see and change a
        store that no other process changes meanwhile."""
        ...

    def get_result(self, ticket_id: str) -> Result | None: ...

    def find_by_message_id(self, message_id: str) -> str | None: ...

    def find_by_content_key(self, key: str, since: datetime, until: datetime) -> str | None: ...

    def count_from_sender(self, sender: str, since: datetime, until: datetime) -> int: ...

    def recent_incidents(
        self, since: datetime, until: datetime, kinds: frozenset[str]
    ) -> list[Recent]: ...

    def save(
        self, result: Result, keys: TicketKeys, now: datetime, also: Also | None = None
    ) -> None: ...

    def replace_quarantined(
        self,
        result: Result,
        keys: TicketKeys,
        now: datetime,
        alias: str | None = None,
        also: Also | None = None,
    ) -> bool: ...

    def book(self, entry: LedgerEntry) -> None: ...

    def cache_get(self, key: str, scope: str, since: datetime) -> str | None: ...

    def cache_put(self, key: str, scope: str, answer: str, now: datetime) -> None: ...


class Deliveries(Protocol):
    """Where a result goes beyond the outbox (triage.delivery): its deliveries are written in
    the result's own transaction, and sent after the commit."""

    def writer(self, result: Result, raw: bytes, now: datetime) -> Also | None:
        """The writes for `result`'s transaction; None when it goes nowhere."""
        ...

    def committed(self) -> None:
        """After the commit: send now."""
        ...


class ResultSink(Protocol):
    """Where committed results are published (the outbox folder)."""

    def write(self, result: Result) -> None: ...

    def exists(self, ticket_id: str) -> bool: ...


class TicketHandler(Protocol):
    """What a connector hands input to: returns once the result is committed."""

    def handle(self, raw: RawInput) -> Outcome: ...

    def handle_batch(
        self,
        raws: list[RawInput],
        on_result: Callable[[RawInput, Outcome], None] | None = None,
        stop: threading.Event | None = None,
    ) -> list[Outcome]:
        """Outcomes for a prefix of `raws` (all of them unless `stop` was set); `on_result`
        is called after each commit."""
        ...


class CursorStore(Protocol):
    def get_cursor(self, source: str) -> str | None: ...

    def set_cursor(self, source: str, value: str, now: datetime) -> None: ...

    def get_result(self, ticket_id: str) -> Result | None: ...


class BudgetStore(Protocol):
    """Atomic budget reservations, settled by the ledger rows of what was spent."""

    def reserve(
        self,
        tier: str,
        ticket_id: str | None,
        usd: float,
        budget: float,
        since: datetime,
        until: datetime,
        now: datetime,
    ) -> int | None: ...

    def settle(self, reservation: int, entries: list[LedgerEntry]) -> None: ...


class NodeLiveness(Protocol):
    """Which daemons of a fleet are alive (their node lease current): a dead one's claimed
    work is taken over (triage.fleet.Liveness)."""

    def alive(self, node: str) -> bool: ...
