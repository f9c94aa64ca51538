from __future__ import annotations

from triage.rules.dedup import content_key, normalise_subject
from triage.ticket import Ticket


def key(subject: str, body: str, sender: str | None = "ann@example.com") -> str:
    return content_key(Ticket(format="mail", subject=subject, body=body, sender=sender))


def test_reply_prefixes_case_spacing_and_punctuation_do_not_change_the_key():
    assert normalise_subject("RE: Fwd: AW: Printer") == "printer"
    assert key("Printer broken", "It jams!") == key("Re: printer  BROKEN", "it jams")


def test_a_different_sender_or_text_gives_a_different_key():
    assert key("Printer", "jams") != key("Printer", "jams", sender="bob@example.com")
    assert key("Printer", "jams") != key("Printer", "is on fire")
