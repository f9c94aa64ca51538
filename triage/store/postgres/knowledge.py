"""The knowledge index on PostgreSQL: the same documents and terms as the SQLite store
(triage.store.knowledge), in a tsvector of the 'simple' configuration (the terms come already
folded and stemmed) with a GIN index, and ranked by the same Okapi BM25 as SQLite's FTS5
(k1 1.2, b 0.75, its idf floor), computed in SQL from the tsvector's positions, so a score
means the same on both stores."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from triage.records import KnowledgeDoc, KnowledgeFound, KnowledgeHit
from triage.store.postgres.database import PostgresDatabase

# Candidates are the documents holding any term (the GIN index); each is scored by summing,
# over the query terms it holds, idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avglen)).
_SEARCH = """
WITH q(term) AS (SELECT DISTINCT unnest(%s::text[])),
stats AS (
    SELECT count(*)::float8 AS docs, coalesce(avg(tokens), 1)::float8 AS avglen FROM knowledge
),
idf AS (
    SELECT q.term, greatest(ln((s.docs - d.n + 0.5) / (d.n + 0.5)), 1e-6) AS idf
    FROM q CROSS JOIN stats s
    CROSS JOIN LATERAL (
        SELECT count(*)::float8 AS n FROM knowledge k
        WHERE k.tsv @@ to_tsquery('simple', quote_literal(q.term))
    ) d
),
scored AS (
    SELECT k.source, k.title, sum(
        i.idf * (u.tf * 2.2) / (u.tf + 1.2 * (0.25 + 0.75 * k.tokens / s.avglen))
    ) AS score
    FROM knowledge k CROSS JOIN stats s
    CROSS JOIN LATERAL (
        SELECT lexeme, coalesce(array_length(positions, 1), 1)::float8 AS tf FROM unnest(k.tsv)
    ) u
    JOIN idf i ON i.term = u.lexeme
    WHERE k.tsv @@ to_tsquery('simple', %s)
    GROUP BY k.source, k.title
)
SELECT source, title, score FROM scored ORDER BY score DESC, source LIMIT %s
"""


def tsquery(terms: Sequence[str]) -> str:
    """Any of the terms, each quoted as a literal lexeme."""
    return " | ".join("'" + term.replace("'", "''").replace("\\", "\\\\") + "'" for term in terms)


class PostgresKnowledge(PostgresDatabase):
    """The KnowledgeStore port (triage.ports) on PostgreSQL."""

    def knowledge_search(self, terms: Sequence[str], limit: int) -> KnowledgeFound:
        documents = int(self._read("SELECT count(*) FROM knowledge")[0][0])
        wanted = [term for term in dict.fromkeys(terms) if term]
        if not wanted or not documents:
            return KnowledgeFound((), documents)
        rows = self._read(_SEARCH, (wanted, tsquery(wanted), limit))
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
                    b"INSERT INTO knowledge (source, title, body, digest, terms, tokens)"
                    b" VALUES (%s, %s, %s, %s, %s, %s)",
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
