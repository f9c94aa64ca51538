"""The local tier on the real llama.cpp runtime, with a tiny GGUF the tests write themselves.

The model's weights are random: tests assert structure (schema-valid answers, bounds,
booking, prefix reuse, fallbacks), never its wording.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from models.local import CATEGORIES, LocalModel
from models.port import ALL_QUESTIONS, ModelCall
from models.prompt import load_prompt
from models.schema import ModelAnswer, worst_case_tokens
from tests.conftest import mail, raw
from tests.gguf_model import write_model
from triage.case import Case
from triage.compose.app import build_pipeline
from triage.delivery.outbox import Outbox
from triage.errors import ConfigError, LocalModelError, UnfitModelError
from triage.parsing import MailLimits, parse_ticket
from triage.rules import evaluate
from triage.rules.dedup import content_key
from triage.rules.keywords import Rule, compile_rules
from triage.tiers.local import LocalTier

N_CTX, MAX_TOKENS = 8192, 3000  # the tiny model's vocab is byte-level: about a token a char


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture(scope="session")
def model(model_path: Path) -> LocalModel:
    return LocalModel(model_path, load_prompt("triage"), n_ctx=N_CTX, max_tokens=MAX_TOKENS)


def text(body: str):
    return lambda room: f"Subject: ticket\n\n{body}"[:room]


def test_the_model_loads_once_with_half_the_cores_by_default(model):
    cores = len(os.sched_getaffinity(0))  # the cores this process may run on
    assert model.threads == max(1, cores // 2)
    assert model._llm.n_threads == model.threads  # what the llama.cpp runtime was given
    assert (model.template, model.template_version) == ("triage", "2")


def test_a_missing_or_broken_model_file_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(LocalModelError, match=r"nope\.gguf: no such file"):
        LocalModel(tmp_path / "nope.gguf", load_prompt("triage"))
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF not really")
    with pytest.raises(LocalModelError, match=r"broken\.gguf could not be loaded"):
        LocalModel(broken, load_prompt("triage"))


@pytest.mark.parametrize(
    "body",
    ["VPN fails with error 809", "Drucker druckt nicht", "Mon écran est noir", '{"x": 1}\n\x07'],
)
def test_every_call_returns_a_schema_valid_answer(model, body):
    call = model.complete(text(body), "other", "low")
    assert call.outcome == "ok", call.error
    assert isinstance(call.answer, ModelAnswer)
    dumped = call.answer.model_dump_json()
    assert json.loads(dumped)  # strict JSON
    assert not any(ord(char) < 32 for char in call.answer.summary)
    assert call.tokens_in > 0 and 0 < call.tokens_out <= worst_case_tokens()


def test_the_category_and_the_incident_are_scored_probabilities_not_written_numbers(model):
    call = model.complete(text("Outlook keeps asking for my password"), "other", "low")
    answer = call.answer
    assert answer is not None
    probabilities = answer.label_probabilities
    assert set(probabilities) == set(CATEGORIES) and sum(probabilities.values()) == pytest.approx(
        1.0, abs=1e-3
    )
    assert answer.category == max(probabilities, key=lambda label: probabilities[label])
    assert answer.confidence == round(100 * probabilities[answer.category])
    assert answer.incident_probability is not None and 0 <= answer.incident_probability <= 1
    assert (answer.risk == "high") == answer.escalate == (answer.incident_probability >= 0.5)


def test_the_rules_findings_are_not_shown_to_the_model(model):
    """Through the local tier's own path (the case's verdict -> the rendered ticket -> the
    prompt the runtime evaluates): one ticket judged by rules that find nothing and by rules
    that place it (category, risk, team, tags) gives the runtime the same tokens."""
    message = mail("Printer jams on floor 3", "The HP in room 3.14 jams on every job.")
    item = raw(message)
    ticket = parse_ticket(item.data, MailLimits(1_000_000, 100, 10))
    flagged = compile_rules(
        [Rule("sec", ("printer",), category="security", risk="high", team="SOC", tags=("x1",))]
    )
    evaluated = []
    for rules in ((), flagged):
        verdict = evaluate(ticket, rules, 40)
        case = Case.of(item, ticket, verdict, content_key(ticket))
        [call] = LocalTier(model, 1.0).ask(case)
        assert call.outcome == "ok", call.error
        evaluated.append(model._llm.input_ids[: model._llm.n_tokens].tolist())
    plain, placed = evaluated
    assert placed == plain  # the verdict left no trace in what the model read
    seen = model._llm.detokenize(plain).decode("utf-8", "replace")
    assert "room 3.14 jams" in seen  # and the ticket itself is there
    assert "security" not in seen and "SOC" not in seen and "x1" not in seen


def test_the_static_prompt_prefix_is_reused_between_tickets(model):
    model.complete(text("first ticket"), "other", "low")
    second = model.complete(text("a completely different second ticket"), "other", "low")
    one, other = model.prompt_tokens("A", "category"), model.prompt_tokens("B", "category")
    static = next(n for n, (a, b) in enumerate(zip(one, other, strict=False)) if a != b)
    assert second.cached_tokens >= static > 100  # the system text is not evaluated again


def test_a_max_tokens_below_the_largest_answer_is_a_configuration_error(model_path):
    with pytest.raises(UnfitModelError, match="largest answer the schema allows") as caught:
        LocalModel(model_path, load_prompt("triage"), max_tokens=worst_case_tokens() - 1)
    assert isinstance(caught.value, ConfigError)


def test_generation_is_bounded_by_the_deadline(model_path):
    slow = LocalModel(
        model_path,
        load_prompt("triage"),
        n_ctx=N_CTX,
        max_tokens=MAX_TOKENS,
        timeout_seconds=0.0001,
    )
    assert slow.complete(text("printer"), "other", "low").outcome == "timeout"


def test_a_ticket_longer_than_the_context_is_cut_to_fit(model):
    rendered: list[int] = []

    def render(room: int) -> str:
        rendered.append(room)
        return ("Subject: huge\n\n" + "word " * 20_000)[:room]

    call = model.complete(render, "other", "low")
    assert call.outcome == "ok"  # llama.cpp refuses a prompt longer than the context
    assert len(rendered) >= 2 and rendered[-1] < rendered[0]


def test_a_context_too_small_for_the_prompt_overflows_cleanly(model_path):
    n_ctx = worst_case_tokens() + 256
    tiny_ctx = LocalModel(
        model_path, load_prompt("triage"), n_ctx=n_ctx, max_tokens=worst_case_tokens()
    )
    call = tiny_ctx.complete(text("printer"), "other", "low")
    assert call.outcome == "overflow" and f"n_ctx={n_ctx}" in call.error


def pipeline_with(model, settings, store, clock):
    return build_pipeline(settings, store, Outbox(settings.outbox.dir), clock, local=model)


def test_a_triaged_ticket_is_refined_by_the_local_tier_and_booked(model, settings, store, clock):
    pipeline = pipeline_with(model, settings, store, clock)
    result = pipeline.handle(
        raw(mail("Something odd", "The thing does not work since today"))
    ).result
    assert result.route.tier == "local"
    assert [(a.tier, a.ok) for a in result.route.attempts] == [("rules", True), ("local", True)]
    [row] = store.ledger_for(result.id)
    assert (row.tier, row.template, row.template_version, row.outcome) == (
        "local",
        "triage",
        "2",
        "ok",
    )
    assert row.model == "tiny.gguf" and row.tokens_in > 0 and row.tokens_out > 0
    assert row.seconds > 0 and row.usd == 0.0
    assert (result.cost.tokens_in, result.cost.tokens_out) == (row.tokens_in, row.tokens_out)
    assert result.cost.cached_tokens == row.cached_tokens
    assert row.workflow == result.workflow == result.category


class Invalid:
    """The real model's name and prompt, with an answer that failed validation."""

    def __init__(self, model: LocalModel) -> None:
        self.model, self.template = model.model, model.template
        self.provider = model.provider
        self.template_version = model.template_version

    def complete(self, render, category, risk, asks=ALL_QUESTIONS):
        return ModelCall(None, "invalid", 100, 40, 0, 0.1, "schema: summary: too long")


def test_an_invalid_answer_is_retried_once_then_the_rules_result_stands(
    model, settings, store, clock
):
    pipeline = pipeline_with(Invalid(model), settings, store, clock)
    result = pipeline.handle(raw(mail("VPN down", "AnyConnect error 809"))).result
    assert (result.route.tier, result.category) == ("rules", "vpn")
    assert [(a.tier, a.ok) for a in result.route.attempts] == [
        ("rules", True),
        ("local", False),
        ("local", False),
    ]
    assert any("local model gave no answer" in note for note in result.needs_review)
    assert [row.outcome for row in store.ledger_for(result.id)] == ["invalid", "invalid"]


def test_a_timeout_is_not_retried(model_path, settings, store, clock):
    slow = LocalModel(
        model_path,
        load_prompt("triage"),
        n_ctx=N_CTX,
        max_tokens=MAX_TOKENS,
        timeout_seconds=0.0001,
    )
    result = pipeline_with(slow, settings, store, clock).handle(raw(mail("x", "y"))).result
    assert [row.outcome for row in store.ledger_for(result.id)] == ["timeout"]
    assert result.needs_review


def test_ignored_and_duplicate_tickets_never_reach_the_model(model, settings, store, clock):
    pipeline = pipeline_with(model, settings, store, clock)
    ignored = pipeline.handle(
        raw(mail("Auto", "away", headers="Auto-Submitted: auto-replied"), name="a.eml")
    ).result
    assert ignored.route.tier == "rules" and store.ledger_for(ignored.id) == []


def test_process_with_a_configured_model_that_is_missing_fails_naming_the_file(tmp_path, capsys):
    from triage.cli.main import main

    config = tmp_path / "config.toml"
    config.write_text("[local]\nenabled = true\nmodel_path = 'models/missing.gguf'\n")
    (tmp_path / "t.txt").write_text("Printer jams")
    assert main(["--config", str(config), "process", str(tmp_path / "t.txt")]) == 1
    assert "missing.gguf" in capsys.readouterr().err


def test_check_tries_the_model_and_refuses_one_that_calls_everything_high(
    model_path, tmp_path, capsys
):
    from triage.cli.main import main

    config = tmp_path / "config.toml"
    config.write_text("")
    main(["--config", str(config), "check"])
    assert "ok   local model: not configured" in capsys.readouterr().out
    # The tiny model's weights are random: it says "yes, an incident" to every probe ticket.
    config.write_text(f"[local]\nenabled = true\nmodel_path = '{model_path}'\nn_ctx = {N_CTX}\n")
    assert main(["--config", str(config), "check"]) == 78
    out = capsys.readouterr().out
    assert "FAIL local model:" in out and "loads" in out
    assert "refused: it called 3 of 3 ordinary requests high risk" in out


def test_a_gguf_without_a_chat_template_is_a_configuration_error(tmp_path, capsys):
    from triage.cli.main import main

    base = write_model(tmp_path / "base.gguf", chat_template=None)
    config = tmp_path / "config.toml"
    config.write_text(f"[local]\nenabled = true\nmodel_path = '{base}'\n")
    (tmp_path / "t.txt").write_text("Printer jams")
    assert main(["--config", str(config), "process", str(tmp_path / "t.txt")]) == 78
    assert "no chat template" in capsys.readouterr().err
    assert main(["--config", str(config), "check"]) == 78
    assert "base.gguf has no chat template" in capsys.readouterr().out


class Counting:
    """The real model, counting calls (the cache must spare them)."""

    def __init__(self, model: LocalModel) -> None:
        self.inner, self.calls = model, 0
        self.model, self.template = model.model, model.template
        self.provider = model.provider
        self.template_version = model.template_version

    def complete(self, render, category, risk, asks=ALL_QUESTIONS):
        self.calls += 1
        return self.inner.complete(render, category, risk, asks)


def test_a_storm_of_identical_reports_is_answered_once_and_linked(model, settings, store, clock):
    counting = Counting(model)
    pipeline = pipeline_with(counting, settings, store, clock)
    body = "The intranet portal shows error 502 since 9:00."
    results = []
    for n in range(5):
        report = mail("Portal down", body, sender=f"user{n}@example.com")
        results.append(pipeline.handle(raw(report, name=f"{n}.eml")).result)
        if n == 0:
            calls_for_the_first = counting.calls  # 1, or 2 when the first answer was retried
    assert counting.calls == calls_for_the_first  # the other four: no call at all
    first = results[0]
    assert all(r.cache_of == first.id for r in results[1:]) and first.cache_of is None
    assert all(r.category == first.category and r.summary == first.summary for r in results)
    hits = [store.ledger_for(r.id) for r in results[1:]]
    assert all([row.outcome for row in rows] == ["cache_hit"] for rows in hits)
    assert all(rows[0].usd == 0 and rows[0].baseline_usd > 0 for rows in hits)
    assert all("cached answer of " + first.id in r.route.reason for r in results[1:])


def test_cached_answers_are_scoped_by_sensitivity(model, settings, store, clock):
    counting = Counting(model)
    pipeline = pipeline_with(counting, settings, store, clock)
    # The same words once the text is normalised, but one holds a phone number (internal).
    public = pipeline.handle(
        raw(mail("Portal", "error 502, ref 49 170 1234567"), name="a.eml")
    ).result
    internal = pipeline.handle(
        raw(
            mail("Portal", "error 502, ref +49 170 1234567", sender="bob@example.com"), name="b.eml"
        )
    ).result
    assert (public.sensitivity.level, internal.sensitivity.level) == ("public", "internal")
    assert counting.calls == 2 and internal.cache_of is None


def test_a_question_not_asked_leaves_the_rules_answer(model):
    call = model.complete(text("VPN error 809 again"), "vpn", "high", frozenset())
    answer = call.answer
    assert call.outcome == "ok" and answer is not None
    assert (answer.category, answer.risk, answer.escalate) == ("vpn", "high", False)
    assert answer.label_probabilities == {} and answer.incident_probability is None


def test_the_largest_answer_the_schema_allows_fits_the_default_max_tokens(model):
    from models.local import strict_grammar_text
    from models.schema import largest_answer
    from triage.config.settings import load_settings

    assert worst_case_tokens() <= load_settings(None, {}).settings.local.max_tokens
    # On a byte-level vocabulary a token is about a byte: the bound holds there too, even
    # with every character a four-byte one.
    widest = largest_answer().replace("x", "\U0001f600")
    assert len(model._llm.tokenize(widest.encode(), add_bos=False)) <= worst_case_tokens()
    assert "\\x00-\\x1F" in strict_grammar_text()  # one line, no control characters


@pytest.mark.parametrize(
    ("local_tasks", "subject", "body", "asked"),
    [
        # The rules are unsure of the category: the task is classification.
        ('["classification", "extraction", "summary"]', "Something odd", "It broke", True),
        ('["summary"]', "Something odd", "It broke", False),
        # A category the rules are sure of: only a summary is wanted from the model.
        ('["summary"]', "VPN down", "AnyConnect fails with error 809", True),
        ("[]", "VPN down", "AnyConnect fails with error 809", False),
    ],
)
def test_the_local_model_is_asked_only_for_the_tasks_in_local_tasks(
    model, make_settings, store, clock, local_tasks, subject, body, asked
):
    settings = make_settings(f"[routing]\nlocal_tasks = {local_tasks}\n")
    result = pipeline_with(model, settings, store, clock).handle(raw(mail(subject, body))).result
    tiers = [attempt.tier for attempt in result.route.attempts]
    assert ("local" in tiers) == asked
    assert bool(store.ledger_for(result.id)) == asked
    if not asked:
        assert result.route.tier == "rules"
