from __future__ import annotations

import json

import pytest

from tests.conftest import mail
from triage.errors import ParseError
from triage.parsing import MailLimits, parse_ticket
from triage.parsing.detect import detect_format
from triage.parsing.mail import decode_header, html_to_text

LIMITS = MailLimits(max_text_attachment_bytes=10_000, max_parts=50, max_depth=5)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (mail("Printer", "jams").encode(), "mail"),
        (b"From MAILER-DAEMON Mon Nov 2 2026\nReceived: x\nSubject: y\n\nbody", "mail"),
        (b"Subject: printer\n\nIt jams", "mail"),
        (b"Hello: I have a problem\n\nwith my printer", "text"),
        (b"Printer jams on floor 2\nPlease help", "text"),
        (b"# Printer jams\n\n- floor 2\n- since Monday", "markdown"),
        (b'  {"subject": "x", "body": "y"}', "json"),
        (b'\xef\xbb\xbf{"subject": "x", "body": "y"}', "json"),
    ],
)
def test_format_is_told_from_content_not_name(data, kind):
    assert detect_format(data) == kind


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"  \n\t\n", "empty"),
        (b"\x00\x01\x02binary\x00", "binary"),
        (bytes(range(256)) * 4, "binary"),
    ],
)
def test_empty_and_binary_input_is_refused_with_a_reason(data, reason):
    with pytest.raises(ParseError, match=reason):
        parse_ticket(data, LIMITS)


def test_mail_headers_are_decoded_and_sender_and_message_id_taken():
    data = (
        b"From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <Juergen@Example.COM>\n"
        b"Subject: =?iso-8859-1?q?Drucker_f=E4llt_aus?=\n"
        b"Message-ID: <abc@example.com>\n\nText"
    )
    ticket = parse_ticket(data, LIMITS)
    assert ticket.subject == "Drucker fällt aus"
    assert ticket.sender == "juergen@example.com" and ticket.sender_name == "Jürgen Müller"
    assert ticket.message_id == "<abc@example.com>"


def test_broken_encoded_words_are_kept_as_written():
    assert decode_header("=?bogus-charset?q?hello?=") in ("=?bogus-charset?q?hello?=", "hello")


def multipart(*parts: str, kind: str = "mixed") -> bytes:
    body = "".join(f"--B\n{part}\n" for part in parts) + "--B--\n"
    return (
        f"From: a@example.com\nSubject: s\nMIME-Version: 1.0\n"
        f"Content-Type: multipart/{kind}; boundary=B\n\n{body}"
    ).encode()


def test_text_plain_is_preferred_over_html():
    data = multipart(
        "Content-Type: text/plain; charset=utf-8\n\nplain words",
        "Content-Type: text/html\n\n<p>html words</p>",
        kind="alternative",
    )
    assert parse_ticket(data, LIMITS).body == "plain words"


def test_html_only_mail_is_turned_into_text_without_scripts():
    data = multipart("Content-Type: text/html\n\n<p>Printer <b>jams</b></p><script>x()</script>")
    body = parse_ticket(data, LIMITS).body
    assert "Printer jams" in body and "x()" not in body and "<" not in body


def test_html_to_text_keeps_block_breaks():
    assert html_to_text("<div>one</div><div>two</div>") == "one\ntwo"


def test_undeclared_or_wrong_charsets_fall_back_without_losing_text():
    latin = (
        b"From: a@example.com\nSubject: s\nContent-Type: text/plain; charset=bogus\n\n"
    ) + "Grüße aus München".encode("latin-1")
    ticket = parse_ticket(latin, LIMITS)
    assert "M" in ticket.body and "nchen" in ticket.body
    assert any("charset" in defect for defect in ticket.defects)


def test_attachments_are_recorded_and_small_text_logs_kept():
    data = multipart(
        "Content-Type: text/plain\n\nsee attached",
        "Content-Type: text/plain; name=vpn.log\nContent-Disposition: attachment; filename=vpn.log"
        "\n\n2026-11-02 10:00:00 ERROR tunnel down",
        "Content-Type: application/pdf; name=a.pdf\nContent-Disposition: attachment; filename=a.pdf"
        "\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK",
    )
    ticket = parse_ticket(data, LIMITS)
    assert ticket.body == "see attached"
    assert [(a.filename, a.kept) for a in ticket.attachments] == [
        ("vpn.log", True),
        ("a.pdf", False),
    ]
    assert ticket.logs == ("2026-11-02 10:00:00 ERROR tunnel down",)


def test_file_names_and_charsets_are_read_in_any_case_and_rfc_2231_form():
    data = multipart(
        'Content-Type: text/plain; CHARSET="ISO-8859-1"\nContent-Transfer-Encoding: base64'
        "\n\nR3L832U=",
        'Content-Type: application/octet-stream; NAME="trace.log"\n\nERROR x',
        "Content-Type: application/pdf\nContent-Disposition: attachment;"
        ' filename*0="quar"; filename*1="terly.pdf"\n\n%PDF',
        "Content-Type: image/png\nContent-Disposition: inline; size=3\n\nPNG",
    )
    ticket = parse_ticket(data, LIMITS)
    assert ticket.body == "Grüße"
    assert [(a.filename, a.kept) for a in ticket.attachments] == [
        ("trace.log", True),
        ("quarterly.pdf", False),
        (None, False),
    ]
    assert ticket.defects == ()


def test_oversize_text_attachments_are_recorded_but_not_kept():
    big = "x" * 20_000
    data = multipart(
        "Content-Type: text/plain\n\nhi",
        f"Content-Type: text/plain\nContent-Disposition: attachment; filename=big.log\n\n{big}",
    )
    ticket = parse_ticket(data, LIMITS)
    assert ticket.attachments[0].size >= 20_000 and not ticket.attachments[0].kept
    assert ticket.logs == ()


def test_part_count_and_nesting_are_bounded():
    many = multipart(*["Content-Type: text/plain\n\npart"] * 200)
    ticket = parse_ticket(many, LIMITS)
    assert any("MIME parts" in defect for defect in ticket.defects)
    nested = "Content-Type: text/plain\n\ninnermost"
    for level in range(10):
        nested = (
            f"Content-Type: multipart/mixed; boundary=L{level}\n\n--L{level}\n{nested}\n"
            f"--L{level}--"
        )
    data = f"From: a@example.com\nSubject: s\nMIME-Version: 1.0\n{nested}\n".encode()
    assert any("nesting" in defect for defect in parse_ticket(data, LIMITS).defects)


def test_json_ticket_is_validated_and_read():
    data = json.dumps(
        {
            "subject": "VPN down",
            "body": "Since 9:00",
            "from": "Ann@Example.com",
            "category": "vpn",
            "priority": "P2",
            "log": "ERROR x",
            "extra": "ignored",
        }
    ).encode()
    ticket = parse_ticket(data, LIMITS)
    assert (ticket.format, ticket.subject, ticket.sender) == ("json", "VPN down", "ann@example.com")
    assert ticket.hints["category"] == "vpn" and ticket.logs == ("ERROR x",)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b'{"subject": "x"}', "body: Field required"),
        (b'{"subject": "", "body": "y"}', "subject"),
        (b'{"subject": "x", "body": "y", "priority": "urgent"}', "priority"),
        (b'{"subject": "x", "body": "y", "from": "not an address"}', "from"),
        (b'[{"subject": "x", "body": "y"}]', "one object"),
        (b'{"subject": "x", "body": ', "invalid JSON"),
    ],
)
def test_invalid_json_tickets_are_refused_with_the_validation_error(document, reason):
    with pytest.raises(ParseError, match=reason):
        parse_ticket(document, LIMITS)


def test_text_and_markdown_tickets_take_the_first_line_as_subject():
    ticket = parse_ticket(b"\n# Printer jams\n\nOn floor 2 since Monday.", LIMITS)
    assert (ticket.format, ticket.subject, ticket.body) == (
        "markdown",
        "Printer jams",
        "On floor 2 since Monday.",
    )


@pytest.mark.parametrize(
    ("raw", "subject", "name"),
    [
        ("No puedo iniciar sesión".encode(), "No puedo iniciar sesión", "Raúl Domínguez"),
        ("Grüße aus Köln".encode("latin-1"), "Grüße aus Köln", "Raúl Domínguez"),
        (b"=?utf-8?q?Gr=C3=BC=C3=9Fe?= " + "café".encode(), "Grüße café", "Raúl Domínguez"),
    ],
)
def test_raw_8bit_headers_are_decoded_not_garbled(raw, subject, name):
    data = b"From: " + name.encode() + b" <r@example.es>\nSubject: " + raw + b"\n\nhola\n"
    ticket = parse_ticket(data, MailLimits(1 << 20, 100, 10))
    assert ticket.subject == subject and ticket.sender_name == name
    assert "\ufffd" not in ticket.subject


@pytest.mark.parametrize(
    "footer",
    [
        "This e-mail has been scanned for viruses and malware.",
        "--\nVirus-free.www.avast.com",
        "Diese E-Mail wurde von Avast Antivirus-Software auf Viren geprüft.",
    ],
)
def test_antivirus_stamps_are_boilerplate_not_words_of_the_requester(footer):
    data = f"From: a@example.com\nSubject: Monitor\n\nI need a second monitor.\n\n{footer}\n"
    ticket = parse_ticket(data.encode(), MailLimits(1 << 20, 100, 10))
    assert "vir" not in ticket.body.lower() and "second monitor" in ticket.body


def test_a_users_own_virus_report_is_kept():
    data = (
        b"From: a@example.com\nSubject: PC\n\nThe antivirus scanned my laptop and found a virus\n"
    )
    assert "found a virus" in parse_ticket(data, MailLimits(1 << 20, 100, 10)).body
