"""The answer cache: a model's answer for the same words (a storm, a re-sent mail) is reused
instead of paid for again. Entries are typed; each kind is keyed by its own template, so the
two never meet under one key."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from models.schema import Analysis, ModelAnswer
from triage.ports import Clock

Entry = TypeVar("Entry", bound=BaseModel)


class CacheStore(Protocol):
    def cache_get(self, key: str, scope: str, since: datetime) -> str | None: ...

    def cache_put(self, key: str, scope: str, answer: str, now: datetime) -> None: ...


class CachedAnswer(BaseModel):
    """A local (or Runpod) triage answer, with the tokens the original call used."""

    model_config = ConfigDict(extra="ignore")
    ticket: str
    answer: ModelAnswer
    tokens_in: int = 0
    tokens_out: int = 0


class CachedAnalysis(BaseModel):
    """A paid analysis, with what the original call cost."""

    model_config = ConfigDict(extra="ignore")
    ticket: str
    answer: Analysis
    usd: float = 0.0


class AnswerCache:
    """`scope` is the ticket's sensitivity level: an answer is only reused at the same one."""

    def __init__(self, store: CacheStore, clock: Clock, ttl: timedelta | None) -> None:
        self._store = store
        self._clock = clock
        self.ttl = ttl

    @property
    def enabled(self) -> bool:
        return self.ttl is not None

    def answer(self, key: str, scope: str) -> CachedAnswer | None:
        return self._get(key, scope, CachedAnswer)

    def analysis(self, key: str, scope: str) -> CachedAnalysis | None:
        return self._get(key, scope, CachedAnalysis)

    def keep(self, key: str, scope: str, entry: CachedAnswer | CachedAnalysis) -> None:
        if self.ttl is not None:
            self._store.cache_put(key, scope, entry.model_dump_json(), self._clock())

    def _get(self, key: str, scope: str, kind: type[Entry]) -> Entry | None:
        if self.ttl is None:
            return None
        hit = self._store.cache_get(key, scope, self._clock() - self.ttl)
        if hit is None:
            return None
        try:
            return kind.model_validate_json(hit)
        except ValidationError:
            return None  # written by an older version: answer afresh
