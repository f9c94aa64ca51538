"""The knowledge index on SQLite: articles and solved tickets in an FTS5 table, ranked by
FTS5's own BM25 (k1 1.2, b 0.75). The index terms come already folded and stemmed
(triage.knowledge.terms), so the table only splits them on spaces: both backends index the
same terms.

Terms that half the documents or more hold are left out of the query: their idf is nil
(FTS5 floors it at 1e-6), so they change no ranking. Of the rest, the RAREST_TERMS rarest are
asked for (triage.records)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from triage.records import RAREST_TERMS, KnowledgeDoc, KnowledgeFound, KnowledgeHit
from triage.store.database import Database


def match_expression(terms: Sequence[str]) -> str:
    """An FTS5 query: any of the terms, each quoted (a term is letters and digits, but a
    quote keeps FTS5's operators out whatever comes)."""
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


class KnowledgeTables(Database):
    """The KnowledgeStore port (triage.ports) on SQLite."""

    def knowledge_search(self, terms: Sequence[str], limit: int) -> KnowledgeFound:
        documents = int(str(self._read("SELECT count(*) FROM knowledge")[0][0]))
        wanted = self._informative([term for term in dict.fromkeys(terms) if term], documents)
        if not wanted or not documents:
            return KnowledgeFound((), documents)
        rows = self._read(
            "SELECT k.source, k.title, -bm25(knowledge_fts) AS score FROM knowledge_fts"
            " JOIN knowledge k ON k.id = knowledge_fts.rowid WHERE knowledge_fts MATCH ?"
            " ORDER BY score DESC, k.source LIMIT ?",
            (match_expression(wanted), limit),
        )
        hits = tuple(KnowledgeHit(str(s), str(t), float(str(score))) for s, t, score in rows)
        return KnowledgeFound(hits, documents)

    def _informative(self, terms: list[str], documents: int) -> list[str]:
        """The RAREST_TERMS rarest terms that fewer than half the documents hold (idf above
        nil); ties by their order in the ticket."""
        if not terms:
            return []
        marks = ", ".join("?" * len(terms))
        held = {
            str(term): int(str(count))
            for term, count in self._read(
                f"SELECT term, doc FROM knowledge_vocab WHERE term IN ({marks})", tuple(terms)
            )
        }
        kept = [term for term in terms if held.get(term, 0) > 0 and held[term] * 2 < documents]
        return sorted(kept, key=lambda term: held[term])[:RAREST_TERMS]

    def knowledge_digests(self) -> dict[str, str]:
        return {str(s): str(d) for s, d in self._read("SELECT source, digest FROM knowledge")}

    def knowledge_update(self, put: Sequence[KnowledgeDoc], remove: Iterable[str]) -> None:
        gone = [*remove, *(doc.source for doc in put)]
        with self._write() as db:
            for source in gone:
                row = db.execute("SELECT id FROM knowledge WHERE source = ?", (source,)).fetchone()
                if row is None:
                    continue
                db.execute("DELETE FROM knowledge_fts WHERE rowid = ?", (row[0],))
                db.execute("DELETE FROM knowledge WHERE id = ?", (row[0],))
            for doc in put:
                cursor = db.execute(
                    "INSERT INTO knowledge (source, title, body, digest, tokens)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (doc.source, doc.title, doc.body, doc.digest, len(doc.terms.split())),
                )
                db.execute(
                    "INSERT INTO knowledge_fts (rowid, terms) VALUES (?, ?)",
                    (cursor.lastrowid, doc.terms),
                )

    def knowledge_text(self, sources: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for source in sources:
            rows = self._read("SELECT body FROM knowledge WHERE source = ?", (source,))
            if rows:
                found[source] = str(rows[0][0])
        return found
