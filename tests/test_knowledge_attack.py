"""Bad input for the knowledge index: articles and solved-ticket exports that once stopped the
index from being built (on PostgreSQL, or on both stores) or stalled the indexer for hours,
and a folder on a share that goes away for a while. Real files in tmp_path, the real indexer,
both real stores (`any_store`); expected values are written down here."""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
from pathlib import Path

import pytest

from tests.conftest import child_env, triage_command
from tests.test_knowledge import ARTICLES, write_kb
from triage.knowledge.articles import article
from triage.knowledge.indexer import KnowledgeIndexer
from triage.knowledge.terms import MAX_TERM_CHARS, terms
from triage.parsing.language import language_of
from triage.store.sqlite import SqliteStore

HANG_GUARD_SECONDS = 120  # not a speed target: an article that stalls fails instead of hanging


def blob(letters: int) -> str:
    """A "word" of random letters, as a pasted dump or a data: URI holds (random, so that no
    index compresses it below PostgreSQL's 2,704-byte key limit)."""
    chosen = random.Random(25)
    return "".join(chosen.choice(string.ascii_lowercase) for _ in range(letters))


def test_nul_characters_in_an_article_do_not_stop_the_index(any_store, tmp_path):
    # UTF-16 without a byte-order mark reads as UTF-8 with a NUL after each letter, and a
    # binary file named .md is full of them: PostgreSQL's text cannot hold a NUL, and the
    # whole batch (every article) was refused, on every pass.
    kb = write_kb(tmp_path / "kb")
    (kb / "utf16.md").write_bytes(
        "# Drucker kaputt\n\nDer Drucker druckt nicht".encode("utf-16-le")
    )
    (kb / "binary.md").write_bytes(bytes(range(256)) * 8)
    counts = KnowledgeIndexer(any_store, [kb], None).sync()
    assert (counts.added, counts.skipped) == (len(ARTICLES) + 2, 0)
    [hit, *_] = any_store.knowledge_search(["kaputt"], 5).hits
    assert (hit.source, hit.title) == ("kb/utf16.md", "Drucker kaputt")


def test_a_word_longer_than_an_index_key_does_not_stop_the_index(any_store, tmp_path):
    # 3,000 letters: PostgreSQL refused the postings row ("index row size exceeds btree
    # maximum 2704"), and with it every article of the batch.
    kb = write_kb(tmp_path / "kb")
    (kb / "dump.md").write_text(f"# Badge reader dump\n\nbadge {blob(3000)} end", "utf-8")
    counts = KnowledgeIndexer(any_store, [kb], None).sync()
    assert counts.added == len(ARTICLES) + 1
    assert [hit.source for hit in any_store.knowledge_search(["badg"], 5).hits] == ["kb/dump.md"]


def test_a_term_is_at_most_max_term_chars_long():
    assert terms(f"printer {'a' * MAX_TERM_CHARS} {'b' * (MAX_TERM_CHARS + 1)}", "en") == [
        "printer",
        "a" * MAX_TERM_CHARS,
    ]
    # a ligature that NFKD spells out in 18 letters: ten of them fold to 180
    assert terms("printer " + "\ufdfa" * 10, None) == ["printer"]


def test_a_solved_ticket_whose_id_is_not_an_id_is_indexed_by_its_row(any_store, tmp_path):
    # An id cell of 3,000 characters (the column holds something else) became a key
    # PostgreSQL refused, with every solved ticket of the batch.
    history = tmp_path / "solved.csv"
    history.write_text(
        "Number,Short description,Resolution\n"
        f"{blob(3000)},Badge reader at door B,Reset the reader at panel 3\n"
        "INC2,Monitor flickers,Replaced the cable\n",
        encoding="utf-8",
    )
    assert KnowledgeIndexer(any_store, [], history).sync().added == 2
    assert set(any_store.knowledge_digests()) == {"ticket:solved-1", "ticket:INC2"}


def test_lone_surrogates_in_a_jsonl_export_do_not_stop_the_index(any_store, tmp_path):
    # JSON may escape half a surrogate pair; neither store's driver can encode it, and the
    # pass ended with a UnicodeEncodeError (no StoreError: `triage knowledge` crashed).
    history = tmp_path / "solved.jsonl"
    rows = [
        {"number": "INC\ud8001", "subject": "Badge \udc00reader", "resolution": "Reset it"},
        {"number": "INC2", "subject": "Monitor flickers", "resolution": "Replaced the cable"},
        {"number": "INC3", "subject": "Outlook crashes", "resolution": "Repaired Office"},
    ]
    history.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    assert KnowledgeIndexer(any_store, [], history).sync().added == 3
    assert set(any_store.knowledge_digests()) == {"ticket:INC?1", "ticket:INC2", "ticket:INC3"}
    [hit] = any_store.knowledge_search(["badg"], 5).hits
    assert hit.title == "Badge ?reader"


def test_an_article_whose_name_is_not_utf8_is_indexed(any_store, tmp_path):
    # A name in a legacy code page (Latin-1 on an old share): Python reads its odd byte as a
    # surrogate, which neither store can take: the pass ended with a UnicodeEncodeError.
    kb = write_kb(tmp_path / "kb")
    name = b"caf\xe9-printer.md"
    (kb / name.decode("utf-8", "surrogateescape")).write_text("# Cafe printer\n\nx", "utf-8")
    assert KnowledgeIndexer(any_store, [kb], None).sync().added == len(ARTICLES) + 1
    assert "kb/caf\ufffd-printer.md" in any_store.knowledge_digests()


def test_a_folder_gone_for_a_while_keeps_its_articles(any_store, tmp_path):
    # A share that is unmounted for a minute dropped every article from the index (no
    # suggestions meanwhile, every file read again when it was back).
    kb = write_kb(tmp_path / "kb")
    other = tmp_path / "other"
    other.mkdir()
    (other / "dock.md").write_text("# Docking station\n\nUSB-C dock, two screens.", "utf-8")
    indexer = KnowledgeIndexer(any_store, [kb, other], None)
    assert indexer.sync().added == len(ARTICLES) + 1
    kb.rename(tmp_path / "away")
    (other / "dock.md").unlink()  # gone from a folder that is there: removed
    gone = indexer.sync()
    assert (gone.missing, gone.removed) == ([kb], 1)
    assert set(any_store.knowledge_digests()) == {f"kb/{name}" for name in ARTICLES}
    (tmp_path / "away").rename(kb)
    back = indexer.sync()
    assert (back.added, back.changed, back.removed, back.unchanged) == (0, 0, 0, len(ARTICLES))


def test_articles_that_would_stall_the_parser_are_indexed_in_bounded_time(tmp_path):
    # Each under the 2 MB an article may be: elements nested 350,000 deep (never closed) made
    # the HTML parser, looking for the title, quadratic (minutes); a German "word" of 200,000
    # letters made the compound splitter quadratic (hours); in any text with a hyphen, the
    # search for hyphenated words was quadratic in such a run of letters (hours); a Markdown
    # heading line of 100,000 blanks made the heading pattern backtrack cubically (2,000
    # blanks: 24 s).
    kb = write_kb(tmp_path / "kb")
    (kb / "deep.html").write_text("<div>" * 350_000 + "Badge reader rejects the badge", "utf-8")
    (kb / "dump.md").write_text(
        "# Ausweisleser\n\nDer Ausweisleser an Tür B lehnt jeden Ausweis ab. Hier das "
        f"Protokoll des Lesers:\n\n{blob(200_000)}\n",
        "utf-8",
    )
    (kb / "wifi-log.md").write_text(f"# Wi-Fi log\n\n{blob(200_000)}\n", "utf-8")
    (kb / "blanks.md").write_text("# Printer" + " " * 100_000 + "queue\n\nx", "utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f"[knowledge]\ndirs = ['{kb}']\n")
    done = subprocess.run(
        [*triage_command(), "--config", str(config), "knowledge"],
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[1] == f"index: {len(ARTICLES) + 4} articles, 0 solved tickets"


def test_a_page_nested_too_deep_for_the_parser_is_titled_by_its_first_heading():
    page = (
        "<html><head><title>Intranet</title></head><body>"
        + "<div>" * 1000
        + "<p>intro</p><h2>Badge <b>reader</b> &amp; door</h2><p>Reset it.</p><h1></h1>"
        + "</div>" * 1000
    )
    doc = article("kb/deep.html", Path("deep.html"), page.encode())
    assert doc.title == "Badge reader & door"
    assert "Reset it." in doc.body


def test_a_history_export_without_a_header_keeps_its_first_ticket_out_of_the_error(tmp_path):
    # The error named the columns, which were the first ticket's cells: its text and a
    # password went to the log line (knowledge.synced) and to `triage knowledge`'s output.
    history = tmp_path / "solved.csv"
    history.write_text(
        "INC1,VPN for the lab,log in as labadmin password=Hunter2lab,Reset the token\n"
        "INC2,Monitor flickers,the screen flickers,Replaced the cable\n",
        encoding="utf-8",
    )
    store = SqliteStore(tmp_path / "store.sqlite3")
    error = KnowledgeIndexer(store, [], history).sync().history_error
    store.close()
    assert error == (
        f"{history}: no resolution column, and no column named Number, Subject, Description..."
        " either: does its first line name the columns?"
    )


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Der Drucker \ud800 im Büro druckt nicht mehr, bitte helfen", "de"),
        ("\udce9\udce9\udce9", None),
        ("", None),
        ("a", None),
        ("404 500 809", None),
    ],
)
def test_the_language_of_text_with_lone_surrogates_or_no_words(text, language):
    assert language_of(text) == language


def test_a_subfolder_that_cannot_be_listed_leaves_the_rest_of_the_folder_indexed(tmp_path):
    # Listing a subfolder failed (here: its path is over the system's 4,096 bytes; on a share,
    # a subfolder moved while it is read) and the OSError ended every pass, for good.
    kb = write_kb(tmp_path / "kb")
    handle = os.open(kb, os.O_RDONLY)
    for _ in range(20):  # made relative to the one above: no path that long can be named
        os.mkdir("d" * 250, dir_fd=handle)
        inner = os.open("d" * 250, os.O_RDONLY, dir_fd=handle)
        os.close(handle)
        handle = inner
    os.close(handle)
    store = SqliteStore(tmp_path / "store.sqlite3")
    counts = KnowledgeIndexer(store, [kb], None).sync()
    store.close()
    assert counts.added == len(ARTICLES)


@pytest.mark.parametrize(
    ("line", "title"),
    [
        ("## Title ##", "Title"),
        ("# C#", "C"),
        ("   ### a b #  #", "a b #"),
        ("# ###", "#"),
    ],
)
def test_a_markdown_headings_closing_hashes_are_cut(line, title):
    assert article("kb/a.md", Path("a.md"), f"{line}\n\ntext".encode()).title == title


def test_a_skipped_article_is_named_with_the_reason(tmp_path):
    kb = write_kb(tmp_path / "kb")
    (kb / "huge.md").write_bytes(b"# Huge\n\n" + b"word " * 500_000)  # 2.5 MB
    store = SqliteStore(tmp_path / "store.sqlite3")
    try:
        counts = KnowledgeIndexer(store, [kb], None).sync()
    finally:
        store.close()
    assert counts.skipped == 1
    assert f"1 skipped: {kb / 'huge.md'} (over 2 MB)" in counts.describe()


def test_a_history_export_of_only_a_header_is_no_error_and_no_ticket(tmp_path):
    kb = write_kb(tmp_path / "kb")
    export = tmp_path / "solved.csv"
    export.write_text("Number,Short description,Resolution\n", encoding="utf-8")
    store = SqliteStore(tmp_path / "store.sqlite3")
    try:
        counts = KnowledgeIndexer(store, [kb], export).sync()
    finally:
        store.close()
    assert counts.history_error is None
    assert counts.indexed == len(ARTICLES)
