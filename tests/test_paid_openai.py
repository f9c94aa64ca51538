"""The paid tier over an OpenAI-compatible API through the real `openai` SDK, against a loopback
chat-completions stand-in; ordered fallbacks inside the one budget and ledger."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.paid_openai import ChatPaidModel
from models.prompt import load_prompt
from tests.conftest import mail, raw
from tests.standins.anthropic_api import MessagesStandIn
from tests.standins.chat_api import ChatStandIn
from triage.breaker import Breaker
from triage.compose.app import build_pipeline
from triage.costs import Price
from triage.delivery.outbox import Outbox
from triage.records import month_window
from triage.tiers.paid import EscalationPolicy, Escalator

GPT = Price(2.0, 8.0, 0.5)  # USD per million: input, output, cached input
FALLBACK = Price(1.0, 4.0)
VALUES = {
    "category": "security",
    "priority": "P1",
    "risk": "high",
    "risk_reasons": "credential entered on a phishing page",
    "summary": "The user typed a password into a phishing page.",
    "ticket": "Subject: Phishing\n\nI clicked a link and typed my password [CREDENTIAL:password].",
    "knowledge": "none: no article answers this ticket",  # the analysis prompt's v2 asks for it
}


@pytest.fixture
def api() -> Iterator[ChatStandIn]:
    stand_in = ChatStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def second() -> Iterator[ChatStandIn]:
    stand_in = ChatStandIn(models=["fallback-model"]).start()
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


def chat_model(api: ChatStandIn, model: str = "gpt-test", timeout: float = 5.0) -> ChatPaidModel:
    return ChatPaidModel(
        model,
        load_prompt("analysis"),
        api_key="sk-test-key",
        base_url=api.base_url,
        max_tokens=1024,
        timeout_seconds=timeout,
    )


def escalator(
    api, store, clock, waits=None, budget=50.0, attempts=3, fallbacks=(), timeout=5.0
) -> Escalator:
    waits = waits or Waits()
    return Escalator(
        chat_model(api, timeout=timeout),
        GPT,
        store,
        EscalationPolicy(budget, attempts, 30.0),
        Breaker(3, 300),
        clock,
        waits.monotonic,
        waits.sleep,
        fallbacks=fallbacks,
    )


def paid_rows(store, ticket="t1"):
    return [row for row in store.ledger_for(ticket) if row.tier == "paid"]


def test_the_analysis_is_asked_for_under_the_json_schema_and_validated(api, store, clock):
    outcome = escalator(api, store, clock).escalate("t1", "security", VALUES)
    assert outcome.analysis is not None and outcome.analysis.severity == "high"
    [request] = api.completions()
    response_format = request.body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["schema"]["additionalProperties"] is False
    assert request.body["messages"][0]["role"] == "system"  # the static part first
    assert request.headers["authorization"] == "Bearer sk-test-key"


def test_cached_tokens_reported_by_the_api_are_booked_at_the_cache_rate(api, store, clock):
    api.usage = {"prompt_tokens": 900, "completion_tokens": 180, "cached": 600}
    outcome = escalator(api, store, clock).escalate("t1", "security", VALUES)
    [row] = paid_rows(store)
    # 300 fresh input tokens at $2, 600 cached at $0.50, 180 output at $8 per million
    assert row.usd == pytest.approx((300 * 2.0 + 600 * 0.5 + 180 * 8.0) / 1e6)
    assert (row.tokens_in, row.tokens_out, row.cached_tokens) == (900, 180, 600)
    assert outcome.cached_tokens == 600


def test_the_ledger_names_the_provider_and_the_model(api, store, clock):
    escalator(api, store, clock).escalate("t1", "security", VALUES)
    [row] = paid_rows(store)
    port = api.base_url.split(":")[2].split("/")[0]
    assert (row.provider, row.model) == (f"openai:127.0.0.1:{port}", "gpt-test")


def test_a_server_without_json_schema_is_asked_for_plain_json_that_is_validated(api, store, clock):
    api.supports_schema = False
    outcome = escalator(api, store, clock).escalate("t1", "security", VALUES)
    assert outcome.analysis is not None
    refused, asked = api.completions()
    assert "response_format" in refused.body and "response_format" not in asked.body
    assert "The JSON schema" in asked.body["messages"][0]["content"]
    assert len(paid_rows(store)) == 1  # the refused request was not billed: one row


def test_a_malformed_answer_is_asked_again_once_and_both_calls_are_booked(api, store, clock):
    api.script.extend(["invalid"])
    outcome = escalator(api, store, clock).escalate("t1", "security", VALUES)
    assert outcome.analysis is not None
    _, second = api.completions()
    assert "not valid" in second.body["messages"][-1]["content"]
    [row] = paid_rows(store)
    assert (row.outcome, row.tokens_in) == ("ok", 1800)  # both requests' tokens


def test_an_answer_malformed_twice_is_not_retried_and_still_costs(api, store, clock):
    api.script.extend(["invalid", "invalid"])
    outcome = escalator(api, store, clock).escalate("t1", "security", VALUES)
    assert outcome.analysis is None and "no JSON object" in (outcome.problem or "")
    assert len(api.completions()) == 2
    [row] = paid_rows(store)
    assert row.outcome == "fatal" and row.usd > 0


def test_a_429_waits_what_retry_after_says_but_never_longer_than_the_cap(api, store, clock):
    waits = Waits()
    api.retry_after = "7"
    api.script.extend(["429"])
    assert escalator(api, store, clock, waits).escalate("t1", "w", VALUES).analysis is not None
    assert waits.waits == [7.0]
    api.retry_after = "3600"
    api.script.extend(["429"])
    assert escalator(api, store, clock, waits).escalate("t2", "w", VALUES).analysis is not None
    assert waits.waits == [7.0, 30.0]


def test_a_500_is_retried_and_every_attempt_booked(api, store, clock):
    api.script.extend(["500", "500"])
    outcome = escalator(api, store, clock).escalate("t1", "w", VALUES)
    assert outcome.analysis is not None
    assert [row.outcome for row in paid_rows(store)] == ["retryable", "retryable", "ok"]
    assert [a.ok for a in outcome.attempts] == [False, False, True]


def test_a_slow_answer_times_out_and_is_booked_as_possibly_billed_at_the_worst_case(
    api, store, clock
):
    api.script.extend(["hang"])
    api.hang_seconds = 2.0
    outcome = escalator(api, store, clock, attempts=1, timeout=0.3).escalate("t1", "w", VALUES)
    assert outcome.analysis is None
    [row] = paid_rows(store)
    assert row.outcome == "unknown: possibly billed" and row.usd > 0


def test_a_fallback_answers_when_the_first_provider_fails_each_booked_at_its_own_price(
    api, second, store, clock
):
    api.script.extend(["500", "500", "500"])
    fallback = (chat_model(second, "fallback-model"), FALLBACK)
    outcome = escalator(api, store, clock, fallbacks=[fallback]).escalate("t1", "w", VALUES)
    assert outcome.analysis is not None
    assert (outcome.model, len(api.completions()), len(second.completions())) == (
        "fallback-model",
        3,
        1,
    )
    rows = paid_rows(store)
    assert [(r.model, r.outcome) for r in rows] == [
        ("gpt-test", "retryable"),
        ("gpt-test", "retryable"),
        ("gpt-test", "retryable"),
        ("fallback-model", "ok"),
    ]
    assert rows[-1].usd == pytest.approx((300 * 1.0 + 600 * 1.0 + 180 * 4.0) / 1e6)
    assert rows[0].usd == 0.0  # a 500 is not billed


def test_a_fallback_chain_under_faults_never_spends_past_the_budget(api, second, store, clock):
    """Timeouts (possibly billed, at the worst case) and 500s on the first provider, the
    fallback answering: every call reserved against one budget, none past it."""
    budget = 0.05
    api.script.extend(["hang", "500", "429"] * 20)
    api.hang_seconds = 0.6
    fallback = (chat_model(second, "fallback-model"), FALLBACK)
    paid = escalator(
        api, store, clock, budget=budget, attempts=2, fallbacks=[fallback], timeout=0.3
    )
    outcomes = [paid.escalate(f"t{n}", "w", VALUES) for n in range(20)]
    since, until = month_window(clock(), "UTC")
    spent = store.spent("paid", since, until)
    assert spent <= budget + 1e-9
    assert any(o.analysis is not None for o in outcomes)
    assert "budget exhausted" in (outcomes[-1].problem or "")
    assert paid_rows(store, "t0")[0].outcome == "unknown: possibly billed"  # the worst case
    with contextlib.closing(sqlite3.connect(store.path)) as db:  # all settled
        assert db.execute("SELECT count(*) FROM reservations").fetchone()[0] == 0


def test_a_provider_cooling_down_is_skipped_and_the_fallback_answers(api, second, store, clock):
    api.script.extend(["500"] * 9)
    fallback = (chat_model(second, "fallback-model"), FALLBACK)
    paid = escalator(api, store, clock, attempts=3, fallbacks=[fallback])
    paid.escalate("t1", "w", VALUES)  # three failures: the first provider's breaker opens
    asked = len(api.completions())
    outcome = paid.escalate("t2", "w", VALUES)
    assert outcome.analysis is not None and len(api.completions()) == asked
    assert paid.healthy()


def test_anthropic_first_and_an_openai_compatible_fallback_share_one_ledger(second, store, clock):
    from models.paid import PaidModel

    anthropic_api = MessagesStandIn().start()
    try:
        anthropic_api.script.extend(["529", "529"])
        first = PaidModel(
            "claude-sonnet-4-6",
            load_prompt("analysis"),
            api_key="sk-ant",
            base_url=anthropic_api.base_url,
            max_tokens=1024,
            timeout_seconds=5,
        )
        paid = Escalator(
            first,
            Price(3.0, 15.0, 0.3, 3.75),
            store,
            EscalationPolicy(50.0, 2, 30.0),
            Breaker(3, 300),
            clock,
            Waits().monotonic,
            Waits().sleep,
            fallbacks=[(chat_model(second, "fallback-model"), FALLBACK)],
        )
        outcome = paid.escalate("t1", "w", VALUES)
    finally:
        anthropic_api.stop()
    assert outcome.analysis is not None and outcome.provider.startswith("openai:")
    assert [r.provider.split(":")[0] for r in paid_rows(store)] == [
        "anthropic",
        "anthropic",
        "openai",
    ]


PHISHING = mail(
    "Phishing: I clicked a link and typed my password",
    "I entered my password on the fake page. Now colleagues get mails from me.",
)


def test_the_result_and_the_monthly_report_name_the_provider_and_model(
    api, second, settings, store, clock
):
    from triage.reporting.build import build_report
    from triage.reporting.data import read_period, report_month

    api.script.extend(["500"] * 3)
    fallback = (chat_model(second, "fallback-model"), FALLBACK)
    paid = escalator(api, store, clock, fallbacks=[fallback])
    flow = build_pipeline(settings, store, Outbox(settings.outbox.dir), clock, escalator=paid)
    result = flow.handle(raw(PHISHING)).result
    assert result.escalation is not None
    assert result.escalation["model"] == "fallback-model"
    assert result.escalation["provider"].startswith("openai:127.0.0.1:")
    window = report_month(clock().year, clock().month, "UTC")
    report = build_report(read_period(store, window, with_tickets=False), []).as_json()
    rows = {(r["provider"].split(":")[0], r["model"]): r for r in report["by_provider_and_model"]}
    assert rows[("openai", "fallback-model")]["calls"] == 1
    assert rows[("openai", "gpt-test")]["calls"] == 3


def config_file(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(text)
    return config


def test_a_fallback_model_without_a_price_is_refused_at_start_naming_the_key(tmp_path, capsys):
    from triage.cli.main import EXIT_CONFIG, main

    config = config_file(
        tmp_path,
        "[paid]\nenabled = true\napi_key = 'k'\n"
        "[[paid.fallback]]\nprovider = 'openai'\nmodel = 'mystery-model'\napi_key = 'k'\n",
    )
    (tmp_path / "t.txt").write_text("Printer jams")
    assert main(["--config", str(config), "process", str(tmp_path / "t.txt")]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "[[paid.fallback]] #1 model = " in err and 'pricing."mystery-model"' in err


def test_check_refuses_a_model_without_a_price_as_bad_configuration(tmp_path, capsys):
    from triage.cli.main import EXIT_CONFIG, main

    config = config_file(
        tmp_path,
        "[paid]\nenabled = true\nprovider = 'openai'\nmodel = 'gpt-unpriced'\napi_key = 'k'\n",
    )
    assert main(["--config", str(config), "check"]) == EXIT_CONFIG
    assert 'pricing."gpt-unpriced"' in capsys.readouterr().out


def test_check_reaches_each_provider_and_says_which_answered(api, tmp_path, capsys):
    from triage.cli.main import main

    config = config_file(
        tmp_path,
        f"[paid]\nenabled = true\nprovider = 'openai'\nmodel = 'gpt-test'\napi_key = 'k'\n"
        f"base_url = '{api.base_url}'\n"
        "[[paid.fallback]]\nprovider = 'openai'\nmodel = 'gpt-test'\napi_key = 'k'\n"
        "base_url = 'http://127.0.0.1:9/v1'\n"
        '[pricing."gpt-test"]\ninput_per_mtok = 2.0\noutput_per_mtok = 8.0\n',
    )
    assert main(["--config", str(config), "check"]) == 1  # a fallback that does not answer
    out = capsys.readouterr().out
    assert "ok   paid tier: gpt-test (openai:127.0.0.1:" in out and "answered" in out
    assert "FAIL paid fallback #1: gpt-test (openai:127.0.0.1:9): did not answer" in out
    assert "1 of 2 providers answered" in out
    assert [r.path for r in api.requests] == ["/v1/models"]  # no generation, nothing spent


def test_a_fallback_key_may_come_from_the_variable_api_key_env_names(tmp_path):
    from triage.config.settings import load_settings, secret_values

    config = config_file(
        tmp_path,
        "[[paid.fallback]]\nprovider = 'openai'\nmodel = 'm'\napi_key_env = 'ROUTER_KEY'\n",
    )
    settings = load_settings(config, {"ROUTER_KEY": "sk-or-secret"}).settings
    key = settings.paid.fallback[0].api_key
    assert key is not None and key.get_secret_value() == "sk-or-secret"
    assert "sk-or-secret" in secret_values(settings)


def test_openai_api_key_is_honoured_for_the_openai_provider_only(tmp_path):
    from triage.config.settings import load_settings

    config = config_file(tmp_path, "[paid]\nprovider = 'openai'\nmodel = 'm'\n")
    environ = {"OPENAI_API_KEY": "sk-openai", "ANTHROPIC_API_KEY": "sk-ant"}
    key = load_settings(config, environ).settings.paid.api_key
    assert key is not None and key.get_secret_value() == "sk-openai"
    config.write_text("[paid]\nmodel = 'm'\n")
    key = load_settings(config, environ).settings.paid.api_key
    assert key is not None and key.get_secret_value() == "sk-ant"
