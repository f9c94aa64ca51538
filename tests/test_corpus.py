"""Every message of the shared corpora gets a result from `triage process`, without a crash."""

from __future__ import annotations

import csv
import json
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import NO_SCHEDULE, child_env, daemon_running, triage_command
from triage.ticket import input_id


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
    files = [p for group in ("email", "spam") for p in (corpora / group).rglob("*") if p.is_file()]
    # The corpora's LICENSE and NOTICE files (LICENSE.txt too) and a labels.csv are not
    # tickets: skipped, with a note.
    not_tickets = [
        p
        for p in files
        if p.name in ("LICENSE", "MIT-LICENSE", "LICENSE.txt", "NOTICE.txt") or p.suffix == ".csv"
    ]
    assert len(results) == len(files) - len(not_tickets)
    assert f"skipped {len(not_tickets)} files that are not tickets" in run.stderr
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


@pytest.mark.slow
def test_every_corpus_file_dropped_gets_one_result_and_the_daemon_keeps_going(
    corpora, tmp_path: Path
):
    config = tmp_path / "config.toml"
    config.write_text("[dropfolder]\nsettle_seconds = 0.0\nrescan_seconds = 1.0\n" + NO_SCHEDULE)
    inbox = tmp_path / "var" / "inbox"
    inbox.mkdir(parents=True)
    files = sorted(p for p in corpora.rglob("*") if p.is_file())
    names = {}
    for path in files:  # every file, flattened under a name that says where it came from
        name = "__".join(path.relative_to(corpora).parts)
        (inbox / f".{name}.tmp").write_bytes(path.read_bytes())
        (inbox / f".{name}.tmp").rename(inbox / name)
        names[name] = path
    with daemon_running(tmp_path, config) as daemon:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and any(inbox.iterdir()):
            time.sleep(0.2)
        (inbox / "after.eml").write_text("Subject: VPN down\n\nStill there after the corpus?\n")
        while time.monotonic() < deadline and (inbox / "after.eml").exists():
            time.sleep(0.2)
    assert daemon.returncode == 0
    processed = {p.name for p in (tmp_path / "var" / "processed").iterdir()}
    failed = {p.name for p in (tmp_path / "var" / "failed").iterdir() if p.suffix != ".error"}
    assert processed | failed == {*names, "after.eml"} and not processed & failed
    results = [json.loads(p.read_text()) for p in (tmp_path / "var" / "outbox").glob("*.json")]
    ids = {input_id(name, [path.read_bytes()]) for name, path in names.items()}
    assert len(results) == len(ids) + 1  # one result per distinct input
    assert all("internal error" not in (r["status_reason"] or "") for r in results)
    assert b"triage_crashed" not in (tmp_path / "daemon.log").read_bytes()
    print(Counter(r["status"] for r in results))
