"""Pure: the one policy for folding a model's opinion into a result, whichever tier gave it.

A model refines what the rules could not place (category `other`, or a rule that only
matched the body), adds facts and a summary, and may raise risk and priority, never lower
them: nothing a ticket says can talk the triage down, and a category the rules were sure of
stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from models.schema import Analysis, ModelAnswer
from triage.result import FieldsOut
from triage.rules.risk import priority_for
from triage.ticket import Category, Priority, Risk, Tier, higher_risk

MAX_FIELD_VALUES = 20


@dataclass(frozen=True)
class Opinion:
    """What one model said about a ticket, in the terms the merge needs."""

    tier: Tier
    category: Category
    priority: Priority
    risk: Risk
    risk_reasons: tuple[str, ...] = ()
    confidence: int | None = None  # None: the tier gives no confidence (the paid analysis)
    summary: str = ""
    fields: FieldsOut | None = None
    escalate: bool = False

    @classmethod
    def of_answer(cls, answer: ModelAnswer, tier: Tier) -> Opinion:
        found = answer.fields
        return cls(
            tier=tier,
            category=answer.category,
            priority=answer.priority,
            risk=answer.risk,
            risk_reasons=tuple(answer.risk_reasons),
            confidence=answer.confidence,
            summary=answer.summary,
            fields=FieldsOut(
                hosts=found.hosts,
                ips=found.ips,
                error_codes=found.error_codes,
                applications=found.applications,
                devices=found.devices,
            ),
            escalate=answer.escalate,
        )

    @classmethod
    def of_analysis(cls, analysis: Analysis) -> Opinion:
        severe = analysis.severity in ("critical", "high")
        return cls(
            tier="paid",
            category=analysis.category,
            priority=analysis.priority,
            risk="high" if severe else "low",  # a mild analysis never lowers the risk
        )


class Standing(Protocol):
    """What a ticket's triage says so far: a result, or the rules' verdict."""

    @property
    def category(self) -> Category: ...

    @property
    def priority(self) -> Priority: ...

    @property
    def risk(self) -> Risk: ...

    @property
    def risk_reasons(self) -> Sequence[str]: ...

    @property
    def summary(self) -> str: ...


@dataclass(frozen=True)
class Merged:
    category: Category
    priority: Priority
    risk: Risk
    risk_reasons: list[str]
    summary: str
    fields: FieldsOut
    note: str  # what the model changed, for the route's reason


def merge(
    result: Standing,
    fields: FieldsOut,
    category_confident: bool,
    opinion: Opinion,
    min_confidence: int,
) -> Merged:
    """Fold `opinion` into what `result` (with its `fields`) says. The category changes only
    where the rules were unsure and the model is confident enough; risk and priority only
    ever rise. A tier's opinion carries only what it has earned (triage/trust.py admits a
    local model's answer; the paid analysis is taken as it is)."""
    changes: list[str] = []
    category = result.category
    sure = opinion.confidence is None or opinion.confidence >= min_confidence
    if not category_confident and sure and opinion.category not in (category, "other"):
        changes.append(f"category {category} -> {opinion.category}")
        category = opinion.category
    risk = higher_risk(result.risk, opinion.risk)
    reasons = list(result.risk_reasons)
    if risk != result.risk:
        changes.append(f"risk {result.risk} -> {risk}")
        reasons.extend(f"model: {reason}" for reason in opinion.risk_reasons)
    priority = priority_for(risk, min(result.priority, opinion.priority))
    if priority != result.priority:
        changes.append(f"priority {result.priority} -> {priority}")
    if opinion.fields is not None:
        fields = _union(fields, opinion.fields)
    if opinion.escalate:
        changes.append("escalation suggested")
    note = ", ".join(changes) or "confirmed the rules"
    if opinion.confidence is not None:
        note += f" (confidence {opinion.confidence}%)"
    return Merged(
        category=category,
        priority=priority,
        risk=risk,
        risk_reasons=reasons,
        summary=opinion.summary or result.summary,
        fields=fields,
        note=note,
    )


def _union(first: FieldsOut, second: FieldsOut) -> FieldsOut:
    def join(left: list[str], right: list[str]) -> list[str]:
        seen = dict.fromkeys(left)
        for value in right:
            value = value.strip()
            if value and value not in seen:
                seen[value] = None
        return list(seen)[:MAX_FIELD_VALUES]

    return FieldsOut(
        requester=first.requester,
        hosts=join(first.hosts, second.hosts),
        ips=join(first.ips, second.ips),
        error_codes=join(first.error_codes, second.error_codes),
        applications=join(first.applications, second.applications),
        devices=join(first.devices, second.devices),
    )
