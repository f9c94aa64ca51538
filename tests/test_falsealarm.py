"""False alarms are never high: threat words that report no threat, boilerplate, shouting."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from triage.compose.app import rules_from
from triage.config.settings import load_settings
from triage.parsing import MailLimits, parse_ticket
from triage.rules import evaluate

LIMITS = MailLimits(1 << 20, 100, 10)
RULES = rules_from(load_settings(None, {}).settings)


def verdict_of(subject: str, body: str, priority: str | None = None):
    message = EmailMessage()
    message["From"] = "Ann Lee <ann.lee@example.com>"
    message["Subject"] = subject
    if priority:
        message["X-Priority"] = priority
    message.set_content(body)
    return evaluate(parse_ticket(message.as_bytes(), LIMITS), RULES, 60)


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("New keyboard", "Could I get a new keyboard?\n\nThis e-mail has been scanned for viruses "
         "and malware by Example Mail Security."),
        ("Calendar on phone", "How do I add my calendar?\n\n--\nVirus-free. www.avast.com"),
        ("Toner", "Need toner for the printer.\n\nThis email is confidential. If you have received "
         "this email in error please notify the sender. Computer viruses can be transmitted by "
         "email; we accept no liability for any virus."),
        ("Toner", "Bitte Toner bestellen.\n\nDiese E-Mail enthält vertrauliche Informationen. "
         "Wenn Sie diese E-Mail irrtümlich erhalten haben, informieren Sie bitte sofort den "
         "Absender."),
        ("Reporting phishing", "How do I report a phishing email now that the Report Phish "
         "button is gone?"),
        ("Training reminders", "I keep getting reminders for the 'Phishing & Ransomware "
         "Awareness' course although I finished it."),
        ("Sophos renewal", "Our antivirus licence renewal is due next month, who raises the PO?"),
        ("Customer mails in quarantine", "Mails from our customer land in quarantine flagged as "
         "phishing. Please release and whitelist them."),
        ("Site blocked", "The proxy blocks our carrier's site as malicious. Please unblock it."),
        ("Kennwort vergessen", "Ich habe mein Kennwort vergessen, bitte zurücksetzen."),
        ("password reset please", "Please reset my password, I forgot it after the holidays."),
    ],
)  # fmt: skip
def test_false_alarms_are_never_high(subject, body):
    verdict = verdict_of(subject, body)
    assert verdict.risk != "high", verdict.risk_reasons


def test_shouting_and_x_priority_1_do_not_make_a_flickering_monitor_high():
    verdict = verdict_of("URGENT!!! CRITICAL!!! monitor", "URGENT!!! my monitor flickers!!!", "1")
    assert verdict.risk != "high"


def test_a_real_incident_beside_a_frame_word_is_still_high():
    verdict = verdict_of(
        "Phishing",
        "I clicked the link in a phishing mail, then the training "
        "reminder came. My password was typed in on that page.",
    )
    assert verdict.risk == "high" and verdict.category == "security"
