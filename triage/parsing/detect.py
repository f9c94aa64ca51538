"""Tell a ticket's format from its bytes, not its name."""

from __future__ import annotations

import re

from triage.errors import ParseError
from triage.ticket import Format

_HEADER_LINE = re.compile(rb"^[!-9;-~]{1,76}:")
_CONTINUATION = re.compile(rb"^[ \t]")
_MAIL_HEADERS = frozenset(
    b"from to cc subject date message-id received return-path mime-version content-type "
    b"delivered-to reply-to sender x-mailer in-reply-to references list-id "
    b"auto-submitted x-original-to envelope-to".split()
)
_MARKDOWN = re.compile(rb"^(#{1,6} |```|\* |- \[|> )", re.MULTILINE)
_SNIFF = 8192
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


def detect_format(data: bytes) -> Format:
    """Raises ParseError for empty or binary content."""
    head = data[:_SNIFF].lstrip(b"\xef\xbb\xbf")
    if not head.strip():
        raise ParseError("empty input: the file holds no text")
    if _looks_binary(head):
        raise ParseError("binary content: not a mail, text, Markdown or JSON ticket")
    if head.lstrip()[:1] in (b"{", b"["):
        return "json"
    if _looks_like_mail(head, truncated=len(data) > _SNIFF):
        return "mail"
    if _MARKDOWN.search(head):
        return "markdown"
    return "text"


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > len(head) // 20


def _looks_like_mail(head: bytes, truncated: bool) -> bool:
    lines = head.splitlines()
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # the sniffed window may end inside a line
    if lines and lines[0].startswith(b"From "):  # an mbox envelope line
        lines = lines[1:]
    known = 0
    seen = 0
    for line in lines[:200]:
        if not line.strip():
            break
        if _CONTINUATION.match(line):
            if seen == 0:
                return False
            continue
        if not _HEADER_LINE.match(line):
            return False
        seen += 1
        if line.split(b":", 1)[0].strip().lower() in _MAIL_HEADERS:
            known += 1
    return known >= 1 and seen >= 1
