"""Wiring the knowledge suggestions ([knowledge]): the suggester on the store's index for the
pipeline, and the indexer that keeps the index in step with the folders."""

from __future__ import annotations

from triage.config.settings import Settings
from triage.knowledge.indexer import KnowledgeIndexer
from triage.knowledge.suggest import KnowledgeSuggester
from triage.ports import KnowledgeIndex, KnowledgeStore


def build_suggester(settings: Settings, index: KnowledgeIndex) -> KnowledgeSuggester | None:
    config = settings.knowledge
    if not config.enabled:
        return None
    return KnowledgeSuggester(index, config.max_suggestions, config.min_score)


def build_indexer(settings: Settings, store: KnowledgeStore) -> KnowledgeIndexer | None:
    config = settings.knowledge
    if not config.enabled:
        return None
    return KnowledgeIndexer(store, config.dirs, config.history, config.rescan_seconds)
