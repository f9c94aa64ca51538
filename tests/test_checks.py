"""`triage check` changes nothing, and installed as the README says every path the service
writes is under its state directory."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, mail
from tests.test_daemon_faults import triage
from triage.config.paths import writable_paths
from triage.config.settings import load_settings


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


def check(config: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return triage(config, cwd, "check", **env)


@pytest.mark.slow
def test_check_on_a_fresh_install_creates_nothing_and_says_what_run_will_make(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[store]\npath = 'state/triage.sqlite3'\n")
    before = snapshot(tmp_path)
    done = check(config, tmp_path)
    assert done.returncode == 0, done.stdout
    assert snapshot(tmp_path) == before  # no store, no folders, no lock
    assert "ok   store:" in done.stdout and "does not exist yet" in done.stdout
    assert "ok   daemon: not running" in done.stdout


@pytest.mark.slow
def test_check_on_an_existing_store_leaves_every_file_as_it_was(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("")
    tickets = tmp_path / "tickets"
    tickets.mkdir()
    (tickets / "a.eml").write_text(mail("VPN down", "error 809"))
    assert triage(config, tmp_path, "process", str(tickets)).returncode == 0
    before = snapshot(tmp_path)
    done = check(config, tmp_path)
    assert done.returncode == 0, done.stdout
    assert "1 tickets" in done.stdout
    assert snapshot(tmp_path) == before  # no -wal, no -shm, nothing touched


def test_check_fails_when_a_folder_cannot_be_made(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    config = tmp_path / "config.toml"
    config.write_text(f"[outbox]\ndir = '{blocker}/outbox'\n")
    done = check(config, tmp_path)
    assert done.returncode == 1 and "FAIL outbox" in done.stdout
    assert blocker.read_text() == "x"


def unit_environment() -> dict[str, str]:
    """The Environment= lines of the shipped unit."""
    unit = (REPO / "systemd" / "triage.service").read_text()
    return dict(
        line.removeprefix("Environment=").split("=", 1)
        for line in unit.splitlines()
        if line.startswith("Environment=")
    )


def installed(tmp_path: Path, environment: dict[str, str]) -> tuple[Path, Path, dict[str, str]]:
    """The README's install, under tmp_path: /etc/triage/config.toml a copy of config.toml,
    the unit's environment with /var/lib/triage moved under tmp_path."""
    etc, state = tmp_path / "etc" / "triage", tmp_path / "var" / "lib" / "triage"
    etc.mkdir(parents=True)
    state.mkdir(parents=True)
    shutil.copy(REPO / "config.toml", etc / "config.toml")
    env = {k: v.replace("/var/lib/triage", str(state)) for k, v in environment.items()}
    env["STATE_DIRECTORY"] = str(state)  # what StateDirectory=triage gives the service
    return etc / "config.toml", state, env


@pytest.mark.parametrize("unit_paths", [True, False], ids=["unit", "state-directory-alone"])
def test_every_path_the_service_writes_is_under_its_state_directory(tmp_path, unit_paths):
    config, state, env = installed(tmp_path, unit_environment() if unit_paths else {})
    settings = load_settings(config, env, cwd=Path("/")).settings
    paths = writable_paths(settings)
    assert {key for key, _ in paths} >= {
        "[store] path",
        "[outbox] dir",
        "[dropfolder] inbox",
        "[dropfolder] processed",
        "[dropfolder] failed",
        "[digest] dir",
        "[report] dir",
    }
    assert all(path.is_relative_to(state) for _, path in paths), paths
    # Paths triage only reads stay relative to the config file.
    relative = load_settings(config, {**env, "TRIAGE_LOCAL__MODEL_PATH": "m.gguf"}).settings
    assert relative.local.model_path == config.parent / "m.gguf"


@pytest.mark.slow
def test_the_installed_service_writes_reports_under_its_state_directory(tmp_path):
    config, state, env = installed(tmp_path, unit_environment())
    etc = config.parent
    etc.chmod(0o555)  # as under ProtectSystem=strict (root ignores it: the listing tells)
    try:
        for command in (["digest", "--date", "2026-11-01"], ["report", "--month", "2026-10"]):
            done = triage(config, Path("/"), *command, **env)
            assert done.returncode == 0, done.stderr[-2000:]
            written = [Path(line) for line in done.stdout.split()]
            assert written and all(p.is_relative_to(state) and p.exists() for p in written)
        done = check(config, Path("/"), **env)
        assert re.search(
            r"ok   paths: everything triage writes is under .*/var/lib/triage", done.stdout
        )
    finally:
        etc.chmod(0o750)
    assert sorted(p.name for p in etc.iterdir()) == ["config.toml"]
