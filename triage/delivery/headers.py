"""Header fields with the triage decision, made safe: whatever a ticket (or a model) wrote
ends as one header line, RFC 2047-encoded where it is not ASCII, never a second header. Pure."""

from __future__ import annotations

import re
from email.header import Header
from email.utils import parseaddr

from triage.config.delivery import HeaderStyle
from triage.redaction import RESULT_TAGS
from triage.result import Result
from triage.rules.sensitivity import EMAIL, PHONE, keep_whole, scrub

MAX_VALUE_CHARS = 300
# Fields a sender must never set: a trusted channel would believe them.
TRUSTED_PREFIXES = (b"x-triage-", b"x-zammad-", b"x-otrs-")
ID_HEADER = "X-Triage-Id"

_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9.-]+$")
_BREAKS = re.compile(r"[\s\x00-\x1f\x7f\x85\u2028\u2029]+")
# Zammad's default priorities; Znuny's five.
_ZAMMAD_PRIORITY = {"P1": "3 high", "P2": "3 high", "P3": "2 normal", "P4": "1 low"}
_OTRS_PRIORITY = {"P1": "5 very high", "P2": "4 high", "P3": "3 normal", "P4": "2 low"}


def one_line(value: str, limit: int = MAX_VALUE_CHARS) -> str:
    """Any run of whitespace or control characters (CR, LF, NUL, U+2028...) becomes one
    space, and the text is cut to `limit` characters."""
    flat = _BREAKS.sub(" ", value).strip()
    return flat if len(flat) <= limit else keep_whole(flat, limit - 1).rstrip() + "…"


def field(name: str, value: str) -> bytes:
    """`Name: value` CRLF. Plain ASCII stays as written; anything else (or text that looks
    like an encoded word already) is RFC 2047-encoded whole, never interpreted."""
    flat = one_line(value)
    if flat.isascii() and "=?" not in flat:
        return f"{name}: {flat}\r\n".encode("ascii")
    encoded = Header(flat, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}\r\n".encode("ascii")


def address(value: str | None) -> str | None:
    """A bare mail address, or None when `value` is not exactly one."""
    if not value:
        return None
    _, parsed = parseaddr(value)
    if not parsed or parsed != value.strip() or not _ADDRESS.match(parsed):
        return None
    return parsed


def safe_summary(result: Result) -> str:
    """The summary as relayed: credentials and cards are masked already (clean_result);
    a restricted ticket's summary loses every personal datum as well."""
    if result.sensitivity.level == "restricted":
        return scrub(result.summary, RESULT_TAGS | {EMAIL, PHONE})
    return result.summary


def decision_fields(result: Result, style: HeaderStyle, group: str) -> list[tuple[str, str]]:
    fields = [
        (ID_HEADER, result.id),
        ("X-Triage-Category", result.category),
        ("X-Triage-Priority", result.priority),
        ("X-Triage-Risk", result.risk),
        ("X-Triage-Status", result.status),
        ("X-Triage-Sensitivity", result.sensitivity.level),
        ("X-Triage-Summary", safe_summary(result)),
    ]
    if result.language is not None:
        fields.append(("X-Triage-Language", result.language))
    if result.suggestions:
        titles = (" ".join(s.title.split()) for s in result.suggestions)
        fields.append(("X-Triage-Suggested", "; ".join(titles)))
    queue = group or result.category
    if style == "zammad":
        fields += [
            ("X-Zammad-Ticket-Group", queue),
            ("X-Zammad-Ticket-Priority", _ZAMMAD_PRIORITY[result.priority]),
            ("X-Zammad-Ticket-Tags", f"triage, {result.category}, risk-{result.risk}"),
        ]
    elif style == "otrs":
        fields += [
            ("X-OTRS-Queue", queue),
            ("X-OTRS-Priority", _OTRS_PRIORITY[result.priority]),
        ]
    return fields


def encode_fields(fields: list[tuple[str, str]]) -> bytes:
    return b"".join(field(name, value) for name, value in fields)


def without_trusted_fields(header: bytes) -> bytes:
    """The original header section minus any X-Triage-/X-Zammad-/X-OTRS- field (with its
    continuation lines): only our own may reach a system that trusts them."""
    kept: list[bytes] = []
    dropping = False
    for line in header.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        dropping = line.lower().startswith(TRUSTED_PREFIXES)
        if not dropping:
            kept.append(line)
    return b"".join(kept)
