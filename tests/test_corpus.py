"""Every message of the shared corpora gets a result from `triage process`, without a crash."""

from __future__ import annotations

import csv
import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import child_env, triage_command


@pytest.mark.slow
def test_every_corpus_message_gets_a_result_and_automatic_mail_is_ignored(corpora, tmp_path: Path):
    run = subprocess.run(
        [*triage_command(), "process", "--json", str(corpora / "email"), str(corpora / "spam")],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=tmp_path,
        check=False,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    results = [json.loads(line) for line in run.stdout.splitlines()]
    inputs = [p for group in ("email", "spam") for p in (corpora / group).rglob("*") if p.is_file()]
    assert len(results) == len(inputs)
    assert "triage_crashed" not in run.stderr

    with (corpora / "MANIFEST.csv").open(encoding="utf-8") as handle:
        kinds = {
            str(corpora / row["group"] / row["source"] / row["path"]): row["expected_kind"]
            for row in csv.DictReader(handle)
        }
    outcome: dict[str, Counter[str]] = {}
    for result in results:
        kind = kinds.get(result["source_ref"], "unlisted")
        outcome.setdefault(kind, Counter())[result["status"]] += 1
    print({kind: dict(counts) for kind, counts in outcome.items()})

    def share_ignored(kind: str) -> float:
        counts = outcome[kind]
        return (counts["ignored"] + counts["duplicate"]) / sum(counts.values())

    assert share_ignored("bounce") >= 0.95
    assert share_ignored("auto-reply") == 1.0
    assert share_ignored("abuse-feedback-report(ARF)") == 1.0
    assert share_ignored("read-receipt(MDN)") == 1.0
    assert outcome["reply-body-only(no headers)"]["ignored"] == 0
    binary = [k for k in outcome if k.startswith(("tnef", "outlook-msg"))]
    assert all(set(outcome[k]) == {"quarantined"} for k in binary)
