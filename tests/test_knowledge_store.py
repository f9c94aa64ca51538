"""The knowledge index in the store's own full-text engines gives the same answers on both
backends (SQLite FTS5 and a real PostgreSQL, through the `backend` fixture): the same hits in
the same order, with the same Okapi BM25 scores. Expected values are worked out by hand below."""

from __future__ import annotations

import pytest

from triage.records import KnowledgeDoc


def doc(source: str, terms: str, digest: str = "d1", title: str = "") -> KnowledgeDoc:
    return KnowledgeDoc(source, title or source, terms, f"body of {source}", digest)


# 4 documents of 5 + 4 + 4 + 3 = 16 terms: average length 4.
CORPUS = [
    doc("kb/vpn.md", "vpn vpn error 809 connect"),
    doc("kb/printer.md", "printer driver instal printer"),
    doc("kb/mail.md", "mailbox full outlook error"),
    doc("ticket:42", "vpn slow home"),
]
# BM25, k1 = 1.2, b = 0.75, idf = ln((N - n + 0.5) / (n + 0.5)) floored at 1e-6 (FTS5's):
# "printer" is in 1 of 4 documents: idf = ln(3.5 / 1.5) = 0.847298; kb/printer.md holds it
# twice in 4 terms (the average): 0.847298 * 2 * 2.2 / (2 + 1.2) = 1.165035.
# "error" is in 2 of 4: idf = ln(2.5 / 2.5) = 0: a term half the documents hold is left out.
# "809" is in 1 of 4, in kb/vpn.md (5 terms, once): 0.847298 * 2.2 / (1 + 1.2 * 1.1875)
# = 0.768683; "vpn" (2 of 4) is left out.
PRINTER_BM25 = 1.165035
VPN_809_BM25 = 0.768683


def test_the_document_holding_the_rare_term_ranks_first_with_its_bm25(any_store):
    any_store.knowledge_update(CORPUS, ())
    found = any_store.knowledge_search(["printer", "error"], 10)
    assert found.documents == 4
    assert [hit.source for hit in found.hits] == ["kb/printer.md"]
    assert found.hits[0].bm25 == pytest.approx(PRINTER_BM25, rel=1e-4)
    assert found.hits[0].title == "kb/printer.md"
    [hit] = any_store.knowledge_search(["vpn", "809"], 10).hits
    assert (hit.source, hit.bm25) == ("kb/vpn.md", pytest.approx(VPN_809_BM25, rel=1e-4))


def test_a_term_half_the_documents_hold_finds_nothing(any_store):
    any_store.knowledge_update(CORPUS, ())
    assert any_store.knowledge_search(["error", "vpn"], 10).hits == ()


def test_a_search_is_limited_and_a_term_no_document_holds_finds_nothing(any_store):
    any_store.knowledge_update(CORPUS, ())
    # each in one document: "outlook" in 4 terms scores 0.847298 * 2.2 / 2.2 = 0.847298,
    # above "809" in kb/vpn.md's 5 terms (0.768683): the limit keeps the first
    assert [h.source for h in any_store.knowledge_search(["outlook", "809"], 1).hits] == [
        "kb/mail.md"
    ]
    assert any_store.knowledge_search(["coffee"], 10).hits == ()
    assert any_store.knowledge_search([], 10).hits == ()


def test_query_syntax_in_a_term_is_searched_as_a_word(any_store):
    any_store.knowledge_update(CORPUS, ())
    for odd in ['"', "'", "or", "and not", "a*", "printer)", "x | y", "\\"]:
        assert any_store.knowledge_search([odd], 10).documents == 4  # no error raised


def test_a_changed_document_replaces_its_old_terms_and_a_removed_one_is_gone(any_store):
    any_store.knowledge_update(CORPUS, ())
    any_store.knowledge_update([doc("kb/vpn.md", "globalprotect portal", "d2")], ["ticket:42"])
    assert any_store.knowledge_digests() == {
        "kb/vpn.md": "d2",
        "kb/printer.md": "d1",
        "kb/mail.md": "d1",
    }
    assert any_store.knowledge_search(["809"], 10).hits == ()
    assert [h.source for h in any_store.knowledge_search(["portal"], 10).hits] == ["kb/vpn.md"]
    assert any_store.knowledge_search(["slow"], 10).hits == ()
    assert any_store.knowledge_text(["kb/vpn.md", "ticket:42"]) == {
        "kb/vpn.md": "body of kb/vpn.md"
    }


def test_an_empty_index_finds_nothing(any_store):
    found = any_store.knowledge_search(["vpn"], 10)
    assert (found.hits, found.documents) == ((), 0)


def test_only_the_sixteen_rarest_terms_of_a_query_are_searched(any_store):
    # 16 rare terms each in one document, "usual" in 10 of the 40 (fewer than half).
    rare = [doc(f"kb/r{n}.md", f"rare{n} filler") for n in range(16)]
    usual = [doc(f"kb/u{n}.md", "usual filler") for n in range(10)]
    other = [doc(f"kb/o{n}.md", "other words") for n in range(14)]
    any_store.knowledge_update([*rare, *usual, *other], ())
    query = ["usual", *(f"rare{n}" for n in range(16))]
    found = {hit.source for hit in any_store.knowledge_search(query, 40).hits}
    assert found == {f"kb/r{n}.md" for n in range(16)}
    assert len(any_store.knowledge_search(["usual"], 40).hits) == 10


def test_a_postgres_index_of_the_tsvector_schema_is_migrated_to_postings_with_the_same_scores(
    postgres_url,
):
    # A store written by the version before the postings (schema 5: a tsvector of the terms)
    # is migrated on open; its documents are found with the scores worked out above.
    import psycopg

    from triage.store import open_shared
    from triage.store.postgres.schema import MIGRATIONS

    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("CREATE TABLE triage_schema (version INTEGER NOT NULL)")
        for script in MIGRATIONS[:5]:
            db.execute(script.encode("utf-8"))
        db.execute("INSERT INTO triage_schema (version) VALUES (5)")
        for each in CORPUS:
            db.execute(
                "INSERT INTO knowledge (source, title, body, digest, terms, tokens)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    each.source,
                    each.title,
                    each.body,
                    each.digest,
                    each.terms,
                    len(each.terms.split()),
                ),
            )
    store = open_shared(postgres_url, node="test")
    try:
        found = store.knowledge_search(["printer", "error"], 10)
        assert found.documents == 4
        assert [(h.source, h.bm25) for h in found.hits] == [
            ("kb/printer.md", pytest.approx(PRINTER_BM25, rel=1e-4))
        ]
        # and it is kept up to date as postings from then on
        store.knowledge_update([doc("kb/printer.md", "scanner", "d2")], ())
        assert store.knowledge_search(["printer"], 10).hits == ()
        assert [h.source for h in store.knowledge_search(["scanner"], 10).hits] == ["kb/printer.md"]
    finally:
        store.close()
