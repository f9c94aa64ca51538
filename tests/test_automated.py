from __future__ import annotations

import pytest

from tests.conftest import mail
from triage.parsing import MailLimits, parse_ticket
from triage.rules.automated import detect_automated

LIMITS = MailLimits(1 << 20, 1000, 30)


def ticket(
    headers: str = "",
    subject: str = "Printer broken",
    sender: str = "ann@example.com",
    content_type: str | None = None,
):
    extra = [headers] if headers else []
    if content_type:
        extra += ["MIME-Version: 1.0", f"Content-Type: {content_type}"]
    return parse_ticket(
        mail(subject, "It jams.", sender=sender, headers="\n".join(extra)).encode(), LIMITS
    )


@pytest.mark.parametrize(
    ("headers", "subject", "sender", "content_type", "expected"),
    [
        ("", "Printer broken", "ann@example.com", None, None),
        ("Auto-Submitted: auto-replied", "Re: x", "ann@example.com", None, "auto-reply"),
        ("Auto-Submitted: auto-generated; owner-email=x@y", "x", "a@b.c", None, "auto-reply"),
        ("Auto-Submitted: no", "Printer broken", "ann@example.com", None, None),
        ("X-Auto-Response-Suppress: All", "Printer broken", "ann@example.com", None, None),
        ("Return-Path: <>", "Printer broken", "ann@example.com", None, "auto-reply"),
        ("", "Delivery failure", "MAILER-DAEMON@mx.example.com", None, "bounce"),
        ("", "x", "postmaster@example.com", None, "bounce"),
        ("", "x", "a@b.c", 'multipart/report; report-type=delivery-status; boundary="b"', "bounce"),
        (
            "",
            "x",
            "a@b.c",
            'multipart/report; report-type=disposition-notification; boundary="b"',
            "read receipt",
        ),
        (
            "",
            "x",
            "a@b.c",
            'multipart/report; report-type=feedback-report; boundary="b"',
            "abuse feedback",
        ),
        ("Precedence: bulk", "Newsletter", "news@example.com", None, "bulk mail"),
        ("Precedence: junk", "x", "a@b.c", None, "bulk mail"),
        ("Precedence: list", "x", "a@b.c", None, "bulk mail"),
        ("X-Autoreply: yes", "x", "a@b.c", None, "auto-reply"),
        ("X-Autorespond: yes", "x", "a@b.c", None, "auto-reply"),
        ("X-Loop: helpdesk@example.com", "x", "a@b.c", None, "loop"),
        ("\n".join(["Received: from a by b"] * 31), "x", "a@b.c", None, "loop"),
        ("", "Automatic reply: Printer broken", "ann@example.com", None, "auto-reply"),
        ("", "Out of Office: back Monday", "ann@example.com", None, "auto-reply"),
        ("", "Abwesenheitsnotiz: Urlaub", "ann@example.com", None, "auto-reply"),
        ("", "Undeliverable: Printer broken", "ann@example.com", None, "bounce"),
        ("", "Out of office reply not working in Outlook", "ann@example.com", None, None),
    ],
)
def test_automated_mail_is_recognised_per_rfc3834(headers, subject, sender, content_type, expected):
    reason = detect_automated(ticket(headers, subject, sender, content_type))
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and reason.startswith(expected)


def test_files_that_are_not_mail_are_never_automated():
    plain = parse_ticket(b"Printer broken\n\nPrecedence: bulk is just text here", LIMITS)
    assert detect_automated(plain) is None
