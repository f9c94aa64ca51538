"""One ticket on its way through the pipeline: parsed and judged by the rules exactly once,
then carried as one frozen value to dedup, the model tiers and the commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from triage.parsing.language import language_of
from triage.records import Grounding, TicketKeys
from triage.result import Assignment, FieldsOut, FindingOut, Result, Route, SensitivityOut
from triage.rules import RulesVerdict
from triage.rules.storm import signature_of
from triage.ticket import RawInput, Ticket

CLOCK_SKEW = timedelta(minutes=5)
# How long before its arrival a mail's Date is believed: delivery takes minutes, a slow queue
# hours. An older Date is a wrong clock or a spoofed header, and would tie reports that
# arrived days apart into one storm.
DATE_TRUSTED_FOR = timedelta(hours=12)


@dataclass(frozen=True)
class Case:
    raw: RawInput
    ticket: Ticket
    verdict: RulesVerdict
    content_key: str  # what dedup finds the same words by
    base: Result  # the rules' result: status triaged, before any model tier
    incident: frozenset[str]  # what identifies the incident it reports (storms)
    occurred_at: datetime  # when it was reported: the mail's Date, else when it arrived
    withheld: str | None = None  # why model spend is withheld (a sender flood), if it is
    grounding: tuple[Grounding, ...] = ()  # the suggested articles' text, for a paid draft

    @classmethod
    def of(cls, raw: RawInput, ticket: Ticket, verdict: RulesVerdict, content_key: str) -> Case:
        return cls(
            raw,
            ticket,
            verdict,
            content_key,
            rules_result(raw, ticket, verdict, language_of(f"{ticket.subject}\n{ticket.body}")),
            signature_of(ticket, verdict),
            reported_at(ticket, raw.received_at),
        )

    @property
    def keys(self) -> TicketKeys:
        return TicketKeys(self.content_key, self.incident, self.occurred_at)


def reported_at(ticket: Ticket, received_at: datetime) -> datetime:
    """When the requester reported it: the mail's Date when it is plausible (not after it
    arrived, allowing for clock skew, and at most DATE_TRUSTED_FOR before), else when it
    arrived (the IMAP server's INTERNALDATE, a dropped file's modification time, so a folder
    of old mail keeps its own timeline). Storms are found among reports close in time."""
    value = ticket.header("date")
    if value:
        try:
            sent = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return received_at
        if (
            sent.tzinfo is not None
            and received_at - DATE_TRUSTED_FOR <= sent <= received_at + CLOCK_SKEW
        ):
            return sent
    return received_at


def rules_result(
    raw: RawInput, ticket: Ticket, verdict: RulesVerdict, language: str | None = None
) -> Result:
    sensitivity = verdict.sensitivity
    reason = (
        f"rules: {', '.join(verdict.matched_rules)}" if verdict.matched_rules else "rules: no match"
    )
    return Result(
        id=raw.id,
        source=raw.source,
        source_ref=raw.source_ref,
        message_id=ticket.message_id,
        received_at=raw.received_at,
        sender=ticket.sender,
        subject=ticket.subject,
        status="triaged",
        status_reason=None,
        category=verdict.category,
        priority=verdict.priority,
        risk=verdict.risk,
        risk_reasons=list(verdict.risk_reasons),
        sensitivity=SensitivityOut(
            level=sensitivity.level,
            tags=list(sensitivity.tags),
            findings=[FindingOut(**finding.__dict__) for finding in sensitivity.findings],
        ),
        summary=verdict.summary,
        fields=FieldsOut.from_fields(verdict.fields),
        route=Route(tier="rules", reason=reason),
        workflow=verdict.booked_workflow,
        assignment=None
        if verdict.team is None
        else Assignment(team=verdict.team, probability=1.0, tier="rules"),
        tags=list(verdict.tags),
        matched_rules=list(verdict.matched_rules),
        log_slice=verdict.log_slice,
        language=language,
    )


def quarantined(raw: RawInput, reason: str) -> Result:
    """The result of input that could not be read (or crashed the triage)."""
    return Result(
        id=raw.id,
        source=raw.source,
        source_ref=raw.source_ref,
        message_id=None,
        received_at=raw.received_at,
        sender=None,
        subject="",
        status="quarantined",
        status_reason=reason,
        summary=f"Quarantined: {reason}",
        route=Route(tier="rules", reason="not triaged: the input could not be read"),
        workflow="quarantine",
    )
