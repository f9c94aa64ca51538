"""The paid tier through the real `anthropic` SDK, against a loopback Messages API stand-in."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from models.paid import PaidModel
from models.prompt import load_prompt
from tests.conftest import mail, raw
from tests.standins.anthropic_api import MessagesStandIn
from triage.breaker import Breaker
from triage.compose.app import build_pipeline
from triage.costs import Price, Usage, cost_usd, worst_case_usd
from triage.delivery.outbox import Outbox
from triage.records import LedgerEntry, month_window
from triage.tiers.paid import EscalationPolicy, Escalator

PRICE = Price(3.0, 15.0, 0.3, 3.75)
SECRET_CARD = "4111 1111 1111 1111"
PHISHING = mail(
    "Phishing: I clicked a link and typed my password",
    f"I entered password: Hunter2!xyz on the fake page and my card {SECRET_CARD}.\n"
    "Call me at +49 170 1234567.\n\nOn Mon, Bob <bob@example.com> wrote:\n> quoted original",
)


@pytest.fixture
def api() -> Iterator[MessagesStandIn]:
    stand_in = MessagesStandIn().start()
    yield stand_in
    stand_in.stop()


class Waits:
    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def escalator(api, store, clock, waits=None, budget=50.0, attempts=3, timeout=5.0, breaker=None):
    waits = waits or Waits()
    model = PaidModel(
        "claude-sonnet-4-6",
        load_prompt("analysis"),
        api_key="sk-ant-test-key",
        base_url=api.base_url,
        max_tokens=1024,
        timeout_seconds=timeout,
    )
    return Escalator(
        model,
        PRICE,
        store,
        EscalationPolicy(budget, attempts, 30.0),
        breaker or Breaker(3, 300),
        clock,
        waits.monotonic,
        waits.sleep,
    )


def pipeline(settings, store, clock, paid):
    return build_pipeline(settings, store, Outbox(settings.outbox.dir), clock, escalator=paid)


def test_a_high_risk_ticket_gets_a_structured_analysis_from_the_paid_tier(
    api, settings, store, clock
):
    result = (
        pipeline(settings, store, clock, escalator(api, store, clock)).handle(raw(PHISHING)).result
    )
    assert result.route.tier == "paid" and "risk high -> paid" in result.route.reason
    assert result.escalation is not None
    assert result.escalation["severity"] == "high" and result.escalation["next_steps"]
    assert result.escalation["draft_reply"] and result.escalation["model"] == "claude-sonnet-4-6"
    [row] = store.ledger_for(result.id)
    usage = Usage(input_tokens=900, output_tokens=180, cache_read_tokens=600)
    assert (row.tier, row.template, row.outcome) == ("paid", "analysis", "ok")
    assert (row.tokens_in, row.tokens_out, row.cached_tokens) == (1500, 180, 600)
    assert row.usd == pytest.approx(cost_usd(PRICE, usage))
    assert result.cost.usd == pytest.approx(row.usd)


def test_what_leaves_the_machine_is_the_redacted_compact_context(api, settings, store, clock):
    pipeline(settings, store, clock, escalator(api, store, clock)).handle(raw(PHISHING))
    [request] = api.messages()
    sent = json.dumps(request.body)
    for secret in (
        "Hunter2!xyz",
        SECRET_CARD,
        "4111111111111111",
        "+49 170 1234567",
        "ann@example.com",
        "quoted original",
    ):
        assert secret not in sent
    assert "[CREDENTIAL:password]" in sent and "[CARD]" in sent and "[PHONE]" in sent
    system = request.body["system"]
    assert system[0]["cache_control"] == {"type": "ephemeral"}
    assert "Phishing" not in system[0]["text"]  # nothing of the ticket in the system prompt
    assert request.body["tool_choice"] == {"type": "tool", "name": "record_analysis"}
    assert (
        request.headers.get("Authorization", "").endswith("sk-ant-test-key")
        or request.headers.get("X-Api-Key") == "sk-ant-test-key"
    )


def test_a_low_risk_ticket_never_reaches_the_paid_tier(api, settings, store, clock):
    result = (
        pipeline(settings, store, clock, escalator(api, store, clock))
        .handle(raw(mail("Printer", "toner low")))
        .result
    )
    assert result.route.tier == "rules" and api.messages() == []


@pytest.mark.parametrize("failure", ["429", "529", "500"])
def test_transient_failures_are_retried_with_a_capped_wait_and_every_attempt_booked(
    api, settings, store, clock, failure
):
    api.script.extend([failure, failure])
    api.retry_after = "3600"  # an hour: never obeyed past the cap
    waits = Waits()
    result = (
        pipeline(settings, store, clock, escalator(api, store, clock, waits))
        .handle(raw(PHISHING))
        .result
    )
    assert result.route.tier == "paid"
    assert waits.waits == [30.0, 30.0]
    assert [row.outcome for row in store.ledger_for(result.id)] == ["retryable", "retryable", "ok"]
    assert [a.ok for a in result.route.attempts if a.tier == "paid"] == [False, False, True]


def test_a_bad_request_is_never_retried(api, settings, store, clock):
    api.script.append("400")
    result = (
        pipeline(settings, store, clock, escalator(api, store, clock)).handle(raw(PHISHING)).result
    )
    assert len(api.messages()) == 1
    assert result.escalation is None and any("HTTP 400" in n for n in result.needs_review)


def test_a_timeout_after_sending_is_booked_as_possibly_billed_at_the_worst_case(
    api, settings, store, clock
):
    api.script.extend(["hang"])
    api.hang_seconds = 3
    paid = escalator(api, store, clock, attempts=1, timeout=1.0)
    result = pipeline(settings, store, clock, paid).handle(raw(PHISHING)).result
    [row] = store.ledger_for(result.id)
    assert row.outcome == "unknown: possibly billed"
    assert row.usd > 0 and row.usd == pytest.approx(result.cost.usd)
    assert row.usd >= worst_case_usd(PRICE, 1, 1024)


def test_an_exhausted_budget_makes_no_call_and_the_ticket_needs_review(api, settings, store, clock):
    since, _ = month_window(clock(), "UTC")
    store.book(
        LedgerEntry(
            since, None, "security", "paid", "m", "analysis", "1", 0, 0, 0, 0, 49.99, 49.99, "ok"
        )
    )
    result = (
        pipeline(settings, store, clock, escalator(api, store, clock, budget=50.0))
        .handle(raw(PHISHING))
        .result
    )
    assert api.messages() == []
    assert any("paid budget exhausted" in note for note in result.needs_review)
    assert result.risk == "high" and result.escalation is None


def test_a_failing_backend_is_cooled_down_so_an_outage_costs_one_attempt_per_cooldown(
    api, settings, store, clock
):
    api.script.extend(["500"] * 100)
    waits = Waits()
    paid = escalator(api, store, clock, waits, attempts=1, breaker=Breaker(2, 300))
    flow = pipeline(settings, store, clock, paid)
    tickets = [PHISHING.replace("Phishing:", f"Phishing #{n}:") for n in range(7)]
    results = [
        flow.handle(raw(ticket, name=f"{n}.eml")).result for n, ticket in enumerate(tickets[:6])
    ]
    assert len(api.messages()) == 2  # then the breaker is open
    assert all(r.risk == "high" for r in results)
    assert any("cooling down" in note for note in results[-1].needs_review)
    waits.now += 301  # the cool-down has passed: one trial
    flow.handle(raw(tickets[6], name="later.eml"))
    assert len(api.messages()) == 3


def test_a_dry_run_spends_nothing(api, settings, store, clock):
    flow = build_pipeline(
        settings, store, None, clock, escalator=escalator(api, store, clock), dry_run=True
    )
    result = flow.handle(raw(PHISHING)).result
    assert api.messages() == [] and "dry run" in result.needs_review[0]


def test_a_paid_model_without_a_price_is_refused_at_start(tmp_path, capsys):
    from triage.cli.main import EXIT_CONFIG, main

    config = tmp_path / "config.toml"
    config.write_text("[paid]\nenabled = true\nmodel = 'claude-unknown'\napi_key = 'k'\n")
    (tmp_path / "t.txt").write_text("Printer jams")
    assert main(["--config", str(config), "process", str(tmp_path / "t.txt")]) == EXIT_CONFIG
    assert 'pricing."claude-unknown"' in capsys.readouterr().err


def test_month_windows_roll_over_the_year():
    assert month_window(datetime(2026, 12, 31, 23, tzinfo=UTC), "UTC") == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )


def test_the_standin_script_is_reset_between_tests(api):
    assert api.script == deque()


def test_check_reaches_the_paid_api_and_says_what_to_fix(api, tmp_path, capsys):
    from triage.cli.main import main

    config = tmp_path / "config.toml"
    config.write_text(f"[paid]\nenabled = true\napi_key = 'k'\nbase_url = '{api.base_url}'\n")
    assert main(["--config", str(config), "check"]) == 0
    assert "ok   paid tier: claude-sonnet-4-6 (anthropic:127.0.0.1:" in capsys.readouterr().out
    config.write_text("[paid]\nenabled = true\napi_key = 'k'\nbase_url = 'http://127.0.0.1:9'\n")
    assert main(["--config", str(config), "check"]) == 1
    assert "FAIL paid tier" in capsys.readouterr().out


def test_a_storm_of_the_same_incident_is_analysed_once(api, settings, store, clock):
    flow = pipeline(settings, store, clock, escalator(api, store, clock))
    results = [
        flow.handle(
            raw(PHISHING.replace("ann@example.com", f"user{n}@example.com"), name=f"{n}.eml")
        ).result
        for n in range(3)
    ]
    assert len(api.messages()) == 1
    assert all(r.escalation == results[0].escalation for r in results)
    hits = [store.ledger_for(r.id) for r in results[1:]]
    assert all([(row.outcome, row.usd) for row in rows] == [("cache_hit", 0.0)] for rows in hits)
    assert all(rows[0].baseline_usd == pytest.approx(results[0].cost.usd) for rows in hits)


def test_the_worst_case_is_reserved_from_a_token_count(api, settings, store, clock):
    pipeline(settings, store, clock, escalator(api, store, clock)).handle(raw(PHISHING))
    counts = [r for r in api.requests if r.path == "/v1/messages/count_tokens"]
    assert len(counts) == 1 and counts[0].body["system"][0]["text"].startswith("You are")


def test_a_reload_rebuilds_the_paid_client_so_a_changed_setting_applies_without_restart(
    api, make_settings, clock
):
    from triage.compose.app import build_app

    second = MessagesStandIn().start()
    try:
        paid = "[paid]\nenabled = true\napi_key = 'sk-ant-test-key'\nbase_url = '{}'\n"
        app = build_app(make_settings(paid.format(api.base_url)), clock)
        try:
            app.pipeline.handle(raw(PHISHING, name="1.eml"))
            restart = app.apply(make_settings(paid.format(second.base_url)))
            app.pipeline.handle(raw(PHISHING.replace("Hunter2", "Hunter3"), name="2.eml"))
        finally:
            app.close()
    finally:
        second.stop()
    assert "paid" not in restart
    assert len(api.messages()) == 1 and len(second.messages()) == 1


def test_a_sender_flood_still_escalates_a_high_risk_mail_to_the_paid_tier(
    api, make_settings, store, clock
):
    settings = make_settings("[dedup]\nsender_limit_per_hour = 1\n")
    flow = pipeline(settings, store, clock, escalator(api, store, clock))
    for n in range(3):
        result = flow.handle(
            raw(PHISHING.replace("Hunter2", f"Hunter{n}"), name=f"{n}.eml", source="imap:hd/INBOX")
        ).result
    assert any("sender flood" in note for note in result.needs_review)
    assert result.route.tier == "paid" and len(api.messages()) == 3
