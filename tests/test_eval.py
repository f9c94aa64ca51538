"""`triage eval` on the labelled set shipped in tests/labels (realistic helpdesk traffic)."""

from __future__ import annotations

import json
from pathlib import Path

from triage.cli import main
from triage.costs import Price
from triage.evaluation import Label, Scored, load_labels, score
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


def test_scoring_is_a_pure_function_of_the_rows():
    def row(tier: str, wanted: str | None, raw_tokens: int) -> Scored:
        result = Result(
            id="t",
            source="cli",
            source_ref="x",
            message_id=None,
            received_at="2026-11-02T09:00:00Z",
            sender=None,
            subject="s",
            status="triaged",
            status_reason=None,
            workflow="other",
            route=Route(tier=tier, reason="r", wanted=wanted),
        )
        label = Label(Path("x"), "other", "low", "triaged", frozenset())
        return Scored(label, result, raw_tokens=raw_tokens, paid_tokens=100)

    report = score([row("rules", None, 1000), row("rules", "paid", 1000)], Price(1, 10), 0)
    assert report.escalated == 1 and report.never_paid_share == 0.5
    assert report.paid_tokens_per_escalation == 100 and report.raw_tokens_per_escalation == 1000
    assert report.accuracy["category"] == 1.0
