"""`triage run` with [knowledge] on a real watched folder: the index is built in the
background, a dropped German mail's result carries the English article in the outbox, the
webhook JSON and the relayed mail's X-Triage-Suggested header; an article added while it runs
is indexed after SIGHUP; `triage knowledge` and `triage check` report the index."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import NO_SCHEDULE, child_env, daemon_running, mail, triage_command
from tests.servers import Inbox, Received, http_server, smtp_server
from tests.test_knowledge import GERMAN_TICKET, write_kb
from triage.cli.check import run_checks
from triage.config.settings import LoadedSettings, load_settings
from triage.store.sqlite import SqliteStore


def indexed(store_path: Path) -> set[str]:
    if not store_path.exists():
        return set()
    store = SqliteStore(store_path, read_only=True)
    try:
        return set(store.knowledge_digests())
    except Exception:  # not migrated yet
        return set()
    finally:
        store.close()


def wait_until(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_the_daemon_suggests_articles_in_the_outbox_webhook_and_relay(tmp_path):
    kb = write_kb(tmp_path / "kb")
    inbox, received = Inbox(), Received()
    (tmp_path / "var" / "inbox").mkdir(parents=True)
    store_path = tmp_path / "var" / "triage.sqlite3"
    with smtp_server(inbox) as server, http_server(received) as url:
        config = tmp_path / "config.toml"
        config.write_text(
            "[dropfolder]\nsettle_seconds = 0.0\nrescan_seconds = 1.0\n"
            f"[knowledge]\ndirs = ['{kb}']\nrescan_seconds = 3600\n"
            f"[relay]\nenabled = true\nhost = '127.0.0.1'\nport = {server.port}\ntls = 'none'\n"
            "default_to = 'helpdesk@example.org'\n"
            f"[[webhooks]]\nurl = '{url}'\nsecret = '{'w' * 24}'\n" + NO_SCHEDULE
        )
        with daemon_running(tmp_path, config) as daemon:
            assert wait_until(lambda: len(indexed(store_path)) == 9)
            (tmp_path / "var" / "inbox" / "pw.eml").write_text(GERMAN_TICKET)
            assert received.wait_for(1, 30)
            assert wait_until(lambda: bool(inbox.messages))
            # An article added while the daemon runs: SIGHUP has the folder read now (the
            # rescan is an hour away).
            (kb / "badge.md").write_text("# Badge reader rejects the badge\n\nx", "utf-8")
            daemon.send_signal(signal.SIGHUP)
            assert wait_until(lambda: "kb/badge.md" in indexed(store_path))
    assert daemon.returncode == 0
    [outbox] = [json.loads(p.read_text()) for p in (tmp_path / "var" / "outbox").glob("*.json")]
    top = {
        "title": "Resetting an expired or forgotten Windows password",
        "source": "kb/password-reset.md",
    }
    assert {k: outbox["suggestions"][0][k] for k in ("title", "source")} == top
    webhook = json.loads(received.requests[0][1])
    assert webhook["suggestions"] == outbox["suggestions"]
    [(_, _, content)] = inbox.messages
    assert b"X-Triage-Suggested: Resetting an expired or forgotten Windows password" in content


def test_knowledge_builds_the_index_and_check_reports_it(tmp_path):
    kb = write_kb(tmp_path / "kb")
    config = tmp_path / "config.toml"
    config.write_text(f"[knowledge]\ndirs = ['{kb}', '{tmp_path / 'missing'}']\n")

    def triage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*triage_command(), "--config", str(config), *args],
            cwd=tmp_path,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    first = triage("knowledge")
    assert first.returncode == 1  # a folder is missing
    assert first.stdout.splitlines() == [
        "knowledge: 9 indexed (9 added, 0 changed, 0 unchanged), 0 removed, missing folders: "
        f"{tmp_path / 'missing'}",
        "index: 9 articles, 0 solved tickets",
    ]
    checked = triage("check")
    [line] = [x for x in checked.stdout.splitlines() if x.partition(" ")[2].startswith("knowl")]
    assert line.startswith("FAIL knowledge: ")
    assert f"folder {tmp_path / 'missing'} is missing" in line
    assert "9 articles in 1 folder; indexed: 9 articles, 0 solved tickets" in line
    config.write_text(f"[knowledge]\ndirs = ['{kb}']\n")
    again = triage("knowledge", "--rebuild")
    assert again.returncode == 0
    assert again.stdout.splitlines()[0] == (
        "knowledge: 9 indexed (0 added, 9 changed, 0 unchanged), 0 removed"
    )


def test_check_says_a_folder_that_is_a_file_and_a_history_that_is_a_folder(tmp_path):
    """Not "is missing": the path is there, of the wrong kind (a slip of the two keys)."""
    (tmp_path / "solved.csv").write_text("Number,Resolution\nINC1,Rebooted\n")
    config = tmp_path / "config.toml"
    config.write_text(
        f"[knowledge]\ndirs = ['{tmp_path / 'solved.csv'}']\nhistory = '{tmp_path}'\n"
    )
    loaded = LoadedSettings(load_settings(config, {}).settings, config)
    [check] = [c for c in run_checks(loaded) if c.name == "knowledge"]
    assert check.ok is False
    assert check.detail.split("; ")[:2] == [
        f"folder {tmp_path / 'solved.csv'} is a file, not a folder: fix [knowledge] dirs",
        f"history {tmp_path} is a folder, not the export file: fix [knowledge] history",
    ]


def test_a_config_without_knowledge_says_how_to_switch_it_on(tmp_path):
    done = subprocess.run(
        [*triage_command(), "knowledge"],
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 78
    assert "set [knowledge] dirs" in done.stderr


def test_a_dropped_mail_before_the_index_is_built_is_triaged_without_suggestions(tmp_path):
    # An empty knowledge folder: nothing to suggest, and the ticket is still triaged.
    (tmp_path / "kb").mkdir()
    (tmp_path / "var" / "inbox").mkdir(parents=True)
    config = tmp_path / "config.toml"
    config.write_text(
        "[dropfolder]\nsettle_seconds = 0.0\nrescan_seconds = 1.0\n"
        f"[knowledge]\ndirs = ['{tmp_path / 'kb'}']\n" + NO_SCHEDULE
    )
    outbox = tmp_path / "var" / "outbox"
    with daemon_running(tmp_path, config) as daemon:
        (tmp_path / "var" / "inbox" / "a.eml").write_text(mail("printer", "jammed"))
        assert wait_until(lambda: any(outbox.glob("*.json")))
    assert daemon.returncode == 0
    [result] = [json.loads(p.read_text()) for p in outbox.glob("*.json")]
    assert (result["status"], result["suggestions"]) == ("triaged", [])
