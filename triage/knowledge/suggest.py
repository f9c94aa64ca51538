"""A ticket's suggestions: its terms asked of the knowledge index (the store's full-text
engine, triage.ports.KnowledgeIndex), each hit's BM25 turned into a score that means the same
whatever the index holds, and only those at `min_score` or more kept.

The score. BM25 sums, over the query's terms a document holds, the term's rarity (idf) times
how often the document uses it. Its scale grows with the size of the index (idf is a logarithm
of it), so a raw BM25 threshold set on one knowledge base means nothing on another. Measured in
units of the rarest possible term (one that only one document holds: `rare_idf`), it counts how
many such words the ticket and the document share: `strength` 1 is one rare word used once,
2 two of them (or one used often, or three commoner ones). `score` = 1 - exp(-strength / 2)
maps that onto 0..1: 0.39 for one rare word, 0.63 for two, 0.78 for three. One shared rare
word (an error code, a product name) is what a look-alike shares too; an answer shares more.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import structlog

from triage.errors import StoreError
from triage.knowledge.terms import query_terms
from triage.ports import KnowledgeIndex
from triage.records import Grounding, KnowledgeFound
from triage.result import Suggestion

log = structlog.get_logger("triage.knowledge")

CANDIDATES = 10  # hits asked of the index; the best max_suggestions that pass are kept
MAX_QUERY_CHARS = 4000  # of subject and body: the problem is said at the start


def rare_idf(documents: int) -> float:
    """BM25's idf (FTS5's formula) of a term that only one of `documents` holds."""
    return max(math.log((documents - 1 + 0.5) / 1.5), 1e-6)


def strength(bm25: float, documents: int) -> float:
    return bm25 / rare_idf(documents)


def score(bm25: float, documents: int) -> float:
    """0..1: 1 - exp(-strength / 2) (module docstring)."""
    if documents < 2:
        return 0.0  # one document: nothing to compare it with, nothing is rare
    return round(1.0 - math.exp(-strength(bm25, documents) / 2.0), 3)


def suggestions(found: KnowledgeFound, limit: int, min_score: float) -> list[Suggestion]:
    """The best `limit` hits scoring `min_score` or more, best first."""
    out = []
    for hit in found.hits:
        value = score(hit.bm25, found.documents)
        if value >= min_score and value > 0:
            out.append(Suggestion(title=hit.title, source=hit.source, score=value))
        if len(out) == limit:
            break
    return out


class KnowledgeSuggester:
    """The Suggester port (triage.ports) on the store's knowledge index."""

    def __init__(self, index: KnowledgeIndex, max_suggestions: int, min_score: float) -> None:
        self._index = index
        self._lock = threading.Lock()
        self._limit, self._min = max_suggestions, min_score

    def replace(self, max_suggestions: int, min_score: float) -> None:
        """A reload: the next ticket sees the new limits."""
        with self._lock:
            self._limit, self._min = max_suggestions, min_score

    def suggest(self, text: str, language: str | None) -> list[Suggestion]:
        """Never raises for a store that fails: the ticket is triaged without suggestions."""
        with self._lock:
            limit, min_score = self._limit, self._min
        wanted = query_terms(text[:MAX_QUERY_CHARS], language)
        if not wanted:
            return []
        try:
            found = self._index.knowledge_search(wanted, max(CANDIDATES, limit))
        except StoreError as exc:
            log.warning("knowledge.search_failed", error=str(exc))
            return []
        return suggestions(found, limit, min_score)

    def grounding(self, suggestions: Sequence[Suggestion]) -> tuple[Grounding, ...]:
        """The suggested documents' text (for the paid tier's draft); () when the store
        fails: the draft is then written without them."""
        if not suggestions:
            return ()
        try:
            texts = self._index.knowledge_text([s.source for s in suggestions])
        except StoreError as exc:
            log.warning("knowledge.text_failed", error=str(exc))
            return ()
        return tuple(
            Grounding(s.source, s.title, texts[s.source]) for s in suggestions if s.source in texts
        )
