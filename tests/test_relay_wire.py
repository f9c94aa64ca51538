"""The relay's bytes follow the wire's rules, checked on what a real SMTP server (aiosmtpd on
127.0.0.1) received: every line ends in CRLF whatever the input file had (no bare CR or LF,
so "<CR>.<CR><LF>" cannot end the data early at a next hop and smuggle a second message), and
no line is longer than 998 characters, even for a 100,017-byte Subject."""

from __future__ import annotations

import email
import email.policy
import re

import pytest

from tests.servers import Inbox, smtp_server
from tests.test_relay import relay_toml

BARE = re.compile(rb"\r(?!\n)|(?<!\r)\n")
ATTACH = "[[relay.routes]]\nto = 'rt@example.org'\nattach = true\n"
SMUGGLED = (
    "MAIL FROM:<ceo@example.com>\r\nRCPT TO:<helpdesk@example.org>\r\nDATA\r\n"
    "X-Zammad-Ticket-Owner: admin\r\nSubject: forged\r\n\r\nforged body\r\n"
)


def _unix_mail(subject: str, body: str) -> bytes:
    """A mail as the README's example writes it: Unix line endings."""
    return (
        f"From: Ann Example <ann@example.com>\nTo: helpdesk@example.com\nSubject: {subject}\n"
        f"Message-ID: <wire-1@example.com>\nDate: Mon, 02 Nov 2026 09:00:00 +0100\n\n{body}\n"
    ).encode()


def _relay(harness_for, data: bytes, extra: str = "") -> list[bytes]:
    inbox = Inbox()
    with smtp_server(inbox) as server:
        relay = harness_for(relay_toml(server.port, extra))
        relay.triage(data)
        relay.sender("smtp").run_once()
    return [content for _, _, content in inbox.messages]


@pytest.mark.parametrize("extra", ["", ATTACH], ids=["resent", "attached"])
def test_a_mail_with_unix_line_endings_goes_out_with_crlf_only(harness_for, extra):
    body = "The printer on floor 2 jams.\nIt did so yesterday too.\n\nAnn"
    [content] = _relay(harness_for, _unix_mail("Printer jams", body), extra)
    assert BARE.search(content) is None
    assert b"The printer on floor 2 jams.\r\nIt did so yesterday too.\r\n\r\nAnn" in content


@pytest.mark.parametrize("extra", ["", ATTACH], ids=["resent", "attached"])
@pytest.mark.parametrize("end", ["\r.\r\n", "\n.\n", "\r\n.\r", "\n.\r\n"])
def test_a_smuggling_payload_stays_inside_the_one_message(harness_for, extra, end):
    body = f"Printer jams.{end}{SMUGGLED}"
    data = _unix_mail("Printer jams", "").replace(b"\n\n\n", b"\n\n") + body.encode()
    received = _relay(harness_for, data, extra)
    assert len(received) == 1
    [content] = received
    assert BARE.search(content) is None
    assert b"Printer jams.\r\n.\r\nMAIL FROM:<ceo@example.com>" in content  # dot unstuffed
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert "X-Zammad-Ticket-Owner" not in message


@pytest.mark.parametrize("extra", ["", ATTACH], ids=["resent", "attached"])
@pytest.mark.parametrize("spaced", [True, False], ids=["words", "one-run"])
def test_a_100017_byte_subject_is_folded_under_998_characters_a_line(harness_for, extra, spaced):
    subject = ("word " * 20_004)[:100_008] if spaced else "x" * 100_008
    data = _unix_mail(subject, "see subject")
    assert len(b"Subject: " + subject.encode()) == 100_017
    [content] = _relay(harness_for, data, extra)
    assert max(len(line) for line in content.split(b"\r\n")) <= 998
    if spaced:  # folded at blanks: unfolded, the field is the sender's as it was
        unfolded = re.sub(rb"\r\n(?=[ \t])", b"", content)
        assert b"Subject: " + subject.encode() + b"\r\n" in unfolded
