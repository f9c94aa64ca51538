from __future__ import annotations

import pytest

from triage.tiers.router import Decision, Gates, Policy, RouteFacts, decide, offloaded

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


@pytest.mark.parametrize(
    ("policy", "case", "tier"),
    [
        # local_tasks: a task the local tier does not do goes past it.
        (Policy(local_tasks=frozenset()), facts(task="classification"), "paid"),
        (Policy(local_tasks=frozenset({"summary"})), facts(task="summary"), "local"),
        (Policy(local_tasks=frozenset({"summary"})), facts(task="classification"), "paid"),
        # runpod_min_tokens: work above it (at a level Runpod may see) goes to Runpod.
        (Policy(local_tasks=frozenset()), facts(task="bulk", work_tokens=60_000), "runpod"),
        (
            Policy(local_tasks=frozenset(), runpod_min_tokens=100_000),
            facts(task="bulk", work_tokens=60_000),
            "paid",
        ),
        (Policy(runpod_min_tokens=1_000), facts(task="bulk", work_tokens=1_001), "runpod"),
        (Policy(runpod_min_tokens=1_000), facts(task="bulk", work_tokens=999), "paid"),
        # A backlog too long for the local model goes to Runpod, public work only.
        (POLICY, facts(backlog=True), "runpod"),
        (POLICY, facts(backlog=True, sensitivity="internal"), "local"),
    ],
)
def test_local_tasks_runpod_min_tokens_and_the_backlog_act_as_documented(policy, case, tier):
    assert decide(case, policy, ALL).tier == tier


def test_a_sender_flood_withholds_model_spend_but_high_risk_still_escalates():
    flood = "sender flood: more than 30 mails from form@example.com within an hour"
    low = decide(facts(withheld=flood), POLICY, ALL)
    assert (low.tier, low.chain) == ("rules", ("rules",))
    assert "model spend withheld" in low.reason
    high = decide(facts(risk="high", withheld=flood), POLICY, ALL)
    assert high.tier == "paid" and high.chain == ("paid", "rules")


@pytest.mark.parametrize(
    ("decision_tier", "backlog", "expected"),
    [("runpod", False, True), ("paid", True, True), ("paid", False, False), ("local", True, False)],
)
def test_runpod_answers_ahead_only_when_chosen_or_below_paid_in_a_backlog(
    decision_tier, backlog, expected
):
    chains = {"runpod": ("runpod", "local", "rules"), "paid": ("paid", "runpod", "local", "rules")}
    decision = Decision(decision_tier, decision_tier, "", chains.get(decision_tier, ("local",)))
    assert offloaded(decision, facts(backlog=backlog)) == expected
