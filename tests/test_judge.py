"""Model answers through the pipeline and `triage eval`, with stand-in models: one that always
says high (crying wolf) and one that is right. A model decides only what it has earned."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from models.port import ALL_QUESTIONS, ModelCall
from models.schema import ExtractedFields, ModelAnswer
from triage.config.settings import Settings
from triage.evaluation.probe import PROBES, ProbeAnswer, judge_probe
from triage.evaluation.runs import run_labels
from triage.evaluation.scoring import Recording, load_labels, metrics, trust_profile
from triage.tiers.judge import ModelJudge
from triage.tiers.trust import TrustBars, held_back

# Invented words: no rule can know them, only the labels (and the right model) do.
INCIDENT = "the zorblax on my desk went blorp {n} times and the grelm is wibbly"
ORDINARY = "the zorblax on my desk went plink {n} times and the grelm is fine"


def write_set(folder: Path) -> Path:
    lines = []
    for n in range(15):
        high = n % 3 == 0  # a third of the tickets are incidents
        body = (INCIDENT if high else ORDINARY).format(n=n)
        name = f"{n:02d}.txt"
        (folder / name).write_text(f"Zorblax {n}\n\n{body}\n", encoding="utf-8")
        risk = "high" if high else "low"
        lines.append(
            json.dumps({"file": name, "cat": ["other"], "risk": risk, "status": "triaged"})
        )
    labels = folder / "labels.jsonl"
    labels.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return labels


class StandIn:
    """A TicketModel: `says_high(text)` decides its answer; probabilities are its own."""

    template, template_version, provider = "triage", "2", "stand-in"

    def __init__(self, name: str, says_high: Callable[[str], bool]) -> None:
        self.model, self._says_high = name, says_high

    def complete(
        self,
        render: Callable[[int], str],
        category: str,
        risk: str,
        asks: frozenset[str] = ALL_QUESTIONS,
    ) -> ModelCall:
        text = render(4000)
        high = self._says_high(text)
        answer = ModelAnswer(
            category="other",
            priority="P1" if high else "P3",
            risk="high" if high else risk,  # type: ignore[arg-type]
            risk_reasons=["stand-in"] if high else [],
            summary="",
            fields=ExtractedFields(),
            escalate=high,
            confidence=90,
            label_probabilities={"other": 0.9, "vpn": 0.1},
            incident_probability=0.97 if high else 0.03,
        )
        return ModelCall(answer, "ok", 100, 20, 0, 0.01)


def always_high() -> StandIn:
    return StandIn("wolf.gguf", lambda text: True)


def right() -> StandIn:
    return StandIn("right.gguf", lambda text: "blorp" in text)


def settings_with(make_settings: Callable[..., Settings], trust: Path | None) -> Settings:
    extra = "[local]\nwolf_share = 0.5\n"
    if trust is not None:
        extra += f"trust_profile = '{trust}'\n"
    return make_settings(extra)


def measure_and_apply(model: StandIn, make_settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    labels = load_labels(write_set(tmp_path))
    rules = metrics(run_labels(settings_with(make_settings, None), labels, None))
    untrusted = run_labels(settings_with(make_settings, None), labels, Recording(model))
    profile = trust_profile(untrusted, model.model, "triage@v2", "zorblax")
    path = tmp_path / "trust.json"
    path.write_text(profile.to_json())
    trusted = run_labels(settings_with(make_settings, path), labels, Recording(model))
    return rules, untrusted, profile, trusted


def test_a_model_that_always_says_high_never_raises_a_risk(make_settings, tmp_path):
    rules, untrusted, profile, trusted = measure_and_apply(always_high(), make_settings, tmp_path)
    for rows in (untrusted, trusted):
        scores = metrics(rows)
        assert scores["false_high"] == rules["false_high"]
        assert scores["paid_wanted"] == rules["paid_wanted"]
        noted = [r for r in rows if r.result.risk != "high"]
        assert noted and all(
            any("suggests risk high" in note for note in r.result.needs_review) for r in noted
        )
    assert all(row.precision is not None and row.precision < 0.5 for row in profile.risk_raise)


def test_a_right_model_raises_risk_once_its_trust_is_measured(make_settings, tmp_path):
    rules, untrusted, profile, trusted = measure_and_apply(right(), make_settings, tmp_path)
    assert metrics(untrusted)["high_recall"] == rules["high_recall"]  # no profile: notes only
    assert rules["high_recall"] < 1.0  # the invented words are beyond the rules
    scores = metrics(trusted)
    assert scores["high_recall"] == 1.0 and scores["false_high"] == 0.0
    assert all(row.precision == 1.0 for row in profile.risk_raise if row.proposals)
    raised = [r for r in trusted if r.result.risk == "high" and r.label.risks == ("high",)]
    assert all(r.result.route.tier == "local" for r in raised)
    assert all("risk low -> high" in r.result.route.reason for r in raised if r.opinion)


def test_the_crying_wolf_guard_holds_back_even_trusted_raises_and_says_so(make_settings, tmp_path):
    from triage.parsing import MailLimits, parse_ticket
    from triage.rules import evaluate

    limits = MailLimits(1 << 20, 100, 10)
    profile = trust_profile(
        run_labels(
            settings_with(make_settings, None),
            load_labels(write_set(tmp_path)),
            Recording(right()),
        ),
        "wolf.gguf",
        "triage@v2",
        "zorblax",
    )
    judge = ModelJudge(profile, TrustBars(wolf_share=0.3, wolf_window=10), "instructions")
    wolf = always_high()
    refined = []
    for n in range(8):
        ticket = parse_ticket(f"Subject: x{n}\n\nprinter {n} jams".encode(), limits)
        verdict = evaluate(ticket, (), 60)
        call = wolf.complete(lambda room: "printer", verdict.category, verdict.risk)
        assert call.answer is not None
        refined.append(judge.judge(ticket, verdict, call.answer, "wolf.gguf", "triage@v2"))
    assert [r.risk for r in refined[:5]] == ["high"] * 5  # trusted, until it cries wolf
    assert all(r.risk == "low" and not r.escalate for r in refined[5:])
    assert all(held_back(list(r.review)) for r in refined[5:])
    assert not any(held_back(list(r.review)) for r in refined[:5])
    assert judge.state() == {"tripped": True, "raises": 8, "seen": 8, "share": 1.0, "limit": 0.3}


@pytest.mark.parametrize(
    ("answers", "refused"),
    [
        ([(text, benign, not benign, "") for text, benign in PROBES], None),
        ([(text, benign, True, "") for text, benign in PROBES], "ordinary requests high"),
        (
            [
                (text, benign, False, "A summary saying what the user needs, in JSON")
                for text, benign in PROBES
            ],
            "repeat the prompt",
        ),
    ],
)
def test_check_refuses_a_model_that_calls_everything_high_or_parrots_the_prompt(answers, refused):
    instructions = "Answer in JSON: summary is one short sentence saying what the user needs"
    reason = judge_probe([ProbeAnswer(*a) for a in answers], instructions)
    assert (reason is None) if refused is None else (refused in str(reason))


def test_the_pipeline_shows_the_crying_wolf_guard_for_status(make_settings, tmp_path):
    from tests.conftest import mail, raw
    from triage.compose.app import build_pipeline
    from triage.store.dryrun import DryRunStore

    store = DryRunStore(None)
    pipeline = build_pipeline(make_settings(), store, None, local=always_high(), dry_run=True)
    assert not pipeline.model_guard().tripped
    for n in range(6):
        pipeline.handle(raw(mail(f"Printer {n}", f"tray {n} is empty"), name=f"{n}.eml"))
    guard = pipeline.model_guard()
    assert guard.tripped and "raises held back from the paid tier" in guard.describe()
    store.close()


def test_the_guard_remembers_in_the_store_so_a_restarted_daemon_is_still_held(
    make_settings, tmp_path
):
    from tests.conftest import mail, raw
    from triage.compose.app import build_pipeline
    from triage.store.sqlite import SqliteStore

    settings = make_settings()
    store = SqliteStore(tmp_path / "store.sqlite3")
    pipeline = build_pipeline(settings, store, None, local=always_high(), guard_memory=store)
    for n in range(6):
        pipeline.handle(raw(mail(f"Printer {n}", f"tray {n} is empty"), name=f"{n}.eml"))
    assert pipeline.model_guard().tripped
    store.close()
    again = SqliteStore(tmp_path / "store.sqlite3")  # the daemon started again
    restarted = build_pipeline(settings, again, None, local=always_high(), guard_memory=again)
    assert restarted.model_guard().state() == {
        "tripped": True,
        "raises": 6,
        "seen": 6,
        "share": 1.0,
        "limit": 0.5,
    }
    held = restarted.handle(raw(mail("Printer 9", "tray 9 is empty"), name="9.eml"))
    assert held_back(held.result.needs_review)
    again.close()
