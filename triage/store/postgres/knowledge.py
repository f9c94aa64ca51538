"""The knowledge index on PostgreSQL: the same documents and terms as the SQLite store
(triage.store.knowledge), in a tsvector of the 'simple' configuration (the terms come already
folded and stemmed) with a GIN index, and ranked by the same Okapi BM25 as SQLite's FTS5
(k1 1.2, b 0.75), computed in SQL from the tsvector's positions, so a score means the same
on both stores. As there, terms that half the documents or more hold are left out, and of the
rest the RAREST_TERMS rarest are asked for."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from triage.records import RAREST_TERMS, KnowledgeDoc, KnowledgeFound, KnowledgeHit
from triage.store.postgres.database import PostgresDatabase

# Candidates are the documents holding any kept term (the GIN index); each is scored by
# summing, over the kept query terms it holds,
# idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avglen)).
_SEARCH = """
WITH q(term) AS (SELECT DISTINCT unnest(%s::text[])),
stats AS (
    SELECT count(*)::float8 AS docs, coalesce(avg(tokens), 1)::float8 AS avglen FROM knowledge
),
held AS (
    SELECT q.term, d.n, s.docs FROM q CROSS JOIN stats s
    CROSS JOIN LATERAL (
        SELECT count(*)::float8 AS n FROM knowledge k
        WHERE k.tsv @@ to_tsquery('simple', quote_literal(q.term))
    ) d
),
kept AS (
    SELECT term, ln((docs - n + 0.5) / (n + 0.5)) AS idf FROM held
    WHERE n > 0 AND n * 2 < docs ORDER BY n, array_position(%s::text[], term) LIMIT %s
),
query AS (
    SELECT to_tsquery('simple', string_agg(quote_literal(term), ' | ')) AS tsq FROM kept
),
scored AS (
    SELECT k.source, k.title, sum(
        i.idf * (u.tf * 2.2) / (u.tf + 1.2 * (0.25 + 0.75 * k.tokens / s.avglen))
    ) AS score
    FROM knowledge k CROSS JOIN stats s CROSS JOIN query
    CROSS JOIN LATERAL (
        SELECT lexeme, coalesce(array_length(positions, 1), 1)::float8 AS tf FROM unnest(k.tsv)
    ) u
    JOIN kept i ON i.term = u.lexeme
    WHERE k.tsv @@ query.tsq
    GROUP BY k.source, k.title
)
SELECT source, title, score FROM scored ORDER BY score DESC, source LIMIT %s
"""


class PostgresKnowledge(PostgresDatabase):
    """The KnowledgeStore port (triage.ports) on PostgreSQL."""

    def knowledge_search(self, terms: Sequence[str], limit: int) -> KnowledgeFound:
        documents = int(self._read("SELECT count(*) FROM knowledge")[0][0])
        wanted = [term for term in dict.fromkeys(terms) if term]
        if not wanted or not documents:
            return KnowledgeFound((), documents)
        rows = self._read(_SEARCH, (wanted, wanted, RAREST_TERMS, limit))
        hits = tuple(KnowledgeHit(str(s), str(t), float(score)) for s, t, score in rows)
        return KnowledgeFound(hits, documents)

    def knowledge_digests(self) -> dict[str, str]:
        return {str(s): str(d) for s, d in self._read("SELECT source, digest FROM knowledge")}

    def knowledge_update(self, put: Sequence[KnowledgeDoc], remove: Iterable[str]) -> None:
        gone = [*remove, *(doc.source for doc in put)]
        with self._begin() as db:
            if gone:
                db.execute(b"DELETE FROM knowledge WHERE source = ANY(%s)", (gone,))
            for doc in put:
                db.execute(
                    # Every daemon of a fleet keeps the one index in step: the same new
                    # article written by two of them at once is one row.
                    b"INSERT INTO knowledge (source, title, body, digest, terms, tokens)"
                    b" VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (source) DO UPDATE SET"
                    b" title = excluded.title, body = excluded.body, digest = excluded.digest,"
                    b" terms = excluded.terms, tokens = excluded.tokens",
                    (
                        doc.source,
                        doc.title,
                        doc.body,
                        doc.digest,
                        doc.terms,
                        len(doc.terms.split()),
                    ),
                )

    def knowledge_text(self, sources: Sequence[str]) -> dict[str, str]:
        rows = self._read(
            "SELECT source, body FROM knowledge WHERE source = ANY(%s)", (list(sources),)
        )
        return {str(source): str(body) for source, body in rows}
