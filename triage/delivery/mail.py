"""The relayed mail's bytes. The original is never re-serialised: its body and attachments go
out as they came, either behind prepended RFC 5322 Resent-* fields or inside a
message/rfc822 part, with two changes the wire demands: every line ends in CRLF (RFC 5321
2.3.8: no bare CR or LF, so no "<CR>.<CR><LF>" can end the data early at the next hop and
smuggle a second message), and a header line longer than 998 characters is folded (RFC 5322
2.1.1). Pure."""

from __future__ import annotations

import base64
import hashlib
import os
import re
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
MAX_LINE = 998  # characters of a line, without its CRLF (RFC 5322 2.1.1)
_LINE_END = re.compile(rb"\r\n|\r|\n")


def on_the_wire(data: bytes) -> bytes:
    """Every line ending (CRLF, a bare CR, a bare LF) as CRLF."""
    return _LINE_END.sub(CRLF, data)


def folded_header(header: bytes) -> bytes:
    """A header section (CRLF line ends) whose lines over 998 characters are folded at a
    blank, or, where a run has none, inside the run (the reader sees one space more)."""
    if all(len(line) <= MAX_LINE for line in header.split(CRLF)):
        return header
    out: list[bytes] = []
    for line in header.split(CRLF):
        while len(line) > MAX_LINE:
            cut = max(line.rfind(b" ", 1, MAX_LINE), line.rfind(b"\t", 1, MAX_LINE))
            if cut <= 0:
                out.append(line[: MAX_LINE - 1])
                line = b" " + line[MAX_LINE - 1 :]
            else:
                out.append(line[:cut])
                line = line[cut:]
        out.append(line)
    return CRLF.join(out)


def _wire_message(raw: bytes) -> tuple[bytes, bytes]:
    """A mail's header section and rest as they may go on the wire."""
    header, rest = split_message(on_the_wire(raw))
    return folded_header(header), rest


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
    header, rest = _wire_message(raw)
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
    body = on_the_wire(text.encode("utf-8"))
    if original is not None:
        original = b"".join(_wire_message(original))
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
