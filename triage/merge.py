"""Pure: fold a model's answer into the rules' verdict.

The model refines what the rules could not place (category `other`, or a rule that only
matched the body), adds facts and a summary, and may raise risk and priority, never lower
them: nothing a ticket says can talk the triage down.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.schema import ModelAnswer
from triage.rules import RulesVerdict
from triage.rules.extract import Fields
from triage.rules.keywords import RISK_ORDER
from triage.rules.risk import priority_for
from triage.ticket import Category, Priority, Risk

MAX_FIELD_VALUES = 20


@dataclass(frozen=True)
class Refined:
    category: Category
    priority: Priority
    risk: Risk
    risk_reasons: tuple[str, ...]
    summary: str
    fields: Fields
    escalate: bool
    note: str  # what the model changed, for the route's reason


def merge_answer(verdict: RulesVerdict, answer: ModelAnswer, min_confidence: int) -> Refined:
    changes: list[str] = []
    category = verdict.category
    if (
        not verdict.category_confident
        and answer.confidence >= min_confidence
        and answer.category != category
        and answer.category != "other"
    ):
        changes.append(f"category {category} -> {answer.category}")
        category = answer.category
    risk = verdict.risk
    reasons = list(verdict.risk_reasons)
    if RISK_ORDER[answer.risk] > RISK_ORDER[risk]:
        changes.append(f"risk {risk} -> {answer.risk}")
        risk = answer.risk
        reasons.extend(f"model: {reason}" for reason in answer.risk_reasons)
    priority = priority_for(risk, min(verdict.priority, answer.priority))
    if priority != verdict.priority:
        changes.append(f"priority {verdict.priority} -> {priority}")
    fields = verdict.fields
    merged = Fields(
        requester=fields.requester,
        hosts=_union(fields.hosts, answer.fields.hosts),
        ips=_union(fields.ips, answer.fields.ips),
        error_codes=_union(fields.error_codes, answer.fields.error_codes),
        applications=_union(fields.applications, answer.fields.applications),
        devices=_union(fields.devices, answer.fields.devices),
    )
    if answer.escalate:
        changes.append("escalation suggested")
    note = (", ".join(changes) or "confirmed the rules") + f" (confidence {answer.confidence}%)"
    return Refined(
        category=category,
        priority=priority,
        risk=risk,
        risk_reasons=tuple(reasons),
        summary=answer.summary or verdict.summary,
        fields=merged,
        escalate=answer.escalate,
        note=note,
    )


def _union(first: tuple[str, ...], second: list[str]) -> tuple[str, ...]:
    seen = dict.fromkeys(first)
    for value in second:
        value = value.strip()
        if value and value not in seen:
            seen[value] = None
    return tuple(seen)[:MAX_FIELD_VALUES]
