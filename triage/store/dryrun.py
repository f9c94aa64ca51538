"""A store for `process --dry-run`: reads see the real store and this run, writes stay in memory."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

from triage.records import KnowledgeFound, LedgerEntry, Planned, TicketKeys
from triage.result import Result
from triage.rules.storm import Recent
from triage.store.sqlite import SqliteStore


class DryRunStore:
    def __init__(self, real_path: Path | None) -> None:
        """`real_path` None: this run's tickets alone."""
        self._memory = SqliteStore(":memory:")
        exists = real_path is not None and real_path.is_file()
        self._real = SqliteStore(real_path, read_only=True) if exists and real_path else None

    def transaction(self) -> AbstractContextManager[None]:
        return self._memory.transaction()  # the real store is only read

    def get_result(self, ticket_id: str) -> Result | None:
        found = self._memory.get_result(ticket_id)
        if found is None and self._real is not None:
            found = self._real.get_result(ticket_id)
        return found

    def find_by_message_id(self, message_id: str) -> str | None:
        found = self._memory.find_by_message_id(message_id)
        if found is None and self._real is not None:
            found = self._real.find_by_message_id(message_id)
        return found

    def find_by_content_key(self, key: str, since: datetime, until: datetime) -> str | None:
        found = self._real.find_by_content_key(key, since, until) if self._real else None
        return found or self._memory.find_by_content_key(key, since, until)

    def recent_incidents(
        self, since: datetime, until: datetime, kinds: frozenset[str]
    ) -> list[Recent]:
        real = self._real.recent_incidents(since, until, kinds) if self._real else []
        return real + self._memory.recent_incidents(since, until, kinds)

    def count_from_sender(self, sender: str, since: datetime, until: datetime) -> int:
        real = self._real.count_from_sender(sender, since, until) if self._real else 0
        return real + self._memory.count_from_sender(sender, since, until)

    def save(
        self, result: Result, keys: TicketKeys, now: datetime, planned: Planned | None = None
    ) -> None:
        self._memory.save(result, keys, now)  # a dry run delivers nothing

    def replace_quarantined(
        self,
        result: Result,
        keys: TicketKeys,
        now: datetime,
        alias: str | None = None,
        planned: Planned | None = None,
    ) -> bool:
        current = self.get_result(result.id)
        if current is None or current.status != "quarantined":
            return False
        if self._memory.get_result(result.id) is None:
            self._memory.save(current, TicketKeys(content_key=None), now)
        return self._memory.replace_quarantined(result, keys, now, alias)

    def book(self, entry: LedgerEntry) -> None:
        self._memory.book(entry)

    def cache_get(self, key: str, scope: str, since: datetime) -> str | None:
        found = self._memory.cache_get(key, scope, since)
        if found is None and self._real is not None:
            found = self._real.cache_peek(key, scope, since)
        return found

    def cache_put(self, key: str, scope: str, answer: str, now: datetime) -> None:
        self._memory.cache_put(key, scope, answer, now)

    def knowledge_search(self, terms: Sequence[str], limit: int) -> KnowledgeFound:
        """The real store's knowledge index, as it is (a dry run builds nothing)."""
        if self._real is None:
            return KnowledgeFound((), 0)
        return self._real.knowledge_search(terms, limit)

    def knowledge_text(self, sources: Sequence[str]) -> dict[str, str]:
        return self._real.knowledge_text(sources) if self._real is not None else {}

    def close(self) -> None:
        self._memory.close()
        if self._real is not None:
            self._real.close()
