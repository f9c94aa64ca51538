"""`process` as a table, `show` and `explain`, and which files `process` takes from a folder."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import child_env, mail, triage_command
from triage.cli.common import ticket_files
from triage.cli.main import main


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        "[store]\npath = 'state/triage.sqlite3'\n"
        '[[rules]]\nname = "payroll"\nmatch = ["payroll"]\non = ["to"]\n'
        'category = "software"\nworkflow = "payroll"\nteam = "hr-systems"\n',
        encoding="utf-8",
    )
    return path


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "tickets"
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / "vpn.eml").write_text(mail("AnyConnect VPN down", "error 809 since the update"))
    (folder / "printer.txt").write_text("Printer jams\nfloor 2")
    (folder / "LICENSE").write_text("MIT License\n\nPermission is hereby granted...")
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "forwarded").write_text(mail("Outlook crashes", "since Monday"))
    return folder


def test_a_folder_gives_its_tickets_and_skips_what_is_not_one(tmp_path):
    folder = _folder(tmp_path)
    taken, skipped = ticket_files([folder])
    assert sorted(p.name for p in taken) == ["forwarded", "printer.txt", "vpn.eml"]
    assert sorted(p.name for p in skipped) == ["LICENSE", "logo.png"]
    assert ticket_files([folder / "LICENSE"]) == ([folder / "LICENSE"], [])  # named: taken


def test_process_prints_a_table_and_says_what_it_skipped(config, tmp_path, capsys):
    folder = _folder(tmp_path)
    assert main(["--config", str(config), "process", str(folder)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split() == ["file", "status", "category", "prio", "risk", "tier", "reason"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["vpn.eml"][1:6] == ["triaged", "vpn", "P3", "low", "rules"]
    assert "rules: vpn" in next(line for line in lines if line.startswith("vpn.eml"))
    assert "skipped 2 files that are not tickets" in captured.err and "LICENSE" in captured.err
    assert "3 results (3 triaged)" in captured.err


def test_already_handled_inputs_show_their_stored_result(config, tmp_path, capsys):
    folder = _folder(tmp_path)
    assert main(["--config", str(config), "process", str(folder / "vpn.eml")]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "process", str(folder / "vpn.eml")]) == 0
    out = capsys.readouterr().out
    assert "triaged*" in out and "vpn" in out
    assert "handled before: the stored result (1 input)" in out


def _processed_id(config: Path, path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--config", str(config), "process", "--json", str(path)]) == 0
    return str(json.loads(capsys.readouterr().out)["id"])


def test_show_prints_the_stored_result_readable_or_as_json(config, tmp_path, capsys):
    ticket = tmp_path / "payroll.eml"
    ticket.write_text(
        mail("Payslip missing", "My November payslip is not there.").replace(
            "To: helpdesk@example.com", "To: payroll@example.com"
        )
    )
    ticket_id = _processed_id(config, ticket, capsys)
    assert main(["--config", str(config), "show", ticket_id]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{ticket_id}  triaged")
    assert "Payslip missing" in text and "answered by  rules: payroll" in text
    assert main(["--config", str(config), "show", "--json", ticket_id]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == ticket_id
    assert main(["--config", str(config), "show", "t-nope"]) == 1
    assert "no ticket t-nope" in capsys.readouterr().err


def test_explain_an_id_names_the_rules_their_words_the_risk_the_tier_and_the_cost(
    config, tmp_path, capsys
):
    ticket = tmp_path / "vpn.eml"
    ticket.write_text(mail("AnyConnect VPN down", "error 809 since the update"))
    ticket_id = _processed_id(config, ticket, capsys)
    assert main(["--config", str(config), "explain", ticket_id]) == 0
    text = capsys.readouterr().out
    assert 'vpn: on subject: "vpn", "anyconnect"' in text
    assert "Risk low:" in text
    assert "Tier rules:" in text and "decision: rules: vpn" in text
    assert "nothing booked: the rules tier is free" in text


def test_explain_a_new_file_triages_it_in_dry_run_and_writes_nothing(config, tmp_path, capsys):
    ticket = tmp_path / "phish.txt"
    ticket.write_text("I clicked a link in a phishing mail\nand typed my password")
    assert main(["--config", str(config), "explain", str(ticket)]) == 0
    text = capsys.readouterr().out
    assert "not handled yet: triaged now in dry-run" in text
    assert "security-incident: on subject:" in text and '"phishing"' in text
    assert "Risk high:" in text
    assert not (tmp_path / "state").exists()


def test_explain_a_file_handled_before_shows_its_stored_result(config, tmp_path, capsys):
    ticket = tmp_path / "vpn.eml"
    ticket.write_text(mail("AnyConnect VPN down", "error 809"))
    _processed_id(config, ticket, capsys)
    assert main(["--config", str(config), "explain", str(ticket)]) == 0
    assert "Why: stored result: this input was handled before" in capsys.readouterr().out


def test_show_and_explain_work_from_the_installed_command(config, tmp_path):
    ticket = tmp_path / "vpn.eml"
    ticket.write_text(mail("VPN down", "since today"))
    command = [*triage_command(), "--config", str(config)]
    done = subprocess.run(
        [*command, "explain", str(ticket)], capture_output=True, text=True, env=child_env()
    )
    assert done.returncode == 0, done.stderr
    assert "Rules:" in done.stdout and "Tier rules:" in done.stdout
    missing = subprocess.run(
        [*command, "show", "t-0"], capture_output=True, text=True, env=child_env()
    )
    assert missing.returncode == 1 and "no store" in missing.stderr


def test_explain_finds_the_words_in_the_file_the_drop_folder_moved_to_processed(
    config, tmp_path, capsys
):
    from triage.config.settings import load_settings

    settings = load_settings(config, {}).settings
    inbox, processed = settings.dropfolder.inbox, settings.dropfolder.processed
    inbox.mkdir(parents=True)
    processed.mkdir(parents=True)
    ticket = inbox / "printer.txt"
    ticket.write_text("Printer jams on floor 2\nthe toner is empty")
    ticket_id = _processed_id(config, ticket, capsys)
    ticket.rename(processed / ticket.name)  # as the drop folder does after the commit
    assert main(["--config", str(config), "explain", ticket_id]) == 0
    assert 'printer: on subject: "printer"' in capsys.readouterr().out
    (processed / ticket.name).unlink()
    assert main(["--config", str(config), "explain", ticket_id]) == 0
    assert "fired: printer (the input is no longer on disk" in capsys.readouterr().out


def test_process_of_a_folder_skips_a_readme_and_a_license_with_a_ticket_suffix(
    config, tmp_path, capsys
):
    folder = tmp_path / "tickets"
    folder.mkdir()
    (folder / "vpn.eml").write_text(mail("AnyConnect VPN down", "error 809 since the update"))
    (folder / "README.md").write_text(
        "# Tickets\n\nDrop one ticket a file here. Never paste a password or a phishing link.\n"
    )
    (folder / "LICENSE.txt").write_text("MIT License\n\nPermission is hereby granted...")
    (folder / "readme-vpn-ticket.md").write_text("# VPN down\n\nerror 809 since the update\n")
    taken, skipped = ticket_files([folder])
    assert sorted(p.name for p in taken) == ["readme-vpn-ticket.md", "vpn.eml"]
    assert sorted(p.name for p in skipped) == ["LICENSE.txt", "README.md"]
    assert main(["--config", str(config), "process", str(folder)]) == 0
    captured = capsys.readouterr()
    assert "README.md" not in captured.out
    assert "skipped 2 files that are not tickets" in captured.err


def test_show_lists_the_ack_sent_the_relay_retrying_and_the_webhook_masked(
    harness_for, tmp_path, capsys
):
    from tests.servers import Inbox, smtp_server
    from tests.test_ack import PRINTER_EN, ack_toml

    hook = "https://hooks.example.com/services/T0/B0/s3cr3tT0ken?key=abc"
    webhook = f"[[webhooks]]\nurl = '{hook}'\nsecret = 'a long random string'\n"
    inbox = Inbox(replies=["451 4.3.0 mailbox busy, try later"])  # the relay's first try
    with smtp_server(inbox) as server:
        desk = harness_for(ack_toml(server.port, relay=True, tables=webhook))
        ticket = desk.triage(mail("Printer broken", PRINTER_EN))
        assert desk.sender("smtp").run_once() == 1  # tried once, refused for now
        assert desk.sender("ack").run_once() == 1
    config = str(tmp_path / "config.toml")
    assert main(["--config", config, "show", ticket.id]) == 0
    text = capsys.readouterr().out
    tag = hashlib.blake2b(hook.encode(), digest_size=4).hexdigest()
    lines = text.splitlines()
    start = lines.index("  deliveries:")
    relay, webhook_line, ack = lines[start + 1 :]
    assert relay.startswith(
        "    relay to helpdesk@example.org (route default): pending, 1 attempt,"
        " next attempt 2026-11-02 09:30 UTC (last error: "
    )
    assert "451" in relay and "mailbox busy" in relay
    assert webhook_line == (
        f"    webhook https://hooks.example.com/… #{tag}: pending,"
        " next attempt 2026-11-02 09:30 UTC"
    )
    assert ack == "    ack to ann@example.com: sent 2026-11-02 09:30 UTC"
    assert "s3cr3tT0ken" not in text and "key=abc" not in text
    assert main(["--config", config, "explain", ticket.id]) == 0
    explained = capsys.readouterr().out
    assert "\n".join(["  deliveries:", relay, webhook_line, ack]) in explained
    assert main(["--config", config, "show", "--json", ticket.id]) == 0
    stored = desk.store.get_result(ticket.id)
    assert stored is not None
    assert capsys.readouterr().out == stored.to_json() + "\n"  # the result JSON, as it was
