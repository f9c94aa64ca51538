"""A model tier's answer from what it scored and wrote: pure, shared by the in-process model
(models/local.py) and the model-server one (models/local_server.py)."""

from __future__ import annotations

from typing import get_args

from models.schema import ExtractedFields, ModelAnswer, Written
from triage.rules.risk import priority_for
from triage.ticket import RISK_ORDER, Category, Risk

CATEGORIES: tuple[str, ...] = get_args(Category)
INCIDENT = "yes"


def answer_from(
    categories: dict[str, float],
    incident: float | None,
    written: Written,
    rules_category: str,
    rules_risk: str,
) -> ModelAnswer:
    """Pure: the answer from the scored probabilities and the written part. A question not
    asked (no probabilities) leaves the rules' answer: category, and risk as the floor."""
    category = max(categories, key=lambda name: categories[name]) if categories else rules_category
    floor: Risk = rules_risk if rules_risk in RISK_ORDER else "low"  # type: ignore[assignment]
    says_yes = incident is not None and incident >= 0.5
    raised = says_yes and RISK_ORDER[floor] < RISK_ORDER["high"]
    risk: Risk = "high" if raised else floor
    reasons = [f"P(security incident or outage) = {incident:.2f}"] if raised else []
    return ModelAnswer(
        category=category,
        priority=priority_for(risk, "P3"),
        risk=risk,
        risk_reasons=reasons,
        summary=written.summary,
        fields=ExtractedFields(),  # the rules extract; the model is not asked again
        escalate=says_yes,
        confidence=round(100 * categories.get(category, 1.0)),
        label_probabilities={name: round(p, 4) for name, p in categories.items()},
        incident_probability=round(incident, 4) if incident is not None else None,
    )
