"""The knowledge index on PostgreSQL: the same documents and terms as the SQLite store
(triage.store.knowledge), kept as postings (term, document, the term's count in it, the
document's length) and ranked by the same Okapi BM25 as SQLite's FTS5 (k1 1.2, b 0.75),
summed in SQL over the postings of the query's terms, so a score means the same on both
stores. As there, terms that half the documents or more hold are left out, and of the rest
the RAREST_TERMS rarest are asked for.

Why postings rather than a tsvector with a GIN index (migration 5, measured with
bench/knowledge_latency.py at 55,000 documents): a tsvector gives a term's count in a
document only by unnesting the whole vector, so scoring read every lexeme of every candidate
document (978 ms a suggestion, median, against 150 ms now); the postings of a term are one
range of the primary key, read with the count and the length they need."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from triage.errors import StoreError
from triage.records import RAREST_TERMS, KnowledgeDoc, KnowledgeFound, KnowledgeHit
from triage.store.postgres.database import PostgresDatabase

# Each query term's document count (an index-only count of its postings); the kept terms'
# idf; each document's BM25 over the kept terms it holds,
# idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avglen)), in float8 (a numeric
# literal would make it numeric arithmetic, several times slower); the best `limit` (ties by
# source, as SQLite), joined to their titles only once chosen. The CTEs whose values are
# used more than once are MATERIALIZED, so each term is counted once.
_SEARCH = """
WITH q(term, pos) AS (SELECT * FROM unnest(%s::text[]) WITH ORDINALITY),
stats AS (
    SELECT count(*)::float8 AS docs, coalesce(avg(tokens), 1)::float8 AS avglen FROM knowledge
),
held AS MATERIALIZED (
    SELECT q.term, q.pos,
           (SELECT count(*) FROM knowledge_postings p WHERE p.term = q.term)::float8 AS n
    FROM q
),
kept AS MATERIALIZED (
    SELECT h.term, ln((s.docs - h.n + 0.5) / (h.n + 0.5)) AS idf FROM held h, stats s
    WHERE h.n > 0 AND h.n * 2 < s.docs ORDER BY h.n, h.pos LIMIT %s
),
scored AS (
    SELECT p.doc, sum(
        i.idf * (p.tf * 2.2::float8)
        / (p.tf + 1.2::float8 * (0.25::float8 + 0.75::float8 * p.tokens / s.avglen))
    ) AS score
    FROM kept i JOIN knowledge_postings p ON p.term = i.term CROSS JOIN stats s
    GROUP BY p.doc
),
cut AS (SELECT score FROM scored ORDER BY score DESC OFFSET %s LIMIT 1)
SELECT k.source, k.title, sc.score, (SELECT docs FROM stats)
FROM scored sc JOIN knowledge k ON k.id = sc.doc
WHERE sc.score >= coalesce((SELECT score FROM cut), '-infinity'::float8)
ORDER BY sc.score DESC, k.source LIMIT %s
"""


class PostgresKnowledge(PostgresDatabase):
    """The KnowledgeStore port (triage.ports) on PostgreSQL."""

    def knowledge_search(self, terms: Sequence[str], limit: int) -> KnowledgeFound:
        wanted = [term for term in dict.fromkeys(terms) if term]
        if not wanted:
            return KnowledgeFound((), self._documents())
        rows = self._read(_SEARCH, (wanted, RAREST_TERMS, max(limit - 1, 0), limit))
        if not rows:
            return KnowledgeFound((), self._documents())
        hits = tuple(KnowledgeHit(str(s), str(t), float(score)) for s, t, score, _ in rows)
        return KnowledgeFound(hits, int(rows[0][3]))

    def _documents(self) -> int:
        return int(self._read("SELECT count(*) FROM knowledge")[0][0])

    def knowledge_digests(self) -> dict[str, str]:
        return {str(s): str(d) for s, d in self._read("SELECT source, digest FROM knowledge")}

    def knowledge_update(self, put: Sequence[KnowledgeDoc], remove: Iterable[str]) -> None:
        gone = [*remove, *(doc.source for doc in put)]
        ids: list[int] = []
        terms: list[str] = []
        docs: list[int] = []
        counts: list[int] = []
        lengths: list[int] = []
        with self._begin() as db:
            if gone:  # their postings go with them (ON DELETE CASCADE)
                db.execute(b"DELETE FROM knowledge WHERE source = ANY(%s)", (gone,))
            for doc in put:
                words = doc.terms.split()
                row = db.execute(
                    # Every daemon of a fleet keeps the one index in step: the same new
                    # article written by two of them at once is one row, whose postings
                    # are those of the last write.
                    b"INSERT INTO knowledge (source, title, body, digest, terms, tokens)"
                    b" VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (source) DO UPDATE SET"
                    b" title = excluded.title, body = excluded.body, digest = excluded.digest,"
                    b" terms = excluded.terms, tokens = excluded.tokens RETURNING id",
                    (doc.source, doc.title, doc.body, doc.digest, doc.terms, len(words)),
                ).fetchone()
                if row is None:  # INSERT ... RETURNING returns the row it wrote
                    raise StoreError(f"the knowledge index did not take {doc.source}")
                ids.append(int(row[0]))
                for term, count in Counter(words).items():
                    terms.append(term)
                    docs.append(ids[-1])
                    counts.append(count)
                    lengths.append(len(words))
            if ids:
                # The postings of the whole batch in one statement.
                db.execute(b"DELETE FROM knowledge_postings WHERE doc = ANY(%s)", (ids,))
                db.execute(
                    b"INSERT INTO knowledge_postings (term, doc, tf, tokens)"
                    b" SELECT * FROM unnest(%s::text[], %s::bigint[], %s::int[], %s::int[])",
                    (terms, docs, counts, lengths),
                )

    def knowledge_text(self, sources: Sequence[str]) -> dict[str, str]:
        rows = self._read(
            "SELECT source, body FROM knowledge WHERE source = ANY(%s)", (list(sources),)
        )
        return {str(source): str(body) for source, body in rows}
