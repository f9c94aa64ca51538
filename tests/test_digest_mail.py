"""Digest delivery by mail, to a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller

from tests.dovecot import free_port
from tests.month_data import fill_month
from triage.runtime.scheduler import Jobs


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_the_digest_is_mailed_with_html_and_a_plain_text_alternative(store, make_settings, smtp):
    controller, inbox = smtp
    fill_month(store, 2026, 10, tickets=200)
    settings = make_settings(
        f"[digest]\nsmtp_host = '127.0.0.1'\nsmtp_port = {controller.port}\n"
        "smtp_starttls = false\nrecipients = ['helpdesk@example.com', 'lead@example.com']\n"
        "[report]\nenabled = false\n"
    )
    jobs = Jobs(store, settings, lambda: datetime(2026, 10, 20, 8, 0, tzinfo=UTC))
    assert jobs.run_due() == ["digest 2026-10-19"]
    [(sender, recipients, content)] = inbox.messages
    assert sender == "triage@example.com"
    assert recipients == ["helpdesk@example.com", "lead@example.com"]
    message = email.message_from_bytes(content)
    assert message["Subject"].startswith("Triage digest 2026-10-19:")
    assert message["Auto-Submitted"] == "auto-generated"
    kinds = [part.get_content_type() for part in message.walk()]
    assert "text/plain" in kinds and "text/html" in kinds


def test_the_digest_goes_over_starttls_with_a_login(store, make_settings, tmp_path):
    from tests.servers import make_ca

    ca, server_tls = make_ca(tmp_path)
    logins: list[tuple[bytes, bytes]] = []

    class Authenticator:
        def __call__(self, server, session, envelope, mechanism, auth_data):
            from aiosmtpd.smtp import AuthResult

            logins.append((auth_data.login, auth_data.password))
            return AuthResult(success=auth_data.password == b"smtp-secret")

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_tls,
        require_starttls=True,
        authenticator=Authenticator(),
        auth_require_tls=True,
    )
    controller.start()
    try:
        fill_month(store, 2026, 10, tickets=50)
        settings = make_settings(
            f"[digest]\nsmtp_host = '127.0.0.1'\nsmtp_port = {controller.port}\n"
            f"smtp_ca_file = '{ca}'\nsmtp_username = 'triage'\n"
            "smtp_password = 'smtp-secret'\nrecipients = ['helpdesk@example.com']\n"
            "[report]\nenabled = false\n"
        )
        jobs = Jobs(store, settings, lambda: datetime(2026, 10, 20, 8, 0, tzinfo=UTC))
        assert jobs.run_due() == ["digest 2026-10-19"]
    finally:
        controller.stop()
    assert logins == [(b"triage", b"smtp-secret")]
    assert len(inbox.messages) == 1
