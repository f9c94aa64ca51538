"""Knowledge suggestions: the articles and solved tickets that answer a ticket, found in the
store's own full-text engine (triage.ports.KnowledgeIndex), and the indexer that keeps that
index in step with the admin's folders."""
