from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import child_env, mail, triage_command
from triage.cli.main import EXIT_CONFIG, main


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text("[store]\npath = 'state/triage.sqlite3'\n", encoding="utf-8")
    return path


def tickets(tmp_path: Path) -> Path:
    folder = tmp_path / "tickets"
    (folder / "nested").mkdir(parents=True)
    (folder / "vpn.eml").write_text(mail("VPN down", "AnyConnect error 809"))
    (folder / "nested" / "printer.txt").write_text("Printer jams\nfloor 2")
    (folder / "nested" / "copy.md").write_text("# Printer jams\nfloor 2")
    (folder / "bad.json").write_text('{"subject": 1}')
    return folder


def test_process_json_prints_one_result_per_input_and_exits_0(config, tmp_path, capsys):
    assert main(["--config", str(config), "process", "--json", str(tickets(tmp_path))]) == 0
    lines = capsys.readouterr().out.splitlines()
    results = [json.loads(line) for line in lines]
    assert len(results) == 4
    by_name = {Path(r["source_ref"]).name: r for r in results}
    assert by_name["vpn.eml"]["category"] == "vpn"
    assert by_name["bad.json"]["status"] == "quarantined"
    first, copy = by_name["copy.md"], by_name["printer.txt"]  # same words, markdown and text
    assert (first["status"], copy["status"], copy["duplicate_of"]) == (
        "triaged",
        "duplicate",
        first["id"],
    )
    assert all(r["source"] == "cli" for r in results)
    assert (tmp_path / "state" / "triage.sqlite3").exists()  # relative to the config file
    assert len(list((tmp_path / "var" / "outbox").glob("*.json"))) == 4


def test_dry_run_writes_nothing_yet_finds_duplicates_in_the_run(config, tmp_path, capsys):
    assert (
        main(["--config", str(config), "process", "--json", "--dry-run", str(tickets(tmp_path))])
        == 0
    )
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(r["status"] == "duplicate" for r in results)
    assert not (tmp_path / "state").exists() and not (tmp_path / "var" / "outbox").exists()


def test_the_same_input_gets_the_same_id_every_time(config, tmp_path, capsys):
    folder = tickets(tmp_path)
    main(["--config", str(config), "process", "--json", "--dry-run", str(folder / "vpn.eml")])
    main(["--config", str(config), "process", "--json", str(folder / "vpn.eml")])
    main(["--config", str(config), "process", "--json", str(folder / "vpn.eml")])
    ids = {json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()}
    assert len(ids) == 1


def test_a_bad_config_exits_78_and_names_the_key(tmp_path, capsys):
    bad = tmp_path / "config.toml"
    bad.write_text("[dropfolder]\nsettle_secnds = 2\n[store]\npath = 3\n")
    assert main(["--config", str(bad), "check"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "[dropfolder] settle_secnds: unknown key" in err
    assert "[store] path" in err


def test_check_reports_every_part_and_exits_0_when_fine(config, capsys):
    assert main(["--config", str(config), "check"]) == 0
    out = capsys.readouterr().out
    for part in ("config", "store", "outbox", "dropfolder inbox"):
        assert f"ok   {part}" in out


def test_check_fails_with_a_hint_when_a_folder_cannot_be_made(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    config = tmp_path / "config.toml"
    config.write_text(f"[outbox]\ndir = '{blocker}/outbox'\n")
    assert main(["--config", str(config), "check"]) == 1
    assert "FAIL outbox" in capsys.readouterr().out


def test_usage_errors_exit_2_and_stdout_stays_clean(tmp_path):
    run = subprocess.run(
        [*triage_command(), "process"],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 2 and run.stdout == ""
    missing = subprocess.run(
        [*triage_command(), "process", "nope.eml"],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=tmp_path,
        check=False,
    )
    assert missing.returncode == 2 and "nope.eml" in missing.stderr


def test_logs_are_json_lines_on_stderr_when_not_a_terminal(tmp_path):
    (tmp_path / "t.txt").write_text("Printer jams")
    run = subprocess.run(
        [*triage_command(), "process", "--json", "t.txt"],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=tmp_path,
        check=True,
    )
    events = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    assert any(e["event"] == "ticket.result" for e in events)
    assert json.loads(run.stdout)["subject"] == "Printer jams"


def test_environment_overrides_the_config(tmp_path):
    (tmp_path / "t.txt").write_text("Printer jams")
    env = child_env(TRIAGE_OUTBOX__DIR=str(tmp_path / "elsewhere"))
    subprocess.run(
        [*triage_command(), "process", "t.txt"],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    assert len(list((tmp_path / "elsewhere").glob("*.json"))) == 1
