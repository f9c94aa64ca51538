"""Delivering the digest by mail (SMTP, STARTTLS): the HTML as the body, Markdown as the
plain-text alternative."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from triage.config.sections import DigestConfig
from triage.reporting.build import Digest


def send_digest(config: DigestConfig, digest: Digest, paths: list[Path]) -> None:
    markdown = next(p for p in paths if p.suffix == ".md").read_text(encoding="utf-8")
    html = next(p for p in paths if p.suffix == ".html").read_text(encoding="utf-8")
    message = EmailMessage()
    urgent, high = len(digest.urgent), len(digest.high_risk)
    message["Subject"] = (
        f"Triage digest {digest.day}: {digest.tickets} tickets"
        + (f", {urgent} P1/P2" if urgent else "")
        + (f", {high} high risk" if high else "")
    )
    message["From"] = config.smtp_from
    message["To"] = ", ".join(config.recipients)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: a robot, not to be answered
    message.set_content(markdown)
    message.add_alternative(html, subtype="html")
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=30) as smtp:
        if config.smtp_starttls:
            cafile = str(config.smtp_ca_file) if config.smtp_ca_file else None
            smtp.starttls(context=ssl.create_default_context(cafile=cafile))
        if config.smtp_username and config.smtp_password is not None:
            smtp.login(config.smtp_username, config.smtp_password.get_secret_value())
        smtp.send_message(message)
