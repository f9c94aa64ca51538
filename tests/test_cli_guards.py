"""The command line on a real store file and real folders: reporting creates no store, a
missing store is never made anew, what `process`, `show`, `explain`, `label` and `learn` say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import mail
from triage.cli.main import main

RANSOMWARE = mail(
    "Ransomware on my laptop",
    "All my files are encrypted, a ransom note appeared. Host ws-042 at 10.1.2.3,"
    " error 0x80070005 in Outlook.",
)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        "[store]\npath = 'state/triage.sqlite3'\n[outbox]\ndir = 'outbox'\n"
        "[digest]\ndir = 'reports'\n[report]\ndir = 'reports'\n",
        encoding="utf-8",
    )
    return path


def _store(config: Path) -> Path:
    return config.parent / "state" / "triage.sqlite3"


def _triaged(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    ticket = tmp_path / "ransomware.eml"
    ticket.write_text(RANSOMWARE)
    assert main(["--config", str(config), "process", "--json", str(ticket)]) == 0
    return str(json.loads(capsys.readouterr().out)["id"])


def _lose_the_store(config: Path) -> None:
    for path in _store(config).parent.iterdir():
        path.unlink()
    assert list((config.parent / "outbox").glob("*.json")), "the outbox holds results"


@pytest.mark.parametrize(
    ("command", "written"),
    [
        (["digest", "--date", "2026-11-02"], "digest-2026-11-02.md"),
        (["report", "--month", "2026-10"], "report-2026-10.json"),
        (["inventory", "--month", "2026-10"], None),
    ],
)
def test_reporting_without_a_store_writes_empty_output_and_creates_no_store(
    config, capsys, command, written
):
    assert main(["--config", str(config), *command]) == 0
    out = capsys.readouterr().out
    assert not _store(config).exists() and not _store(config).parent.exists()
    if written is None:
        assert "no model calls booked in 2026-10" in out
    else:
        assert (config.parent / "reports" / written).is_file()
        assert str(config.parent / "reports" / written) in out


def test_reporting_opens_the_store_read_only(config, tmp_path, capsys):
    _triaged(config, tmp_path, capsys)
    state = _store(config).parent
    before = {p.name: p.read_bytes() for p in state.iterdir()}
    changed = state.stat().st_mtime_ns  # a writable open makes and removes -wal and -shm
    assert main(["--config", str(config), "report", "--month", "2026-10"]) == 0
    assert main(["--config", str(config), "digest", "--date", "2026-11-02"]) == 0
    assert main(["--config", str(config), "inventory"]) == 0
    assert {p.name: p.read_bytes() for p in state.iterdir()} == before
    assert state.stat().st_mtime_ns == changed


@pytest.mark.parametrize(
    "command",
    [
        ["digest", "--date", "2026-11-02"],
        ["report", "--month", "2026-10"],
        ["inventory"],
        ["label", "{id}", "security-team"],
        ["learn", "--from-store"],
        ["show", "{id}"],
    ],
)
def test_a_missing_store_is_refused_when_the_outbox_holds_results(
    config, tmp_path, capsys, command
):
    ticket_id = _triaged(config, tmp_path, capsys)
    _lose_the_store(config)
    argv = [part.replace("{id}", ticket_id) for part in command]
    assert main(["--config", str(config), *argv]) == 78
    captured = capsys.readouterr()
    assert "the store is missing, yet the outbox" in captured.err
    assert "nothing has been triaged" not in captured.err
    assert captured.out == ""
    assert not _store(config).exists()


def test_label_without_a_store_creates_none(config, capsys):
    assert main(["--config", str(config), "label", "t-nosuchticket", "Network Team"]) == 1
    assert "nothing has been triaged" in capsys.readouterr().err
    assert not _store(config).parent.exists()


def test_process_stores_the_absolute_path_of_a_relative_input(
    config, tmp_path, capsys, monkeypatch
):
    (tmp_path / "tickets").mkdir()
    (tmp_path / "tickets" / "mail.eml").write_text(mail("VPN down", "error 809"))
    monkeypatch.chdir(tmp_path)
    assert main(["--config", str(config), "process", "--json", "tickets/mail.eml"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["source_ref"] == str(tmp_path / "tickets" / "mail.eml")


def test_a_folder_scan_skips_labels_files_and_counts_quarantined_apart(config, tmp_path, capsys):
    folder = tmp_path / "tickets"
    folder.mkdir()
    (folder / "vpn.eml").write_text(mail("VPN down", "error 809"))
    (folder / "outlook.eml").write_text(mail("Outlook crashes", "since Monday"))
    (folder / "broken.msg").write_bytes(b"\xd0\xcf\x11\xe0\0\0\0binary")
    (folder / "labels.jsonl").write_text('{"id": "t-1", "team": "network"}\n')
    (folder / "more.ndjson").write_text('{"id": "t-2", "team": "desktop"}\n')
    assert main(["--config", str(config), "process", str(folder)]) == 0
    captured = capsys.readouterr()
    assert "labels.jsonl" not in captured.out and "more.ndjson" not in captured.out
    assert "skipped 2 files that are not tickets" in captured.err
    assert "labels.jsonl" in captured.err and "more.ndjson" in captured.err
    assert "3 results (2 triaged, 1 quarantined)" in captured.err

    (tmp_path / "single").mkdir()
    (tmp_path / "single" / "printer.txt").write_text("Printer jams\nfloor 2")
    (tmp_path / "single" / "notes.csv").write_text("a,b\n")
    assert main(["--config", str(config), "process", str(tmp_path / "single")]) == 0
    err = capsys.readouterr().err
    assert "skipped 1 file that is not a ticket" in err
    assert "1 result (1 triaged)" in err


def test_show_gives_why_the_facts_and_a_persons_label(config, tmp_path, capsys):
    ticket_id = _triaged(config, tmp_path, capsys)
    argv = ["--config", str(config), "label", ticket_id, "security-team"]
    assert main([*argv, "--category", "hardware"]) == 0
    said = capsys.readouterr().out
    assert "team 'security-team'" in said
    assert "category 'hardware' corrected (was security)" in said
    assert main(["--config", str(config), "show", ticket_id]) == 0
    lines = {
        line.split(maxsplit=1)[0]: line.split(maxsplit=1)[1]
        for line in capsys.readouterr().out.splitlines()[1:]
        if line.startswith("  ") and not line.startswith("    ")
    }
    assert "security incident: ransomware" in lines["why"]
    for fact in ("hosts ws-042", "ips 10.1.2.3", "error codes 0x80070005", "applications Outlook"):
        assert fact in lines["facts"]
    assert lines["labelled"] == "security-team, category hardware by a person"


def test_explain_gives_the_routes_own_reason_a_wanted_tier_was_not_used(config, tmp_path, capsys):
    ticket_id = _triaged(config, tmp_path, capsys)
    assert main(["--config", str(config), "explain", ticket_id]) == 0
    out = capsys.readouterr().out
    assert "wanted paid, not used: not enabled" in out
    assert "refused by a gate" not in out
    assert main(["--config", str(config), "explain", str(tmp_path / "ransomware.eml")]) == 0
    out = capsys.readouterr().out
    assert "Why: stored result: this input was handled before" in out
    assert "Why (" not in out


def test_explain_of_neither_a_file_nor_a_stored_id_says_both(config, tmp_path, capsys):
    _triaged(config, tmp_path, capsys)
    assert main(["--config", str(config), "explain", str(tmp_path / "gone.eml")]) == 1
    assert "no such file, and no stored ticket with that id" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--month", "2026-1"],
        ["inventory", "--month", "2026-1"],
        ["report", "--month", "2026-13"],
        ["digest", "--date", "20261102"],
        ["digest", "--date", "2026-11-2"],
    ],
)
def test_months_and_days_are_validated_strictly(config, capsys, argv):
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), *argv])
    assert exited.value.code == 2
    assert "is not a" in capsys.readouterr().err
    assert not _store(config).parent.exists()


def test_learn_with_a_missing_history_file_is_a_usage_error(config, tmp_path, capsys):
    assert main(["--config", str(config), "learn", str(tmp_path / "history.csv")]) == 2
    assert f"no such file: {tmp_path / 'history.csv'}" in capsys.readouterr().err
