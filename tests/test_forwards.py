"""Phishing reported by forwarding: the forwarded mail is kept apart from the requester's words,
read by the risk rules, and scanned for sensitive data."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from triage.compose.app import rules_from
from triage.config.settings import load_settings
from triage.parsing import MailLimits, parse_ticket
from triage.parsing.forwards import forwarded_text
from triage.rules import evaluate
from triage.rules.forward import reported_phishing
from triage.rules.text import TextIndex
from triage.ticket import Ticket

LIMITS = MailLimits(1 << 20, 100, 10)
RULES = rules_from(load_settings(None, {}).settings)

LURE_EN = (
    "Dear user,\nYour mailbox quota is exceeded. Verify your account within 24 hours or it "
    "will be suspended:\nhttps://mail-quota-check.example.net/verify?u=ann\nIT Team"
)


def mail(subject: str, body: str, attached: EmailMessage | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "Ann Lee <ann.lee@example.com>"
    message["To"] = "helpdesk@example.com"
    message["Subject"] = subject
    message.set_content(body)
    if attached is not None:
        message.add_attachment(attached)
    return message.as_bytes()


def lure(subject: str, sender: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["Subject"] = subject
    message.set_content(text)
    return message


@pytest.mark.parametrize(
    ("subject", "own", "header"),
    [
        (
            "FW: Mailbox quota",
            "Is this real? Did not click.",
            "-----Original Message-----\nFrom: IT <it@quota.example.net>\nSent: Monday, "
            "May 5, 2025 9:00 AM\nTo: Ann\nSubject: Mailbox quota",
        ),
        (
            "FW: Mailbox quota",
            "got this, looks dodgy",
            "________________________________\nFrom: IT <it@quota.example.net>\n"
            "Sent: 05 May 2025 09:00\nTo: Ann\nSubject: Mailbox quota",
        ),
        (
            "WG: Postfach voll",
            "Ist diese Mail echt? Ich habe nichts angeklickt.",
            "Von: IT <it@quota.example.net>\nGesendet: Montag, 5. Mai 2025 09:00\nAn: Ann\n"
            "Betreff: Postfach voll",
        ),
        (
            "TR: Boîte pleine",
            "Ce mail est bizarre, c'est normal ?",
            "De : IT <it@quota.example.net>\nEnvoyé : lundi 5 mai 2025 09:00\nÀ : Ann\n"
            "Objet : Boîte pleine",
        ),
        (
            "RV: Buzón lleno",
            "Hola, ¿esto es real? No he pinchado en nada.",
            "De: IT <it@quota.example.net>\nEnviado el: lunes, 5 de mayo de 2025 9:00\n"
            "Para: Ann\nAsunto: Buzón lleno",
        ),
        (
            "Fwd: Mailbox quota",
            "Got this on my private address, claims to be from IT.",
            "---------- Forwarded message ---------\nFrom: IT <it@quota.example.net>\n"
            "Date: Mon, 5 May 2025 at 09:00\nSubject: Mailbox quota\nTo: <ann@example.org>",
        ),
    ],
)
def test_an_inline_forward_in_four_languages_is_reported_phishing_high_and_security(
    subject, own, header
):
    data = mail(subject, f"{own}\n\nAnn\n\n{header}\n\n{LURE_EN}\n")
    ticket = parse_ticket(data, LIMITS)
    assert own.split()[0] in ticket.body and "quota-check" not in ticket.body
    assert "quota-check.example.net" in ticket.forwarded
    verdict = evaluate(ticket, RULES, 60)
    assert verdict.risk == "high" and verdict.category == "security"
    assert any("phishing reported" in reason for reason in verdict.risk_reasons)
    # the forwarded header block's own address is tagged
    assert "pii.email" in verdict.sensitivity.tags


@pytest.mark.parametrize("own", ["see attached, is this legit?", "??", "", "siehe Anhang"])
def test_a_forward_as_attachment_with_next_to_no_words_is_reported_phishing(own):
    attached = lure("Your mailbox is full", "IT <it@quota.example.net>", LURE_EN)
    ticket = parse_ticket(mail("FW: Your mailbox is full", own, attached), LIMITS)
    assert ticket.forwarded.startswith("From: IT <it@quota.example.net>")
    assert "Subject: Your mailbox is full" in ticket.forwarded
    verdict = evaluate(ticket, RULES, 60)
    assert verdict.risk == "high" and verdict.category == "security"


def test_a_reply_quoting_the_users_own_earlier_ticket_is_no_forward():
    body = (
        "Any update on this?\n\n-----Original Message-----\nFrom: Ann <ann@example.com>\n"
        "Sent: Monday, May 5, 2025 9:00 AM\nTo: Helpdesk\nSubject: Access to the share\n\n"
        "I need access to the finance share, it is suspicious that I still have none."
    )
    assert forwarded_text(body, "RE: Access to the share") == ""
    verdict = evaluate(parse_ticket(mail("RE: Access to the share", body), LIMITS), RULES, 60)
    assert verdict.risk != "high"


def test_a_forwarded_ordinary_mail_with_a_request_is_not_phishing():
    forwarded = (
        "From: Bob <bob@example.com>\nSent: Monday, May 5, 2025 9:00 AM\nTo: Ann\n"
        "Subject: Desk move\n\nHi Ann, we move to the 3rd floor on Friday. Bob"
    )
    subject, body = "FW: Desk move", "Please move my phone and my docking station to the 3rd floor"
    ticket = Ticket("mail", subject, body, sender="ann@example.com", forwarded=forwarded)
    assert reported_phishing(TextIndex(f"{subject}\n{body}"), ticket) is None


def test_forwarded_text_is_empty_without_a_forward():
    assert forwarded_text("Printer is jammed.\n\nThanks\nAnn", "Printer") == ""


def test_addresses_in_a_quoted_reply_header_and_a_cut_signature_are_tagged():
    body = (
        "Any update on this?\n\n-----Original Message-----\nFrom: Ann <ann@example.com>\n"
        "Sent: Monday, May 5, 2025 9:00 AM\nTo: Helpdesk\nSubject: Access\n\nPlease add me."
    )
    ticket = parse_ticket(mail("RE: Access", body), LIMITS)
    assert "ann@example.com" not in ticket.body and "ann@example.com" in ticket.quoted
    assert "pii.email" in evaluate(ticket, RULES, 60).sensitivity.tags


def test_a_forwarded_gift_card_request_is_a_high_risk_fraud_attempt():
    import email.message

    from triage.parsing import MailLimits, parse_ticket
    from triage.rules import evaluate

    lure = email.message.EmailMessage()
    lure["From"] = "Peter Brandt <p.brandt.office@gmail.com>"
    lure["Subject"] = "Kurze Bitte"
    lure.set_content(
        "Hallo Anna, bist du am Platz? Ich brauche 5 Geschenkkarten von Amazon zu je 100 Euro "
        "für einen Kunden. Bitte vertraulich behandeln, ich bin im Meeting.\nPeter"
    )
    forward = email.message.EmailMessage()
    forward["From"] = "Anna <anna@example.com>"
    forward["Subject"] = "WG: Kurze Bitte"
    forward.set_content("zur Info")
    forward.add_attachment(lure)
    ticket = parse_ticket(forward.as_bytes(), MailLimits(1_000_000, 100, 10))
    verdict = evaluate(ticket, (), 40)
    assert verdict.risk == "high"
    assert "security incident: payment fraud (gift cards), in a forwarded mail" in (
        verdict.risk_reasons
    )
