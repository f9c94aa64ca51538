"""The relayed mail's bytes. The original is never re-serialised: its body and attachments go
out exactly as they came, either behind prepended RFC 5322 Resent-* fields or inside a
message/rfc822 part. Pure."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import datetime
from email.utils import format_datetime

from triage.delivery.headers import (
    address,
    decision_fields,
    encode_fields,
    field,
    safe_summary,
    without_trusted_fields,
)
from triage.delivery.routes import Destination
from triage.result import Result

CRLF = b"\r\n"


def split_message(raw: bytes) -> tuple[bytes, bytes]:
    """(header section, rest from the blank line on); a mail without a blank line is all
    header."""
    positions = [p for p in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if p >= 0]
    if not positions:
        return raw, b""
    end = min(positions)
    cut = end + (2 if raw[end : end + 2] == b"\r\n" else 1)
    return raw[:cut], raw[cut:]


def resent(
    raw: bytes, result: Result, destination: Destination, sender: str, msgid: str, now: datetime
) -> bytes:
    """The original mail with Resent-* and the decision prepended (RFC 5322 3.6.6)."""
    header, rest = split_message(raw)
    prepended = encode_fields(
        [
            ("Resent-Date", format_datetime(now)),
            ("Resent-From", sender),
            ("Resent-To", ", ".join(destination.to)),
            ("Resent-Message-ID", msgid),
            *decision_fields(result, destination.headers, destination.group),
        ]
    )
    return prepended + without_trusted_fields(header) + rest


def new_mail(
    result: Result,
    destination: Destination,
    sender: str,
    msgid: str,
    now: datetime,
    text: str,
    attachment: tuple[str, bytes] | None = None,
    original: bytes | None = None,
) -> bytes:
    """A mail of our own: `text` first, then the input file as an attachment (base64) or the
    original mail as message/rfc822 (its bytes untouched)."""
    author = address(result.sender) or sender
    header = encode_fields(
        [
            ("From", author),
            *([("Sender", sender)] if author != sender else []),
            ("To", ", ".join(destination.to)),
            ("Subject", result.subject or f"Ticket {result.id}"),
            ("Date", format_datetime(now)),
            ("Message-ID", msgid),
            *decision_fields(result, destination.headers, destination.group),
        ]
    )
    body = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    if attachment is None and original is None:
        return (
            header + b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body + CRLF
        )
    inner = original if original is not None else attachment[1] if attachment else b""
    boundary = _boundary(msgid, inner)
    parts = [
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
    ]
    if original is not None:
        parts.append(
            b"Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + original
        )
    elif attachment is not None:
        name, data = attachment
        encoded = base64.encodebytes(data).replace(b"\n", CRLF)
        parts.append(
            b"Content-Type: application/octet-stream\r\n"
            + field("Content-Disposition", f"attachment; filename={_quoted(name)}")
            + b"Content-Transfer-Encoding: base64\r\n\r\n"
            + encoded
        )
    delimiter = b"--" + boundary
    joined = b"".join(delimiter + CRLF + part.rstrip(b"\r\n") + CRLF for part in parts)
    return (
        header
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="'
        + boundary
        + b'"\r\n\r\n'
        + joined
        + delimiter
        + b"--"
        + CRLF
    )


def cover_text(result: Result, withheld: bool) -> str:
    """The text part of a mail of our own: the decision, for people reading it."""
    lines = [
        f"Triage: {result.category}, {result.priority}, risk {result.risk}"
        f" (ticket {result.id}, from {result.source})",
        "",
        safe_summary(result),
    ]
    if withheld:
        lines += [
            "",
            "The original is withheld: it holds restricted data (credentials or card numbers)"
            " and this destination is not marked internal. It stays on the triage host.",
        ]
    return "\n".join(lines) + "\n"


def _boundary(msgid: str, inner: bytes) -> bytes:
    seed = hashlib.blake2b(msgid.encode(), digest_size=12).hexdigest()
    boundary = f"=_triage_{seed}".encode()
    while boundary in inner:  # never a line of the original: extend until it is unique
        boundary += os.urandom(4).hex().encode()
    return boundary


def _quoted(name: str) -> str:
    safe = "".join(c if c.isprintable() and c not in '"\\' else "_" for c in name)
    return f'"{safe or "ticket"}"'
