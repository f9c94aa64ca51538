"""The small interfaces the core talks to; concrete adapters are wired in triage.compose.app."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from triage.records import (
    ALL_DESTINATIONS,
    CallTotal,
    CostLine,
    DeliveryFacts,
    DeliveryKind,
    FailingDestination,
    Grounding,
    GuardAnswer,
    Inbound,
    KnowledgeDoc,
    KnowledgeFound,
    Lane,
    Lease,
    LedgerEntry,
    LedgerKey,
    Outcome,
    Pending,
    Planned,
    QuarantinedDelivery,
    TicketCounts,
    TicketKeys,
    TicketTotal,
)
from triage.result import Result, Suggestion
from triage.rules.storm import Recent
from triage.ticket import RawInput


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class TicketStore(Protocol):
    """What the pipeline needs of a store. Every store (triage.store) provides it."""

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
        self, result: Result, keys: TicketKeys, now: datetime, planned: Planned | None = None
    ) -> None: ...

    def replace_quarantined(
        self,
        result: Result,
        keys: TicketKeys,
        now: datetime,
        alias: str | None = None,
        planned: Planned | None = None,
    ) -> bool: ...

    def book(self, entry: LedgerEntry) -> None: ...

    def cache_get(self, key: str, scope: str, since: datetime) -> str | None: ...

    def cache_put(self, key: str, scope: str, answer: str, now: datetime) -> None: ...


class Deliveries(Protocol):
    """Where a result goes beyond the outbox (triage.delivery): its deliveries are written in
    the result's own transaction, and sent after the commit."""

    def plan(
        self,
        result: Result,
        raw: bytes,
        now: datetime,
        replaces: bool = False,
        inbound: Inbound | None = None,
    ) -> Planned | None:
        """The deliveries to write in `result`'s transaction; None when it goes nowhere.
        `replaces`: the result replaces one committed before (a replay); `inbound`: the
        input as the rules read it (None when it could not be read)."""
        ...

    def committed(self) -> None:
        """After the commit: send now."""
        ...


class GuardMemory(Protocol):
    """The crying-wolf guard's memory (triage.tiers.judge): the recent fresh model answers of
    every daemon and command on the store, so a fleet on one PostgreSQL judges its model on
    all of their tickets. An answer is remembered in the transaction of its ticket's result."""

    def transaction(self) -> AbstractContextManager[None]: ...

    def guard_answers(self, limit: int) -> list[GuardAnswer]:
        """The last `limit` answers remembered, oldest first."""
        ...

    def remember_guard_answer(
        self, answer: GuardAnswer, ticket_id: str, model: str, now: datetime, keep: int
    ) -> None:
        """Append one answer (after every answer remembered before it, whoever wrote them);
        only the last `keep` are kept."""
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


class DeliveryStore(Protocol):
    """The delivery queue: rows written with their result (TicketStore.save), worked off by
    the senders, counted for check, the digest, STATUS= and /metrics."""

    def deliveries_due(
        self,
        kind: DeliveryKind,
        now: datetime,
        limit: int,
        batch_bytes: int,
        lane: Lane = ALL_DESTINATIONS,
    ) -> list[Pending]:
        """The oldest due deliveries of `lane`, up to `limit` and `batch_bytes` of payload
        (at least one)."""
        ...

    def next_delivery_due(
        self, kind: DeliveryKind, lane: Lane = ALL_DESTINATIONS
    ) -> datetime | None: ...

    def delivery_revisions(self, ticket_id: str) -> dict[tuple[str, str], int]:
        """(kind, destination) -> deliveries planned for this ticket so far (its earlier
        results, when it is replayed)."""
        ...

    def deliveries_of(self, ticket_id: str) -> list[DeliveryFacts]:
        """Every delivery planned for this ticket, whatever became of it, in the order they
        were planned (`triage show`)."""
        ...

    def deliveries_to(self, kind: DeliveryKind, recipient: str, since: datetime) -> int:
        """Deliveries of `kind` planned for the one recipient `recipient` (case ignored)
        since `since`, whatever became of them (the per-address limit of acknowledgements)."""
        ...

    def deliveries_hold(self, kind: DeliveryKind, destination: str, until: datetime) -> None:
        """No pending delivery to `destination` is due before `until` (misconfigured)."""
        ...

    def deliveries_done(self, keys: Iterable[str], now: datetime) -> None: ...

    def delivery_retry(self, key: str, error: str, at: datetime) -> None: ...

    def delivery_quarantine(self, key: str, reason: str, now: datetime) -> None: ...

    def delivery_counts(self) -> dict[tuple[str, str], int]: ...

    def deliveries_retrying(self) -> dict[str, int]: ...

    def deliveries_failing(self, after: int) -> list[FailingDestination]: ...

    def deliveries_misconfigured(self) -> list[FailingDestination]:
        """Destinations held back as set up wrong; last_error says why."""
        ...

    def deliveries_quarantined(self, limit: int) -> list[QuarantinedDelivery]: ...


class ReportStore(DeliveryStore, Protocol):
    """What the digest and the monthly report read for a period."""

    def ledger_costs(
        self, since: datetime, until: datetime, keys: tuple[LedgerKey, ...], zone: str = "UTC"
    ) -> list[CostLine]: ...

    def ticket_counts(self, since: datetime, until: datetime) -> TicketCounts: ...

    def top_spenders(
        self, since: datetime, until: datetime, limit: int
    ) -> list[tuple[str, str, float]]: ...

    def subjects(self, ids: Iterable[str]) -> dict[str, str]: ...

    def results_created(self, since: datetime, until: datetime) -> list[str]: ...

    def quarantined_results(self, limit: int) -> list[str]: ...

    def count_quarantined(self) -> int: ...

    def spent_by_tier(self, since: datetime, until: datetime) -> dict[str, float]: ...

    def count_created(self, since: datetime, until: datetime) -> int: ...

    def spent_total(self, since: datetime, until: datetime) -> float: ...


class MetricsStore(DeliveryStore, Protocol):
    """What /metrics counts at each scrape."""

    def ticket_totals(self) -> list[TicketTotal]: ...

    def call_totals(self) -> list[CallTotal]: ...

    def spent_by_tier(self, since: datetime, until: datetime) -> dict[str, float]: ...

    def cursor_times(self) -> dict[str, datetime]: ...

    def count_quarantined(self) -> int: ...


class JobStore(ReportStore, Protocol):
    """Scheduled jobs: which periods are done, and since when the store has records."""

    def job_done(self, kind: str, period: str) -> bool: ...

    def mark_job_done(self, kind: str, period: str, now: datetime) -> bool: ...

    def first_record_at(self) -> datetime | None: ...


class KnowledgeIndex(Protocol):
    """The knowledge index's search, in the store's own full-text engine (SQLite FTS5,
    PostgreSQL full-text search): documents holding any of `terms`, ranked by BM25."""

    def knowledge_search(self, terms: Sequence[str], limit: int) -> KnowledgeFound: ...

    def knowledge_text(self, sources: Sequence[str]) -> dict[str, str]:
        """source -> body of those indexed (for a grounded draft)."""
        ...


class KnowledgeStore(KnowledgeIndex, Protocol):
    """What the indexer (triage.knowledge.indexer) keeps in step with the folders."""

    def knowledge_digests(self) -> dict[str, str]:
        """source -> digest of every indexed document."""
        ...

    def knowledge_update(self, put: Sequence[KnowledgeDoc], remove: Iterable[str]) -> None:
        """Add or replace `put` and drop the sources in `remove`, in one transaction."""
        ...


class Suggester(Protocol):
    """What the pipeline asks for a ticket's suggestions (triage.knowledge.suggest)."""

    def suggest(self, text: str, language: str | None) -> list[Suggestion]: ...

    def grounding(self, suggestions: Sequence[Suggestion]) -> tuple[Grounding, ...]:
        """The suggested documents' text, in their order (those still indexed)."""
        ...


class Store(
    TicketStore,
    CursorStore,
    BudgetStore,
    JobStore,
    MetricsStore,
    GuardMemory,
    KnowledgeStore,
    Protocol,
):
    """A whole store, as `triage.store.open_store` returns it: every port above, and what the
    commands and the daemon's health need besides."""

    @property
    def schema_version(self) -> int: ...

    @property
    def schema_latest(self) -> int:
        """The schema version this code writes (the number of migrations it knows)."""
        ...

    def identity_problem(self) -> str | None: ...

    def integrity_check(self) -> str: ...

    def count_tickets(self) -> int: ...

    def count_since(self, since: datetime) -> int: ...

    def spent(self, tier: str, since: datetime, until: datetime) -> float: ...

    def ledger_for(self, ticket_id: str) -> list[LedgerEntry]: ...

    def cache_peek(self, key: str, scope: str, since: datetime) -> str | None: ...

    def record_label(
        self,
        ticket_id: str,
        team: str,
        category: str | None,
        predicted: str | None,
        source: str,
        now: datetime,
    ) -> None: ...

    def record_labels(
        self,
        labels: list[tuple[str, str, str | None, str | None]],
        source: str,
        now: datetime,
    ) -> None:
        """(ticket id, team, category, predicted) each, all in one transaction."""
        ...

    def labelled(self) -> list[tuple[str, str | None, Result]]: ...

    def close(self) -> None: ...


class BatchStore(TicketStore, Protocol):
    """The store of a one-off command (`process`, `replay`, `eval`): the real one, or the
    dry run's."""

    def close(self) -> None: ...


class LeaseStore(Protocol):
    """A store several daemons share (PostgreSQL): leases on work and each node's heartbeat
    (triage.runtime.fleet)."""

    node: str  # this daemon's name in the fleet
    instance: str  # this process: "host:pid:random"; two daemons under one name differ here

    def take_lease(self, name: str, seconds: float, now: datetime) -> bool: ...

    def lease_of(self, name: str, now: datetime) -> Lease | None:
        """The lease `name` while it is held (not run out), else None."""
        ...

    def release_lease(self, name: str) -> None: ...

    def lease_holder(self, name: str, now: datetime) -> str | None: ...

    def leases_held(self, now: datetime, prefix: str = "") -> list[str]: ...

    def heartbeat(self, status: str, now: datetime) -> None: ...


class NodeLiveness(Protocol):
    """Which daemons of a fleet are alive (their node lease current): a dead one's claimed
    work is taken over (triage.runtime.fleet.Liveness)."""

    def alive(self, node: str) -> bool: ...
