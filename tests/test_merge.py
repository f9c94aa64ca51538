from __future__ import annotations

import pytest

from models.schema import Analysis, ExtractedFields, ModelAnswer
from tests.conftest import raw
from triage.case import rules_result
from triage.rules import RulesVerdict
from triage.rules.extract import Fields
from triage.rules.sensitivity import Sensitivity
from triage.ticket import Ticket
from triage.tiers.merge import Opinion, merge


def merge_answer(rules: RulesVerdict, model: ModelAnswer, min_confidence: int):
    """The rules' result with the local model's answer folded in, as the tiers do it."""
    result = rules_result(raw("ticket"), Ticket("text", "subject", "body"), rules)
    opinion = Opinion.of_answer(model, "local")
    return merge(result, result.fields, rules.category_confident, opinion, min_confidence)


def verdict(category="other", confident=False, risk="low", priority="P3", hosts=()):
    return RulesVerdict(
        category=category,
        category_confident=confident,
        priority=priority,
        risk=risk,
        risk_reasons=("rules reason",) if risk != "low" else (),
        matched_rules=(),
        sensitivity=Sensitivity("public", (), ()),
        fields=Fields(hosts=tuple(hosts)),
        log_slice=None,
        summary="rules summary",
    )


def answer(category="vpn", risk="low", priority="P3", confidence=90, hosts=(), escalate=False):
    return ModelAnswer(
        category=category,
        priority=priority,
        risk=risk,
        risk_reasons=["model reason"],
        summary="model summary",
        fields=ExtractedFields(hosts=list(hosts)),
        escalate=escalate,
        confidence=confidence,
    )


@pytest.mark.parametrize(
    ("rules", "model", "expected"),
    [
        (verdict("other"), answer("vpn", confidence=90), "vpn"),
        (verdict("other"), answer("vpn", confidence=30), "other"),
        (verdict("email", confident=False), answer("security", confidence=80), "security"),
        (verdict("email", confident=True), answer("security", confidence=100), "email"),
        (verdict("printer"), answer("other", confidence=100), "printer"),
    ],
)
def test_the_model_refines_other_and_weak_rule_categories_only(rules, model, expected):
    assert merge_answer(rules, model, min_confidence=60).category == expected


@pytest.mark.parametrize(
    ("rules_risk", "model_risk", "expected"),
    [("high", "low", "high"), ("low", "high", "high"), ("medium", "low", "medium")],
)
def test_the_model_may_raise_risk_but_never_lower_it(rules_risk, model_risk, expected):
    merged = merge_answer(verdict(risk=rules_risk), answer(risk=model_risk), 60)
    assert merged.risk == expected
    if expected == "high" and rules_risk == "low":
        assert "model: model reason" in merged.risk_reasons


def test_priority_only_becomes_more_urgent_and_follows_the_risk():
    assert merge_answer(verdict(priority="P2"), answer(priority="P4"), 60).priority == "P2"
    assert merge_answer(verdict(priority="P3"), answer(priority="P2"), 60).priority == "P2"
    assert merge_answer(verdict(priority="P3"), answer(risk="high"), 60).priority == "P1"


def test_fields_are_merged_without_duplicates_and_the_summary_is_the_models():
    merged = merge_answer(
        verdict(hosts=["a.example.com"]), answer(hosts=["a.example.com", "b.example.com"]), 60
    )
    assert merged.fields.hosts == ["a.example.com", "b.example.com"]
    assert merged.summary == "model summary"


def test_the_escalation_signal_and_the_changes_are_noted():
    model = answer("vpn", escalate=True, confidence=85)
    merged = merge_answer(verdict("other"), model, 60)
    assert Opinion.of_answer(model, "local").escalate
    assert "category other -> vpn" in merged.note and "escalation suggested" in merged.note
    assert "85%" in merged.note


@pytest.mark.parametrize(
    ("severity", "rules_risk", "expected"),
    [
        ("critical", "low", "high"),
        ("high", "medium", "high"),
        ("low", "high", "high"),
        ("medium", "medium", "medium"),
    ],
)
def test_the_paid_analysis_goes_through_the_same_merge_and_never_lowers_risk(
    severity, rules_risk, expected
):
    analysis = Analysis(
        severity=severity,
        category="security",
        priority="P4",
        next_steps=["look"],
        draft_reply="hello",
        confidence=10,
    )
    result = rules_result(raw("t"), Ticket("text", "s", "b"), verdict("printer", True, rules_risk))
    merged = merge(result, result.fields, True, Opinion.of_analysis(analysis), 0)
    assert merged.risk == expected
    assert merged.category == "printer"  # a category the rules were sure of stands
    assert merged.priority <= result.priority  # P1 is the most urgent: never less urgent
