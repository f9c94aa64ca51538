"""Bytes to Ticket, whatever the format: mail, JSON, Markdown or plain text."""

from __future__ import annotations

from triage.errors import ParseError
from triage.parsing.cleanup import clean_body
from triage.parsing.detect import detect_format
from triage.parsing.jsonticket import parse_json_ticket
from triage.parsing.mail import MailLimits, decode_bytes, parse_mail
from triage.rules.sensitivity import keep_whole
from triage.ticket import Format, Ticket

__all__ = ["MailLimits", "ParseError", "parse_ticket"]

_SUBJECT_CHARS = 200


def parse_ticket(data: bytes, limits: MailLimits) -> Ticket:
    """Raises ParseError (an InputError) with the quarantine reason."""
    kind = detect_format(data)
    if kind == "json":
        return parse_json_ticket(data, limits.max_text_attachment_bytes, limits.max_body_chars)
    if kind == "mail":
        return parse_mail(data, limits)
    return _parse_text(data, kind, limits.max_body_chars)


def _parse_text(data: bytes, kind: Format, max_body_chars: int) -> Ticket:
    text = _decode_text(data)
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    subject = lines[first].strip().lstrip("#").strip() if lines else ""
    if subject.lower().startswith("subject:"):
        subject = subject[len("subject:") :].strip()
    rest = "\n".join(lines[first + 1 :])
    if len(subject) > _SUBJECT_CHARS:  # one long paragraph: the subject is its start
        rest = subject + "\n" + rest
        subject = keep_whole(subject, _SUBJECT_CHARS).rsplit(" ", 1)[0] + " …"
    body, logs = clean_body(rest, max_body_chars)
    return Ticket(format=kind, subject=subject, body=body, logs=tuple(logs))


def _decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return decode_bytes(data, None)[0]
