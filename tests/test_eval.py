"""`triage eval` on the labelled set shipped in tests/labels (realistic helpdesk traffic)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage.cli.main import main
from triage.costs import Price
from triage.evaluation.scoring import Label, Scored, load_labels, metrics, score
from triage.result import Result, Route

LABELS = Path(__file__).parent / "labels" / "labels.jsonl"


def test_the_labelled_set_is_scored_per_field_tier_tokens_and_cost(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text("")
    assert main(["--config", str(config), "eval", "--json", str(LABELS)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tickets"] == len(load_labels(LABELS)) >= 70
    assert report["accuracy"]["category"] >= 0.9 and report["accuracy"]["risk"] >= 0.9
    assert report["accuracy"]["status"] == 1.0 and report["accuracy"]["tags"] >= 0.9
    assert report["never_paid_share"] >= 0.85
    assert report["paid_tokens_per_escalation"] < 0.4 * report["raw_tokens_per_escalation"]
    assert report["cost_per_1000_usd"] < 0.1 * report["baseline_per_1000_usd"]
    assert not (tmp_path / "var").exists()  # a dry run: nothing written


def test_the_text_report_names_the_misses(tmp_path, capsys):
    labels = tmp_path / "labels.jsonl"
    (tmp_path / "t.txt").write_text("Printer jams on floor 2")
    labels.write_text(
        json.dumps(
            {"file": "t.txt", "category": "vpn", "risk": "low", "status": "triaged", "tags": []}
        )
        + "\n"
    )
    config = tmp_path / "config.toml"
    config.write_text("")
    assert main(["--config", str(config), "eval", str(labels)]) == 0
    out = capsys.readouterr().out
    assert "accuracy category    0.0%" in out and "t.txt: category printer (expected vpn)" in out
    assert "high_recall" in out and "rules" in out  # the README's metrics, per run


def test_scoring_is_a_pure_function_of_the_rows():
    def row(tier: str, wanted: str | None, raw_tokens: int) -> Scored:
        result = result_of("other", "low", tier=tier, wanted=wanted)
        label = Label(Path("x"), ("other",), ("low",), "triaged", frozenset())
        return Scored(label, result, raw_tokens=raw_tokens, paid_tokens=100)

    report = score([row("rules", None, 1000), row("rules", "paid", 1000)], Price(1, 10), 0)
    assert report.escalated == 1 and report.never_paid_share == 0.5
    assert report.paid_tokens_per_escalation == 100 and report.raw_tokens_per_escalation == 1000
    assert report.accuracy["category"] == 1.0


DEV_LINES = [
    {"file": "a.txt", "status": "triaged", "cat": ["vpn", "network"], "risk": "low", "tags": []},
    {"file": "b.txt", "status": "triaged", "cat": ["security"], "risk": "high", "tags": []},
    {"file": "c.txt", "status": "triaged", "cat": ["email"], "risk": ["low", "high"], "tags": []},
    {"file": "d.txt", "status": "ignored", "cat": [], "risk": None, "tags": [], "group": "auto"},
]


def test_the_development_sets_label_format_is_read_as_it_is(tmp_path):
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps(line) for line in DEV_LINES) + "\n")
    a, b, c, d = load_labels(labels)
    assert a.categories == ("vpn", "network") and a.risks == ("low",) and a.never_high
    assert b.must_be_high and not b.never_high
    assert c.risks == ("low", "high") and not c.must_be_high and not c.never_high
    assert d.risks == () and d.categories == () and d.group == "auto" and not d.never_high


def result_of(
    category: str, risk: str, status: str = "triaged", tier: str = "rules", wanted=None
) -> Result:
    return Result(
        id="t",
        source="cli",
        source_ref="x",
        message_id=None,
        received_at="2026-11-02T09:00:00Z",
        sender=None,
        subject="s",
        status=status,
        status_reason=None,
        workflow="other",
        category=category,
        risk=risk,
        route=Route(tier=tier, reason="r", wanted=wanted),
    )


@pytest.mark.parametrize(
    ("predicted", "expected"),
    [
        (
            [("network", "low"), ("security", "high"), ("email", "high"), ("other", "low")],
            {"category": 1.0, "high_recall": 1.0, "false_high": 0.0, "status": 0.75},
        ),
        (
            [("vpn", "high"), ("other", "medium"), ("email", "low"), ("other", "low")],
            {"category": 2 / 3, "high_recall": 0.0, "false_high": 1.0, "status": 0.75},
        ),
    ],
)
def test_the_readme_metrics_count_acceptable_answers(tmp_path, predicted, expected):
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps(line) for line in DEV_LINES) + "\n")
    rows = [
        Scored(label, result_of(cat, risk), 10, 5)
        for label, (cat, risk) in zip(load_labels(labels), predicted, strict=True)
    ]
    scores = metrics(rows)
    assert {key: scores[key] for key in expected} == pytest.approx(expected)


def test_saving_a_trust_profile_needs_a_local_model(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text("")
    code = main(["--config", str(config), "eval", str(LABELS), "--save-trust", "t.json"])
    assert code == 2 and "needs a local model" in capsys.readouterr().err
