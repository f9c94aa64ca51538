from __future__ import annotations

import pytest

from triage.router import Gates, Policy, RouteFacts, decide

ALL = Gates(usable=frozenset({"rules", "local", "runpod", "paid"}))
POLICY = Policy()


def facts(**overrides):
    values = {"risk": "low", "task": "classification", "work_tokens": 800, "sensitivity": "public"}
    values.update(overrides)
    return RouteFacts(**values)


@pytest.mark.parametrize(
    ("case", "tier", "chain"),
    [
        (facts(risk="high"), "paid", ("paid", "runpod", "local", "rules")),
        (facts(risk="medium"), "local", ("local", "rules")),
        (facts(task="summary"), "local", ("local", "rules")),
        (facts(task="bulk", work_tokens=60_000), "runpod", ("runpod", "local", "rules")),
        (
            facts(task="bulk", work_tokens=60_000, sensitivity="internal"),
            "paid",
            ("paid", "local", "rules"),
        ),
        (facts(task="bulk", work_tokens=10), "paid", ("paid", "runpod", "local", "rules")),
        (facts(local_escalate=True), "paid", ("paid", "runpod", "local", "rules")),
        (facts(local_confidence=20), "paid", ("paid", "runpod", "local", "rules")),
        (facts(local_confidence=90), "local", ("local", "rules")),
    ],
)
def test_the_seed_policy(case, tier, chain):
    decision = decide(case, POLICY, ALL)
    assert (decision.tier, decision.chain) == (tier, chain)


def test_restricted_tickets_never_go_to_runpod_even_as_a_fallback():
    decision = decide(facts(risk="high", sensitivity="restricted"), POLICY, ALL)
    assert "runpod" not in decision.chain
    assert "never leave the machine" in decision.reason


def test_a_closed_gate_falls_back_only_to_cheaper_tiers_and_says_why():
    gates = Gates(usable=frozenset({"rules", "local"}), blocked_why={"paid": "budget exhausted"})
    decision = decide(facts(risk="high"), POLICY, gates)
    assert (decision.tier, decision.wanted) == ("local", "paid")
    assert "paid skipped: budget exhausted" in decision.reason
    cheap = decide(facts(), POLICY, Gates(usable=frozenset({"rules", "paid"})))
    assert cheap.tier == "rules"  # local unavailable: never up to paid


def test_the_policy_is_configurable():
    policy = Policy(paid_risks=frozenset({"high", "medium"}), escalate_to_paid=False)
    assert decide(facts(risk="medium"), policy, ALL).tier == "paid"
    assert decide(facts(local_escalate=True), policy, ALL).tier == "local"
