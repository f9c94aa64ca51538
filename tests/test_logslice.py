from __future__ import annotations

import csv

from triage.rules.logslice import slice_logs


def test_a_2000_line_log_becomes_a_few_dozen_lines(corpora):
    log = (corpora / "logs/loghub/Linux/Linux_2k.log").read_text(encoding="utf-8", errors="replace")
    assert len(log.splitlines()) == 2000
    sliced = slice_logs([log], max_lines=60)
    assert sliced is not None
    assert 10 <= len(sliced.splitlines()) <= 100


def test_ssh_slice_keeps_the_lines_a_technician_needs(corpora):
    folder = corpora / "logs/loghub/OpenSSH"
    log = (folder / "OpenSSH_2k.log").read_text(encoding="utf-8")
    sliced = slice_logs([log], max_lines=60)
    assert sliced is not None
    with (folder / "OpenSSH_2k.log_structured.csv").open(encoding="utf-8") as handle:
        events = {row["Content"]: row["EventId"] for row in csv.DictReader(handle)}
    kept = {event for content, event in events.items() if content in sliced}
    for must in ("E9", "E10", "E27", "E1"):  # failed password, break-in attempt, accepted
        assert must in kept, must


def test_repeats_are_collapsed_with_a_count():
    log = "\n".join(
        f"Nov 2 10:00:{i:02d} sshd[{100 + i}]: Failed password for root from 1.2.3.{i}"
        for i in range(50)
    )
    sliced = slice_logs([log], max_lines=60)
    assert sliced is not None
    assert sliced.count("Failed password") == 1
    assert "[repeated 49 more times]" in sliced


def test_errors_come_with_a_line_of_context_and_quiet_logs_keep_their_tail():
    log = "boot ok\nstarting service\nERROR disk full\nretrying later\nall good"
    sliced = slice_logs([log], max_lines=60)
    assert sliced is not None and "starting service" in sliced and "ERROR disk full" in sliced
    quiet = "\n".join(f"line {i} ok" for i in range(30))
    tail = slice_logs([quiet], max_lines=60)
    assert tail is not None and "line 29 ok" in tail and "line 0 ok" not in tail


def test_no_log_no_slice_and_long_lines_are_cut():
    assert slice_logs([], max_lines=60) is None
    sliced = slice_logs(["ERROR " + "x" * 5000], max_lines=60)
    assert sliced is not None and len(sliced) < 600
