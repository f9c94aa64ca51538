"""One ticket on its way through the pipeline: parsed and judged by the rules exactly once,
then carried as one frozen value to dedup, the model tiers and the commit."""

from __future__ import annotations

from dataclasses import dataclass

from triage.result import FieldsOut, FindingOut, Result, Route, SensitivityOut
from triage.rules import RulesVerdict
from triage.ticket import RawInput, Ticket


@dataclass(frozen=True)
class Case:
    raw: RawInput
    ticket: Ticket
    verdict: RulesVerdict
    content_key: str  # what dedup finds the same words by
    base: Result  # the rules' result: status triaged, before any model tier

    @classmethod
    def of(cls, raw: RawInput, ticket: Ticket, verdict: RulesVerdict, content_key: str) -> Case:
        return cls(raw, ticket, verdict, content_key, rules_result(raw, ticket, verdict))


def rules_result(raw: RawInput, ticket: Ticket, verdict: RulesVerdict) -> Result:
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
        tags=list(verdict.tags),
        matched_rules=list(verdict.matched_rules),
        log_slice=verdict.log_slice,
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
