"""The relay against a real SMTP server on 127.0.0.1 (aiosmtpd; STARTTLS and a login where it
matters): what arrives, where, with which headers, and what happens on 4xx and 5xx."""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import mail, raw
from tests.servers import LOGIN, Inbox, make_ca, smtp_server
from triage.delivery.mail import split_message

ATTACHMENT = bytes(range(256)) * 40  # every byte value, as a binary attachment would hold


def relay_toml(port: int, extra: str = "", tls: str = "none", ca: Path | None = None) -> str:
    login = (
        f"username = '{LOGIN[0].decode()}'\npassword = '{LOGIN[1].decode()}'\nca_file = '{ca}'\n"
        if ca
        else ""
    )
    return (
        f"[relay]\nenabled = true\nhost = '127.0.0.1'\nport = {port}\ntls = '{tls}'\n"
        f"from = 'triage@example.org'\ndefault_to = 'helpdesk@example.org'\n{login}{extra}"
    )


def mail_with_attachment(subject: str, body: str, headers: str = "") -> bytes:
    encoded = base64.encodebytes(ATTACHMENT).decode().replace("\n", "\r\n")
    extra = f"{headers}\r\n" if headers else ""
    return (
        (
            "From: Ann Example <ann@example.com>\r\nTo: helpdesk@example.com\r\n"
            f"Subject: {subject}\r\nMessage-ID: <orig-1@example.com>\r\n{extra}"
            "Date: Mon, 02 Nov 2026 09:00:00 +0100\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
            "--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n"
        ).encode()
        + body.encode("latin-1")
        + (
            "\r\n--b1\r\nContent-Type: application/octet-stream\r\n"
            'Content-Disposition: attachment; filename="dump.bin"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}--b1--\r\n"
        ).encode()
    )


def test_the_relayed_mail_keeps_body_and_attachments_byte_identical_over_starttls(
    harness_for, tmp_path
):
    ca, tls = make_ca(tmp_path)
    inbox = Inbox()
    with smtp_server(inbox, tls) as server:
        relay = harness_for(relay_toml(server.port, tls="starttls", ca=ca))
        original = mail_with_attachment("VPN keeps dropping", "Grüße, the VPN drops hourly.")
        result = relay.triage(original)
        assert relay.sender("smtp").run_once() == 1
    [(sender, recipients, content)] = inbox.messages
    assert (sender, recipients) == ("triage@example.org", ["helpdesk@example.org"])
    assert "BODY=8BITMIME" in inbox.mail_options[0]  # the latin-1 body, declared 8-bit
    rest = split_message(content)[1]
    assert rest == split_message(original)[1]  # body and attachments: the same bytes
    assert content.endswith(original)  # and the original header section, untouched
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["Resent-To"] == "helpdesk@example.org"
    resent_id = message["Resent-Message-ID"]
    assert resent_id.startswith(f"<{result.id}.r") and resent_id.endswith("@example.org>")
    assert message["Message-ID"] == "<orig-1@example.com>"
    [attachment] = [p for p in message.walk() if p.get_filename() == "dump.bin"]
    assert attachment.get_content() == ATTACHMENT
    assert relay.service.counts() == {("smtp", "done"): 1}


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("zammad", {"X-Zammad-Ticket-Group": "Security", "X-Zammad-Ticket-Priority": "3 high"}),
        ("otrs", {"X-OTRS-Queue": "Security", "X-OTRS-Priority": "5 very high"}),
        ("plain", {}),
    ],
)
def test_the_relayed_headers_carry_the_decision(harness_for, style, expected):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        relay = harness_for(
            relay_toml(
                server.port,
                f"[[relay.routes]]\ncategory = ['security']\nto = 'sec@example.org'\n"
                f"headers = '{style}'\ngroup = 'Security'\n",
            )
        )
        result = relay.triage(mail("I clicked a phishing link", "and typed my login."))
        relay.sender("smtp").run_once()
    [(_, recipients, content)] = inbox.messages
    assert recipients == ["sec@example.org"]
    message = email.message_from_bytes(content, policy=email.policy.default)
    decision = {
        "X-Triage-Id": result.id,
        "X-Triage-Category": "security",
        "X-Triage-Priority": "P1",
        "X-Triage-Risk": "high",
        **expected,
    }
    assert {name: message[name] for name in decision} == decision
    assert message["X-Triage-Summary"]
    assert ("X-Zammad-Ticket-Group" in message) is (style == "zammad")
    assert ("X-OTRS-Queue" in message) is (style == "otrs")


def test_routes_pick_the_right_address(harness_for):
    routes = (
        "[[relay.routes]]\nname = 'security'\ncategory = ['security']\nto = 'sec@example.org'\n"
        "[[relay.routes]]\nname = 'facilities'\ncategory = ['printer']\n"
        "to = ['facilities@example.org', 'print-log@example.org']\n"
    )
    inbox = Inbox()
    with smtp_server(inbox) as server:
        relay = harness_for(relay_toml(server.port, routes))
        relay.triage(mail("Printer on floor 3 jams", "paper jam again", "p@example.com"))
        relay.triage(mail("Ransomware note on my screen", "files encrypted", "r@example.com"))
        relay.triage(mail("Need a new monitor", "mine flickers", "m@example.com"))
        assert relay.sender("smtp").run_once() == 3
    by_subject = {
        email.message_from_bytes(content)["Subject"]: recipients
        for _, recipients, content in inbox.messages
    }
    assert by_subject == {
        "Printer on floor 3 jams": ["facilities@example.org", "print-log@example.org"],
        "Ransomware note on my screen": ["sec@example.org"],
        "Need a new monitor": ["helpdesk@example.org"],
    }


def test_a_hostile_subject_cannot_inject_a_header(harness_for):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        relay = harness_for(relay_toml(server.port, "default_headers = 'zammad'\n"))
        # A drop-folder JSON ticket: its subject may hold any character, CR and LF included.
        hostile = (
            '{"subject": "VPN down\\r\\nX-Zammad-Ticket-Owner: admin\\r\\nBcc: all@example.org",'
            ' "body": "Printer\\nX-Zammad-Ticket-Group: Management\\r\\n\\r\\nhello",'
            ' "requester": "eve@example.com"}'
        )
        result = relay.triage(hostile, name="hostile.json", source="dropfolder")
        relay.sender("smtp").run_once()
    [(_, recipients, content)] = inbox.messages
    assert recipients == ["helpdesk@example.org"]
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert "X-Zammad-Ticket-Owner" not in message and "Bcc" not in message
    assert message.get_all("X-Zammad-Ticket-Group") == [result.category]
    assert "\n" not in message["Subject"] and "VPN down" in message["Subject"]


def test_a_4xx_is_retried_until_the_server_accepts(harness_for, clock):
    inbox = Inbox(replies=["451 4.3.0 try again later", "421 4.7.0 busy"])
    with smtp_server(inbox) as server:
        relay = harness_for(relay_toml(server.port))
        relay.triage(mail("Outlook crashes", "at start"))
        assert relay.sender("smtp").run_once() == 1
        assert relay.sender("smtp").run_once() == 0  # not due before its backoff
        clock.moment += timedelta(seconds=6)
        relay.sender("smtp").run_once()
        clock.moment += timedelta(seconds=11)
        relay.sender("smtp").run_once()
    assert inbox.attempts == 3 and len(inbox.messages) == 1
    assert relay.service.counts() == {("smtp", "done"): 1}


def test_a_5xx_is_quarantined_with_the_reason(harness_for, clock):
    inbox = Inbox(replies=["554 5.7.1 relaying denied for this sender"])
    with smtp_server(inbox) as server:
        relay = harness_for(relay_toml(server.port))
        result = relay.triage(mail("Outlook crashes", "at start"))
        relay.sender("smtp").run_once()
        clock.moment += timedelta(hours=1)
        assert relay.sender("smtp").run_once() == 0  # never again
    [stuck] = relay.store.deliveries_quarantined(20)
    assert stuck.ticket_id == result.id and "554 5.7.1 relaying denied" in (stuck.reason or "")
    assert any("refused for good" in line for line in relay.service.problems())
    assert inbox.messages == []


def test_a_restricted_ticket_goes_whole_only_to_an_internal_destination(harness_for):
    inbox = Inbox()
    routes = "[[relay.routes]]\ncategory = ['account']\nto = 'iam@example.org'\ninternal = true\n"
    with smtp_server(inbox) as server:
        relay = harness_for(relay_toml(server.port, routes))
        secret = "my password is Hunter2!xyz please reset, call +49 170 1234567"
        internal = relay.triage(mail("Account locked", secret, "a@example.com"))
        outside = relay.triage(mail("Outlook keeps asking", secret, "b@example.com"))
        relay.sender("smtp").run_once()
    assert internal.sensitivity.level == outside.sensitivity.level == "restricted"
    got = {tuple(recipients): content for _, recipients, content in inbox.messages}
    assert b"Hunter2!xyz" in got[("iam@example.org",)]  # the original, to the internal queue
    withheld = got[("helpdesk@example.org",)]
    assert b"Hunter2!xyz" not in withheld and b"1234567" not in withheld
    message = email.message_from_bytes(withheld, policy=email.policy.default)
    assert message["X-Triage-Id"] == outside.id
    assert "withheld" in message.get_content()


def test_a_drop_folder_ticket_is_relayed_as_a_new_mail_with_the_file_attached(harness_for):
    inbox = Inbox()
    text = "# Printer jams on floor 2\n\nThe HP in room 2.14 jams on every job.\n"
    with smtp_server(inbox) as server:
        relay = harness_for(relay_toml(server.port))
        result = relay.triage(text, name="printer.md", source="dropfolder")
        relay.sender("smtp").run_once()
    [(_, _, content)] = inbox.messages
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["Subject"] == "Printer jams on floor 2"
    assert message["Message-ID"].startswith(f"<{result.id}.r")
    body = message.get_body(("plain",))
    assert "jams on every job" in body.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "printer.md"
    assert attachment.get_content() == text.encode()


def test_attach_mode_carries_the_original_unchanged_as_message_rfc822(harness_for):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        relay = harness_for(
            relay_toml(server.port, "[[relay.routes]]\nto = 'rt@example.org'\nattach = true\n")
        )
        original = mail_with_attachment("VPN keeps dropping", "the VPN drops hourly.")
        relay.triage(original)
        relay.sender("smtp").run_once()
    [(_, recipients, content)] = inbox.messages
    assert recipients == ["rt@example.org"]
    assert original in content  # the whole original, byte for byte, inside the new mail
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "message/rfc822",
    ]


def test_mail_the_relay_sent_coming_back_is_ignored_as_a_loop(harness_for):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        relay = harness_for(relay_toml(server.port))
        relay.triage(mail("Wifi slow", "in building B"))
        relay.sender("smtp").run_once()
        [(_, _, content)] = inbox.messages
        again = relay.triage(content, name="back.eml")
        relay.sender("smtp").run_once()
    assert again.status == "ignored" and (again.status_reason or "").startswith("loop")
    assert len(inbox.messages) == 1


def test_trusted_headers_a_sender_wrote_never_reach_the_helpdesk(harness_for):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        relay = harness_for(relay_toml(server.port, "default_headers = 'zammad'\n"))
        forged = "X-Zammad-Ticket-Owner: admin\r\nX-Zammad-Ticket-Group: Management"
        relay.triage(mail_with_attachment("Printer offline", "please fix", headers=forged))
        relay.sender("smtp").run_once()
    [(_, _, content)] = inbox.messages
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert "X-Zammad-Ticket-Owner" not in message
    assert message.get_all("X-Zammad-Ticket-Group") == ["printer"]


def test_the_sender_thread_delivers_soon_after_a_commit(harness_for):
    import time

    inbox = Inbox()
    with smtp_server(inbox) as server:
        relay = harness_for(relay_toml(server.port))
        relay.service.start()
        relay.triage(mail("Teams will not start", "error 0x80070005"))
        relay.service.committed()
        deadline = time.monotonic() + 10
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        relay.service.stop()
    assert len(inbox.messages) == 1


def test_a_forged_x_triage_id_never_hides_a_real_ticket(make_settings, store, clock):
    from triage.compose.app import build_pipeline

    pipeline = build_pipeline(make_settings(), store, None, clock)
    forged = mail(
        "Ransomware: all my files are encrypted",
        "A ransom note is on my screen and the files end in .locked",
        headers="X-Triage-Id: t-0123456789abcdef0123",
    )
    result = pipeline.handle(raw(forged)).result
    assert result.status == "triaged" and result.risk == "high"
