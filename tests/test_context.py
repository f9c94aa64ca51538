from __future__ import annotations

from tests.conftest import mail
from triage.compose.app import rules_from
from triage.config.settings import load_settings
from triage.parsing import MailLimits, parse_ticket
from triage.rules import evaluate
from triage.ticket import Ticket
from triage.tiers.context import compact_text

RULES = rules_from(load_settings(None, {}).settings)
LIMITS = MailLimits(1 << 20, 100, 10)


def prepared(body: str, **headers: str):
    ticket = parse_ticket(mail("VPN down", body, **headers).encode(), LIMITS)
    return ticket, evaluate(ticket, RULES, 60)


def test_the_model_sees_the_log_slice_not_the_log_and_no_quoted_reply():
    log = "\n".join(f"2026-11-02 10:00:{i % 60:02d} INFO keepalive {i}" for i in range(500))
    log += "\n2026-11-02 10:09:00 ERROR tunnel negotiation failed"
    ticket, verdict = prepared(f"It fails:\n{log}\n\nOn Mon, Bob <b@x.com> wrote:\n> old mail")
    text = compact_text(ticket, verdict, 100_000)
    assert "tunnel negotiation failed" in text and "Log slice:" in text
    assert text.count("keepalive") < 20 and "old mail" not in text


def test_a_long_ticket_is_cut_to_the_room_with_the_cut_marked():
    ticket, verdict = prepared("word " * 5000)
    text = compact_text(ticket, verdict, 1000)
    assert len(text) <= 1000 and "characters cut to fit]" in text


def test_the_redacted_text_for_remote_tiers_holds_no_secret_or_address():
    ticket, verdict = prepared("my password is Hunter2! and card 4111 1111 1111 1111")
    text = compact_text(ticket, verdict, 10_000, redacted=True)
    assert "Hunter2" not in text and "4111" not in text and "ann@example.com" not in text
    assert "[CREDENTIAL:password]" in text and "[CARD]" in text
    assert "Hunter2!" in compact_text(ticket, verdict, 10_000)  # the local tier sees it all


def test_a_forwarded_lure_reaches_the_context_with_its_secrets_redacted():
    ticket = Ticket(
        "mail",
        "Fwd: invoice",
        "Is this legit?",
        forwarded="From: billing@evil.example\nPay now: password: Hunter2!xyz at https://evil.example",
    )
    verdict = evaluate(ticket, (), 40)
    text = compact_text(ticket, verdict, 4000, redacted=True)
    assert "Forwarded mail" in text and "evil.example" in text
    assert "Hunter2" not in text
    assert "Is this legit?" in text
