"""Knowledge suggestions: the terms (languages mapped to English), the score, reading
articles and a solved-ticket export, the indexer following a real folder on a real SQLite
file, and suggestions in results, `show` and the digest. A small knowledge base of our own is
written into tmp_path; expected values are written down here."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import mail, raw
from triage.cli.show import describe
from triage.compose.app import build_pipeline
from triage.compose.knowledge import build_indexer, build_suggester
from triage.delivery.outbox import Outbox
from triage.knowledge.articles import article
from triage.knowledge.indexer import KnowledgeIndexer
from triage.knowledge.suggest import rare_idf, score
from triage.knowledge.terms import terms
from triage.reporting.data import day_window, read_period
from triage.reporting.digest import build_digest
from triage.reporting.render import render_digest
from triage.store.sqlite import SqliteStore

ARTICLES = {
    "vpn-anyconnect.md": "# VPN: AnyConnect cannot connect\n\nIf AnyConnect shows 'Login "
    "failed' after a password change, quit AnyConnect, wait ten minutes and connect again. "
    "If it says the certificate is not trusted, update the client from the Software Center. "
    "From a hotel network, open a browser first and accept the terms of the hotel Wi-Fi.",
    "printer-queue.md": "# Printing: a job stuck in the queue\n\nOpen Settings > Printers, "
    "select the printer, Open queue, cancel every document and print again. If the printer "
    "shows offline, switch it off and on and check the network cable.",
    "password-reset.md": "# Resetting an expired or forgotten Windows password\n\nWhen "
    "Windows says your password has expired, or you forgot it, use the self-service portal "
    "from any browser. After five wrong attempts the account is locked for 30 minutes; the "
    "portal unlocks it at once after you verify your identity by SMS.",
    "mailbox-quota.md": "# Outlook says the mailbox is full\n\nThe mailbox quota is 50 GB. "
    "Empty Deleted Items, move old mail to the Online Archive and large attachments to "
    "OneDrive. Outlook stops sending when the quota is reached.",
    "guest-wifi.md": "# Guest Wi-Fi for visitors\n\nVisitors use the network GUEST. "
    "Reception prints a voucher valid for one day; for a workshop ask for a group voucher.",
    "teams-camera.html": "<html><head><title>ignored</title></head><body><h1>Teams: camera "
    "or microphone not working</h1><p>In Teams, open Settings &gt; Devices and choose the "
    "camera and microphone. Close other apps that use the camera (Zoom, the Camera app). "
    "Allow Teams in Windows privacy settings for camera and microphone.</p></body></html>",
    "drucker-einrichten.md": "# Drucker einrichten\n\nÖffnen Sie Einstellungen > Drucker "
    "und wählen Sie Drucker hinzufügen. Der Treiber wird automatisch installiert. Bei "
    "Problemen starten Sie den Rechner neu.",
    "monitor.txt": "External monitor not detected\n\nCheck the cable at both ends, press "
    "Windows+P and choose Extend. Update the display driver from the Software Center.",
    "mfa-new-phone.md": "Multi-factor authentication on a new phone\n"
    "==========================================\n\nInstall the Authenticator app on the new "
    "phone, then sign in at the security info page and add the new phone before wiping the "
    "old one. Without the old phone, call the service desk to reset your methods.",
}
GERMAN_TICKET = mail(
    "Kennwort abgelaufen",
    "Hallo, mein Kennwort ist abgelaufen und Windows lässt mich nicht mehr anmelden. Danke",
)
UNANSWERABLE = mail(
    "coffee machine",
    "The coffee machine in the kitchen on floor 2 leaks water onto the carpet again.",
)


def write_kb(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


# -- terms and score -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "english"),
    [
        ("Der Drucker druckt nicht", "de", {"printer"}),
        ("Druckertreiber fehlt", "de", {"printer", "driver"}),  # a compound, split
        ("Kennwort abgelaufen", "de", {"password", "expir"}),
        ("mot de passe expiré", "fr", {"password", "expir"}),  # a phrase, then a word
        ("l'imprimante est bloquée", "fr", {"printer", "lock"}),
        ("la contraseña no funciona", "es", {"password"}),
        ("buzón lleno", "es", {"mailbox", "full"}),
        ("Kennwort", None, {"password"}),  # language unknown: every lexicon's words
    ],
)
def test_helpdesk_words_in_other_languages_give_english_terms(text, language, english):
    assert english <= set(terms(text, language))


@pytest.mark.parametrize(
    ("written", "language", "expected"),
    [
        ("Guest Wi-Fi for visitors", "en", {"wi", "fi", "wifi", "guest", "visitor"}),
        ("send it by e-mail", "en", {"mail", "email"}),
        ("USB-Stick gefunden", "de", {"usb", "stick", "usbstick"}),
    ],
)
def test_a_hyphenated_word_gives_its_parts_and_the_parts_written_as_one(
    written, language, expected
):
    # so an article's "Wi-Fi" meets a ticket's "wifi", and "e-mail" meets "email"
    assert expected <= set(terms(written, language))
    assert "wifi" in terms("the wifi is down", "en")


def test_english_text_is_stemmed_and_says_nothing_with_its_fillers():
    assert terms("Hi, printers are printing nothing, thanks!", "en") == [
        "printer",
        "print",
        "noth",
    ]


@pytest.mark.parametrize(
    ("rare_words", "documents", "expected"),
    [
        (0.0, 25, 0.0),
        (1.0, 25, 0.393),  # 1 - exp(-1/2): one word only one article holds
        (2.0, 25, 0.632),
        (3.0, 5000, 0.777),  # the same in any index size
        (1.0, 1, 0.0),  # one document: nothing is rare
    ],
)
def test_the_score_counts_the_rare_words_shared(rare_words, documents, expected):
    assert score(rare_words * rare_idf(documents), documents) == expected


@pytest.mark.parametrize(
    ("name", "text", "title"),
    [
        ("a.md", "intro line\n## How to print\ntext", "How to print"),
        ("b.md", "Setext title\n=====\n\ntext", "Setext title"),
        ("c.html", "<title>T</title><h2>Second level</h2><p>x</p>", "Second level"),
        ("d.html", "<html><title>Only a title</title><p>x</p></html>", "Only a title"),
        ("e.txt", "\n\nFirst line here\nmore", "First line here"),
        ("no-heading.md", "", "no heading"),
    ],
)
def test_an_articles_title_is_its_first_heading(name, text, title):
    assert article(f"kb/{name}", Path(name), text.encode()).title == title


# -- the indexer on a real folder and a real SQLite file ------------------------------------


def test_the_index_follows_new_changed_and_removed_articles(tmp_path):
    kb = write_kb(tmp_path / "kb")
    (kb / "sub").mkdir()
    (kb / "sub" / "deep.md").write_text("# Deep article\n\ntext", encoding="utf-8")
    (kb / ".hidden.md").write_text("# Hidden\n", encoding="utf-8")
    (kb / "picture.png").write_bytes(b"\x89PNG")
    store = SqliteStore(tmp_path / "store.sqlite3")
    indexer = KnowledgeIndexer(store, [kb, tmp_path / "gone"], None)
    first = indexer.sync()
    assert (first.added, first.changed, first.removed, first.unchanged) == (10, 0, 0, 0)
    assert first.missing == [tmp_path / "gone"]
    assert "kb/sub/deep.md" in store.knowledge_digests()
    (kb / "guest-wifi.md").write_text("# Guest Wi-Fi\n\nAsk reception for a code.", "utf-8")
    (kb / "monitor.txt").unlink()
    (kb / "new.md").write_text("# Docking station\n\nUSB-C dock, two screens.", "utf-8")
    second = indexer.sync()
    assert (second.added, second.changed, second.removed, second.unchanged) == (1, 1, 1, 8)
    digests = store.knowledge_digests()
    assert "kb/monitor.txt" not in digests and "kb/new.md" in digests
    assert store.knowledge_search(["dock"], 5).hits[0].source == "kb/new.md"
    assert indexer.sync().unchanged == 10
    rebuilt = indexer.sync(rebuild=True)
    assert (rebuilt.added, rebuilt.changed, rebuilt.unchanged) == (0, 10, 0)
    store.close()


def test_the_indexer_thread_picks_up_an_article_added_to_the_watched_folder(tmp_path):
    kb = write_kb(tmp_path / "kb")
    store = SqliteStore(tmp_path / "store.sqlite3")
    indexer = KnowledgeIndexer(store, [kb], None, rescan_seconds=3600)
    stop = threading.Event()
    indexer.start(stop)
    try:
        assert _eventually(lambda: len(store.knowledge_digests()) == 9)
        (kb / "laptop-battery.md").write_text("# Laptop battery drains fast\n\nx", "utf-8")
        indexer.wake()  # as SIGHUP does; without it, the next rescan
        assert _eventually(lambda: "kb/laptop-battery.md" in store.knowledge_digests())
    finally:
        stop.set()
        indexer.stop_and_join()
        store.close()


def test_solved_tickets_come_from_a_history_export_with_a_resolution(tmp_path):
    history = tmp_path / "solved.csv"
    history.write_text(
        "Number,Short description,Description,Resolution\n"
        'INC1,Badge reader at door B,"door B rejects every badge",Reset the reader at panel 3\n'
        "INC2,Laptop fan noisy,loud fan,\n"  # not solved: left out
        "INC3,Shared drive S: slow,opening files takes minutes,Mapped S: by FQDN\n"
        "INC4,Monitor flickers,the screen flickers,Replaced the cable\n"
        "INC5,Outlook crashes,crash at start,Repaired Office\n",
        encoding="utf-8",
    )
    store = SqliteStore(tmp_path / "store.sqlite3")
    indexer = KnowledgeIndexer(store, [], history)
    assert indexer.sync().added == 4
    solved = {"ticket:INC1", "ticket:INC3", "ticket:INC4", "ticket:INC5"}
    assert set(store.knowledge_digests()) == solved
    [hit, *_] = store.knowledge_search(["badg", "reader"], 5).hits
    assert (hit.source, hit.title) == ("ticket:INC1", "Badge reader at door B")
    history.write_text("Number,Short description\nINC9,no resolution column\n", "utf-8")
    counts = indexer.sync()
    assert counts.history_error is not None and "no resolution column" in counts.history_error
    assert set(store.knowledge_digests()) == solved  # kept
    store.close()


def _eventually(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


# -- suggestions in results, show and the digest ---------------------------------------------


def indexed_pipeline(settings, store, clock, **tiers):
    """`store` with the knowledge folders of `settings` indexed, and the pipeline on it (with
    `tiers`, e.g. an escalator)."""
    indexer = build_indexer(settings, store)
    assert indexer is not None
    indexer.sync()
    return build_pipeline(
        settings,
        store,
        Outbox(settings.outbox.dir),
        clock,
        suggester=build_suggester(settings, store),
        **tiers,
    )


@pytest.fixture
def kb_pipeline(make_settings, tmp_path, clock):
    kb = write_kb(tmp_path / "kb")
    settings = make_settings(f"[knowledge]\ndirs = ['{kb}']\n")
    store = SqliteStore(settings.store.path)
    yield indexed_pipeline(settings, store, clock), store, settings
    store.close()


def test_a_german_ticket_finds_the_english_article(kb_pipeline):
    pipeline, _, _ = kb_pipeline
    result = pipeline.handle(raw(GERMAN_TICKET)).result
    assert result.language == "de"
    assert result.suggestions[0].source == "kb/password-reset.md"
    assert result.suggestions[0].title == "Resetting an expired or forgotten Windows password"
    assert 0.55 <= result.suggestions[0].score <= 1.0


def test_an_english_ticket_finds_the_german_article(kb_pipeline):
    pipeline, _, _ = kb_pipeline
    ticket = mail("new printer", "How do I add the new printer on my laptop? It needs a driver")
    assert pipeline.handle(raw(ticket)).result.suggestions[0].source == ("kb/drucker-einrichten.md")


def test_a_ticket_no_article_answers_gets_no_suggestion(kb_pipeline):
    pipeline, _, _ = kb_pipeline
    assert pipeline.handle(raw(UNANSWERABLE)).result.suggestions == []


def test_ignored_mail_gets_no_suggestion(kb_pipeline):
    pipeline, _, _ = kb_pipeline
    reply = mail(
        "Automatic reply: Kennwort abgelaufen",
        "Ich bin nicht im Büro. Mein Kennwort ist abgelaufen.",
        headers="Auto-Submitted: auto-replied",
    )
    result = pipeline.handle(raw(reply)).result
    assert result.status == "ignored" and result.suggestions == []


def test_show_and_the_digest_card_name_the_top_suggestion(kb_pipeline):
    pipeline, store, _ = kb_pipeline
    urgent = mail(
        "URGENT: Kennwort abgelaufen, Produktion steht",
        "Kennwort abgelaufen, ich kann mich nicht anmelden. Die ganze Produktion steht still!",
    )
    result = pipeline.handle(raw(urgent)).result
    shown = describe(result)
    assert re.search(
        r"\n  suggested +Resetting an expired or forgotten Windows password"
        r" \(kb/password-reset\.md, score 0\.\d\d\)\n",
        shown,
    )
    assert result.priority in {"P1", "P2"}  # an urgent card in the digest
    day = datetime(2026, 11, 2, tzinfo=UTC).date()
    rendered = render_digest(build_digest(read_period(store, day_window(day, "UTC"), True)))
    markdown, html = rendered["md"], rendered["html"]
    line = "Suggested: Resetting an expired or forgotten Windows password (kb/password-reset.md)"
    assert line in markdown and line in html
