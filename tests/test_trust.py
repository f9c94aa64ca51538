"""triage/trust.py's gates, table-tested: a model decides only what it has earned."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.schema import ExtractedFields, ModelAnswer
from triage.errors import ConfigError
from triage.rules import RulesVerdict
from triage.rules.extract import Fields
from triage.rules.sensitivity import Sensitivity
from triage.tiers.trust import (
    Gate,
    Measured,
    TrustBars,
    TrustProfile,
    WolfGuard,
    earned_threshold,
    gate_answer,
    grounded_summary,
    grounded_values,
    has_format,
    load_trust,
    questions_for,
    trust_for,
)

TICKET = (
    "Subject: VPN drops\n\nAnyConnect on my laptop LT-4411 drops every 10 minutes with "
    "error 809 when I connect to vpn.example.com (10.0.0.12). I cannot work from home."
)
INSTRUCTIONS = (
    "You are the first-line triage assistant of an IT helpdesk. Answer in JSON: summary is one "
    "short sentence saying what the user needs, applications and devices named in the ticket."
)


def verdict(category="other", confident=False, risk="low", priority="P3", summary="rules"):
    return RulesVerdict(
        category=category,
        category_confident=confident,
        priority=priority,
        risk=risk,
        risk_reasons=("rules reason",) if risk != "low" else (),
        matched_rules=(),
        sensitivity=Sensitivity("public", (), ()),
        fields=Fields(hosts=("vpn.example.com",)),
        log_slice=None,
        summary=summary,
    )


def answer(
    category="vpn",
    p_category=0.9,
    incident=0.1,
    risk=None,
    summary="",
    fields=None,
):
    high = incident >= 0.5
    return ModelAnswer(
        category=category,
        priority="P1" if high else "P3",
        risk=risk or ("high" if high else "low"),
        risk_reasons=["P(incident)"] if high else [],
        summary=summary,
        fields=fields or ExtractedFields(),
        escalate=high,
        confidence=round(100 * p_category),
        label_probabilities={category: p_category},
        incident_probability=incident,
    )


def rows(proposals: int, correct: int) -> tuple[Measured, ...]:
    return tuple(Measured(t, proposals, correct) for t in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95))


def profile(category=(20, 19), risk=(20, 19)) -> TrustProfile:
    return TrustProfile(
        model="m.gguf",
        template="triage@v2",
        labels="dev",
        tickets=100,
        category=rows(*category),
        risk_raise=rows(*risk),
    )


TRUSTED = profile()
WOLF = profile(risk=(90, 30))  # a model that says high everywhere: right a third of the time


def gate(trust=TRUSTED, crying_wolf=False, text=TICKET):
    return Gate(text, INSTRUCTIONS, trust, TrustBars(), crying_wolf)


@pytest.mark.parametrize(
    ("rules", "model", "trust", "expected"),
    [
        (verdict("other"), answer("vpn", 0.9), TRUSTED, "vpn"),
        (verdict("other"), answer("vpn", 0.3), TRUSTED, "other"),  # below min_confidence
        (verdict("email"), answer("security", 0.8), TRUSTED, "security"),
        (verdict("email", confident=True), answer("security", 1.0), TRUSTED, "email"),
        (verdict("printer"), answer("other", 1.0), TRUSTED, "printer"),
        (verdict("other"), answer("vpn", 0.9), None, "other"),  # no profile: a note
        (verdict("other"), answer("vpn", 0.9), profile(category=(20, 8)), "other"),
        (verdict("other"), answer("vpn", 0.9), profile(category=(3, 3)), "other"),  # too few
    ],
)
def test_a_category_changes_only_where_the_rules_were_unsure_and_trust_is_earned(
    rules, model, trust, expected
):
    refined = gate_answer(rules, model, gate(trust))
    assert refined.category == expected
    if expected == rules.category and model.category not in (rules.category, "other"):
        assert rules.category_confident or model.confidence < 60 or refined.review


@pytest.mark.parametrize(
    ("rules_risk", "model", "trust", "wolf", "expected"),
    [
        ("high", answer(incident=0.0, risk="high"), TRUSTED, False, "high"),  # never lowered
        ("medium", answer(incident=0.1, risk="medium"), TRUSTED, False, "medium"),
        ("low", answer(incident=0.97), TRUSTED, False, "high"),  # earned: raised
        ("low", answer(incident=0.97), None, False, "low"),  # no profile
        ("low", answer(incident=0.97), WOLF, False, "low"),  # a third right: not earned
        ("low", answer(incident=0.97), TRUSTED, True, "low"),  # crying wolf: held back
        ("low", answer(incident=0.0, risk="high"), TRUSTED, False, "low"),  # no probability
    ],
)
def test_risk_is_raised_only_on_earned_trust_and_never_lowered(
    rules_risk, model, trust, wolf, expected
):
    rules = verdict(
        risk=rules_risk, priority={"high": "P1", "medium": "P2", "low": "P3"}[rules_risk]
    )
    refined = gate_answer(rules, model, gate(trust, crying_wolf=wolf))
    assert refined.risk == expected
    raised = expected != rules_risk
    assert refined.escalate == raised and (refined.priority == "P1") == (expected == "high")
    if model.risk != rules_risk and not raised:
        assert any("suggests risk high" in note for note in refined.review)


def test_the_earned_probability_is_the_lowest_threshold_that_passes_the_bar():
    measured = (
        Measured(0.5, 40, 20),
        Measured(0.7, 20, 15),
        Measured(0.9, 10, 9),
        Measured(0.95, 3, 3),  # right every time, but too few to count
    )
    assert earned_threshold(measured, TrustBars(min_precision=0.8)) == 0.9
    assert earned_threshold(measured, TrustBars(min_precision=0.7)) == 0.7
    assert earned_threshold(measured, TrustBars(min_precision=0.95)) is None
    refined = gate_answer(verdict(), answer(incident=0.8), gate(profile(risk=(0, 0))))
    assert refined.risk == "low"


@pytest.mark.parametrize(
    ("kind", "value", "ok"),
    [
        ("ips", "10.0.0.12", True),
        ("ips", "10.0.0.999", False),
        ("hosts", "vpn.example.com", True),
        ("hosts", "10.0.0.12", False),
        ("hosts", "the vpn", False),
        ("error_codes", "809", True),
        ("error_codes", "0x80070005", True),
        ("error_codes", "error", False),
        ("applications", "AnyConnect", True),
        ("applications", "x" * 80, False),
        ("devices", "LT-4411", True),
        ("devices", "1234", False),
    ],
)
def test_an_extracted_value_must_have_the_fields_format(kind, value, ok):
    assert has_format(kind, value) is ok


def test_extracted_values_not_in_the_ticket_are_dropped():
    fields = ExtractedFields(
        ips=["10.0.0.12", "192.168.1.1"],
        applications=["AnyConnect", "Outlook"],
        devices=["LT-4411", "printer"],
    )
    refined = gate_answer(verdict(), answer(fields=fields), gate())
    assert refined.fields.ips == ("10.0.0.12",)
    assert refined.fields.applications == ("AnyConnect",)
    assert refined.fields.devices == ("LT-4411",)
    assert refined.fields.hosts == ("vpn.example.com",)  # the rules' own stay
    assert grounded_values("hosts", ["VPN.example.com"], gate()) == ["VPN.example.com"]


@pytest.mark.parametrize(
    ("summary", "taken"),
    [
        ("AnyConnect drops every 10 minutes with error 809; cannot work from home.", True),
        ("One short sentence saying what the user needs.", False),  # the prompt's words
        ("The first-line triage assistant of an IT helpdesk answers in JSON.", False),
        ("Printer toner is empty on the third floor.", False),  # not this ticket
        ("VPN", False),  # too short to say anything
        ("", False),
    ],
)
def test_a_summary_is_taken_only_when_grounded_in_the_tickets_words(summary, taken):
    assert grounded_summary(summary, TICKET, INSTRUCTIONS) is taken
    refined = gate_answer(verdict(summary="rules"), answer(summary=summary), gate())
    assert refined.summary == (summary if taken else "rules")


def test_the_crying_wolf_guard_trips_above_the_share_and_recovers_when_it_falls():
    guard = WolfGuard(window=10, limit=0.3, min_seen=5)
    for _ in range(4):
        guard = guard.observe(True)
    assert not guard.tripped  # too few answers yet to judge
    guard = guard.observe(True)
    assert guard.tripped and guard.state() == {
        "tripped": True,
        "raises": 5,
        "seen": 5,
        "share": 1.0,
        "limit": 0.3,
    }
    for _ in range(7):
        guard = guard.observe(False)
    assert guard.state()["seen"] == 10 and guard.tripped  # 3 of 10: at the limit, still held
    guard = guard.observe(False)
    assert not guard.tripped  # 2 of the last 10: below 0.8 x the limit, it speaks again
    assert "raised risk on 2 of the last 10" in guard.describe()


def test_a_profile_round_trips_and_holds_only_for_its_model_and_prompt(tmp_path: Path):
    path = tmp_path / "trust.json"
    path.write_text(TRUSTED.to_json())
    loaded = load_trust(path)
    assert loaded == TRUSTED
    assert trust_for(loaded, "m.gguf", "triage@v2") == TRUSTED
    assert trust_for(loaded, "other.gguf", "triage@v2") is None
    assert trust_for(loaded, "m.gguf", "triage@v1") is None
    assert load_trust(None) is None
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="trust_profile"):
        load_trust(path)


@pytest.mark.parametrize(
    ("rules", "asked"),
    [
        (verdict("other"), {"category", "incident"}),
        (verdict("vpn", confident=True), {"incident"}),
        (verdict("other", risk="high", priority="P1"), {"category"}),
        (verdict("vpn", confident=True, risk="high", priority="P1"), set()),
    ],
)
def test_the_model_is_asked_only_where_the_rules_are_unsure(rules, asked):
    assert questions_for(rules) == asked
