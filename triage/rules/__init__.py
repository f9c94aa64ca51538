"""The rules tier: everything decided without a model, as pure functions of the ticket."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from triage.rules.automated import bulk_headers
from triage.rules.extract import Fields, extract_fields
from triage.rules.forward import SPAM_REPORTED, reported_phishing
from triage.rules.keywords import CompiledRule, Hit, apply_rules, index_fields
from triage.rules.logslice import slice_logs
from triage.rules.risk import assess_risk, priority_for
from triage.rules.scope import monitoring_alert
from triage.rules.sensitivity import RESTRICTING, Sensitivity, keep_whole, scan, scrub
from triage.rules.symptoms import forwarded_fraud
from triage.rules.text import TextIndex
from triage.rules.unsolicited import unsolicited
from triage.ticket import CATEGORIES, PRIORITIES, Category, Priority, Risk, Ticket

_SUMMARY_CHARS = 240
_BULK_LEAD = 400  # characters of a list or campaign mail's body that count for its risk
_LONG_BODY = 3000  # a body longer than this is read for its risk up to _LONG_LEAD
_LONG_LEAD = 1500
SECURITY_INCIDENT = "security incident"  # how the reasons of security incidents begin


@dataclass(frozen=True)
class RulesVerdict:
    category: Category
    category_confident: bool  # a rule placed it from the subject; else the models may refine
    priority: Priority
    risk: Risk
    risk_reasons: tuple[str, ...]
    matched_rules: tuple[str, ...]
    sensitivity: Sensitivity
    fields: Fields
    log_slice: str | None
    summary: str
    # What the admin's rules added (all optional):
    hits: tuple[Hit, ...] = ()  # each rule that fired, on which field, with the matched words
    workflow: str | None = None  # where cost is booked; None: the category
    team: str | None = None  # the team a rule assigned the ticket to
    team_rule: str | None = None
    tags: tuple[str, ...] = ()
    # Mail from outside straight to the helpdesk that is phishing or spam: the reason, which
    # starts with "phishing" or "spam" (the pipeline applies the [senders] policy to it).
    unsolicited: str | None = None

    @property
    def booked_workflow(self) -> str:
        return self.workflow or self.category

    def assignment(self) -> dict[str, object] | None:
        """A rules-assigned team, in the result's `assignment` shape (CONTRACT.md)."""
        if self.team is None:
            return None
        return {"team": self.team, "probability": 1.0, "tier": "rules", "model": None}


def evaluate(
    ticket: Ticket,
    rules: tuple[CompiledRule, ...],
    log_slice_lines: int,
    source: str = "",
    own_domains: tuple[str, ...] = (),
) -> RulesVerdict:
    """`source` is where the input came from (RawInput.source), for rules that look at it;
    `own_domains` the organisation's mail domains ([senders] own_domains)."""
    indexes = index_fields(ticket, source)
    match = apply_rules(rules, indexes)
    log_slice = slice_logs(ticket.logs, log_slice_lines)
    texts = {"subject": ticket.subject, "body": ticket.body}
    if log_slice:
        texts["log_slice"] = log_slice
    # A forwarded mail's own tags count, and so do those of a quoted header block or a
    # signature; an inline forward is inside the quoted text, so it is scanned once.
    if ticket.quoted:
        texts["quoted"] = ticket.quoted
    if ticket.forwarded and not _inside(ticket.forwarded, ticket.quoted):
        texts["forwarded"] = ticket.forwarded
    sensitivity = scan(texts)
    words = TextIndex.combined(indexes["subject"], indexes["body"])
    found = detect(ticket, words, own_domains)
    high = tuple(reason for reason in found if not reason.startswith(SPAM_REPORTED))
    risk, reasons = assess_risk(
        reporting_words(ticket, words), sensitivity, match.risk, match.matched, high
    )
    spam_report = [reason for reason in found if reason.startswith(SPAM_REPORTED)]
    if spam_report and not high:
        reasons = (*reasons, *spam_report)
    incident = any(reason.startswith(SECURITY_INCIDENT) for reason in reasons)
    category: Category = (
        "security"
        if incident or spam_report
        else match.category or _hint_category(ticket) or "other"
    )
    stated = _most_urgent(match.priority, _hint_priority(ticket))
    return RulesVerdict(
        category=category,
        category_confident=incident
        or bool(spam_report)
        or (match.category is not None and match.category_in_subject),
        priority=priority_for(risk, stated),
        risk=risk,
        risk_reasons=reasons,
        matched_rules=match.matched,
        sensitivity=sensitivity,
        fields=extract_fields(
            (ticket.subject, ticket.body, log_slice or ""),
            ticket.requester,
            TextIndex.combined(words, TextIndex(log_slice or "")),
        ),
        log_slice=log_slice,
        summary=scrub(summarise(ticket), RESTRICTING),
        hits=match.hits,
        workflow=match.workflow,
        team=match.team,
        team_rule=match.team_rule,
        tags=match.tags,
        unsolicited=None if found else unsolicited(ticket, own_domains, words),
    )


def reporting_words(ticket: Ticket, words: TextIndex) -> TextIndex:
    """The words where a person reports something: the subject and the lead of the body.
    List and campaign mail reports nothing to us beyond its subject and first lines; in a
    long text (a newsletter without list headers) the words scattered far down do not make
    an incident. Quotes, signatures and disclaimers are out of the body already."""
    if len(ticket.body) <= _BULK_LEAD:
        return words  # the lead is the whole body
    if bulk_headers(ticket):
        lead = _BULK_LEAD
    elif len(ticket.body) > _LONG_BODY:
        lead = _LONG_LEAD
    else:
        return words
    return TextIndex(f"{ticket.subject}\n{ticket.body[:lead]}")


def detect(ticket: Ticket, words: TextIndex, own_domains: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Findings beyond the requester's words: phishing (or spam) reported by forwarding, and
    a monitoring system's alert that something is down."""
    found = (
        _reported(words, ticket, own_domains),
        monitoring_alert(ticket.subject, ticket.body),
    )
    return tuple(reason for reason in found if reason)


def _reported(words: TextIndex, ticket: Ticket, own_domains: tuple[str, ...]) -> str | None:
    """A forwarded mail the user reports: phishing (or a click) as the lure judge says; a
    payment fraud (gift cards, changed bank details) is an incident even where the judge
    would call the mail plain spam."""
    reported = reported_phishing(words, ticket, own_domains)
    if reported is not None and not reported.startswith(SPAM_REPORTED):
        return reported
    return forwarded_fraud(ticket.forwarded) or reported


def summarise(ticket: Ticket) -> str:
    """The rules tier's summary: the subject, and the body's first sentence."""
    subject = ticket.subject.strip() or "(no subject)"
    body = ticket.body
    if (
        "[pasted log:" in body
    ):  # the marker split_pasted_logs leaves: the substitution's only target
        body = re.sub(r"\[pasted log:[^\]]*\]", "", body)
    body = " ".join(body.split())
    first = re.split(r"(?<=[.!?])\s", body, maxsplit=1)[0] if body else ""
    summary = subject if not first else f"{subject.rstrip('.')}. {first}"
    if len(summary) > _SUMMARY_CHARS:
        summary = keep_whole(summary, _SUMMARY_CHARS - 1).rsplit(" ", 1)[0] + "…"
    return summary


def _inside(part: str, whole: str) -> bool:
    return " ".join(part.split()[:40]) in " ".join(whole.split())


def _hint_category(ticket: Ticket) -> Category | None:
    value = ticket.hints.get("category")
    return cast(Category, value) if value in CATEGORIES else None


def _hint_priority(ticket: Ticket) -> Priority | None:
    value = ticket.hints.get("priority")
    return cast(Priority, value) if value in PRIORITIES else None


def _most_urgent(*values: Priority | None) -> Priority | None:
    present = [value for value in values if value]
    return min(present) if present else None
