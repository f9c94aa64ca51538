"""The compact ticket a model sees: the requester's words (quotes and signature already
gone), the log slice instead of the log, attachments by name, cut to fit with the cut marked.

The local tier reads it as is; remote tiers get it with every sensitive finding replaced by
a typed placeholder (`redacted=True`).
"""

from __future__ import annotations

from triage.rules import RulesVerdict
from triage.rules.sensitivity import findings_in, redact, scrub
from triage.ticket import Ticket

CUT_MARK = "[... {count} characters cut to fit]"


FORWARDED = "\n\nForwarded mail (reported by the requester):\n"
ALL_TAGS = frozenset({"credential", "pii.card", "pii.iban", "pii.phone", "pii.email"})


def compact_text(
    ticket: Ticket,
    verdict: RulesVerdict,
    max_chars: int,
    redacted: bool = False,
    redact_tags: frozenset[str] = ALL_TAGS,
) -> str:
    """`redacted`: credentials always, and findings tagged in `redact_tags`, become typed
    placeholders; the sender's address too when pii.email is among the tags."""
    tags = redact_tags | {"credential"}
    findings = [f for f in verdict.sensitivity.findings if f.tag in tags]

    def field(name: str, text: str) -> str:
        return redact(text, findings_in(findings, name)) if redacted else text

    head = [f"Subject: {field('subject', ticket.subject)}"]
    if ticket.sender:
        hide = redacted and "pii.email" in tags
        head.append(f"From: {'[EMAIL]' if hide else ticket.sender}")
    if ticket.attachments:
        names = ", ".join(
            f"{a.filename or 'unnamed'} ({a.content_type}, {a.size} bytes)"
            for a in ticket.attachments[:10]
        )
        head.append(f"Attachments: {names}")
    body = field("body", ticket.body)
    log_slice = field("log_slice", verdict.log_slice) if verdict.log_slice else ""
    # A forwarded mail (a reported lure) is evidence; it is scanned afresh, as its findings
    # may sit in the quoted text.
    forwarded = ticket.forwarded.strip()
    if forwarded and redacted:
        forwarded = scrub(forwarded, tags)
    fixed = "\n".join(head) + "\n\n" + ("\n\nLog slice:\n" if log_slice else "")
    fixed += FORWARDED if forwarded else ""
    room = max(0, max_chars - len(fixed))
    # The body is the requester's own account: it keeps at least half of the room; a
    # forwarded mail gets at most a quarter.
    forwarded = _cut(forwarded, max(room // 4, room - len(body) - len(log_slice)))
    room -= len(forwarded)
    log_room = max(room // 2, room - len(body)) if log_slice else 0
    log_slice = _cut(log_slice, log_room)
    body = _cut(body, room - len(log_slice))
    text = "\n".join(head) + "\n\n" + body
    if log_slice:
        text += "\n\nLog slice:\n" + log_slice
    if forwarded:
        text += FORWARDED + forwarded
    return text


def _cut(text: str, room: int) -> str:
    if len(text) <= room:
        return text
    mark = CUT_MARK.format(count=len(text) - max(0, room - 40))
    return text[: max(0, room - len(mark) - 1)] + "\n" + mark
