"""A text is scanned before it is cut: a token that sits across a length cap (log lines at 300
characters, header values at 8,192, a text ticket's subject at 200, the body, the quoted
part, the summary) is kept whole and masked, never published in part."""

from __future__ import annotations

import email
import email.policy
import json

import pytest

from tests.conftest import mail
from tests.servers import Inbox, smtp_server
from tests.test_relay import relay_toml
from triage.parsing import MailLimits, parse_ticket
from triage.parsing.cleanup import QUOTED_CHARS, clean_body_parts
from triage.redaction import scrub_text
from triage.rules import evaluate, summarise
from triage.rules.logslice import slice_logs
from triage.rules.sensitivity import keep_whole
from triage.ticket import Ticket

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"  # 40 characters, the full shape
PART = TOKEN[:32]  # what a cut 32 characters into it would leave: too short for the shape
LIMITS = MailLimits(
    max_text_attachment_bytes=1_000_000, max_parts=100, max_depth=10, max_body_chars=65_536
)


def _across(cap: int, filler: str = "word ", glue: str = " ") -> str:
    """Text whose token starts 32 characters before `cap` (so the cap cuts it in two)."""
    head = (filler * (cap // len(filler) + 1))[: cap - 33] + glue
    return head + TOKEN + " and some words after it"


def test_a_cut_across_a_token_keeps_the_token_whole():
    text = _across(300)
    assert text[:300].endswith(PART)  # the cap falls inside the token
    kept = keep_whole(text, 300)
    assert kept.endswith(TOKEN)
    assert PART not in scrub_text(kept)
    assert keep_whole("short text", 300) == "short text"
    assert keep_whole("word " * 100, 300) == ("word " * 100)[:300]  # nothing to keep whole


def test_a_log_line_cut_at_300_characters_never_shows_part_of_a_token():
    line = _across(300, "ERROR deploy failed ")
    log_slice = slice_logs([line], 40)
    assert log_slice is not None and TOKEN in log_slice
    ticket = Ticket(format="text", subject="Deploy fails", body="see log", logs=(line,))
    verdict = evaluate(ticket, (), 40)
    assert verdict.sensitivity.level == "restricted"
    assert verdict.log_slice is not None and PART not in scrub_text(verdict.log_slice)


def test_a_subject_cut_at_8192_characters_keeps_the_token_for_the_scan():
    ticket = parse_ticket(mail(_across(8192), "the build is red").encode(), LIMITS)
    assert TOKEN in ticket.subject
    verdict = evaluate(ticket, (), 40)
    assert verdict.sensitivity.level == "restricted"
    assert PART not in scrub_text(ticket.subject)


def test_a_text_tickets_subject_cut_at_200_characters_shows_no_part_of_a_token():
    data = _across(200, "x", "=").replace(" and some words after it", "") + "\n\nbody"
    ticket = parse_ticket(data.encode(), LIMITS)
    assert PART not in scrub_text(ticket.subject)


def test_the_body_and_the_quoted_part_are_cut_outside_a_token():
    body, _, _ = clean_body_parts(_across(500, "x", "=").replace(" ", "="), 500)
    assert PART not in scrub_text(body)
    quoted_mail = "please help\n\nOn Mon, 2 Nov 2026, Bob wrote:\n" + "\n".join(
        "> " + line for line in _across(QUOTED_CHARS - 2, "x", "=").split("\n")
    )
    _, _, quoted = clean_body_parts(quoted_mail, 65_536)
    assert PART not in scrub_text(quoted)


def test_the_summary_cut_at_240_characters_shows_no_part_of_a_token():
    subject = _across(239, "x", "=").replace(" ", "=")
    ticket = Ticket(format="text", subject=subject, body="")
    assert PART not in scrub_text(summarise(ticket))
    verdict = evaluate(ticket, (), 40)
    assert PART not in verdict.summary


def test_a_token_across_the_caps_reaches_neither_store_nor_outbox_nor_relay(harness_for):
    log = _across(300, "ERROR deploy failed ")
    message = email.message.EmailMessage()
    message["From"] = "Ann Example <ann@example.com>"
    message["To"] = "helpdesk@example.com"
    message["Subject"] = _across(8192)
    message.set_content("The deploy fails, log attached.")
    message.add_attachment(log.encode(), maintype="text", subtype="plain", filename="deploy.log")
    inbox = Inbox()
    with smtp_server(inbox) as server:
        relay = harness_for(relay_toml(server.port))
        result = relay.triage(message.as_bytes(policy=email.policy.SMTP))
        relay.sender("smtp").run_once()
        stored = relay.store.get_result(result.id)
    assert result.sensitivity.level == "restricted"
    outbox = [p.read_text() for p in relay.settings.outbox.dir.glob("*.json")]
    [(_, _, sent)] = inbox.messages
    published = {
        "result": result.to_json(),
        "store": json.dumps(stored.model_dump(mode="json")) if stored else "",
        "outbox": "\n".join(outbox),
        "relay": sent.decode("utf-8", "replace"),
    }
    assert {where: PART in text for where, text in published.items()} == dict.fromkeys(
        published, False
    )


@pytest.mark.parametrize("cap", [300, 8192])
def test_the_cut_is_at_the_cap_when_no_secret_straddles_it(cap):
    text = "plain words " * (cap // 6)
    assert keep_whole(text, cap) == text[:cap]
