"""Hostile input: mail bombs and hostile files each get a result or a quarantine reason within
bounded time and memory, and the daemon keeps going."""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import NO_SCHEDULE, child_env, daemon_running, mail
from triage.ticket import input_id

PEAK_RSS_MB = 400  # the bound every bomb stays under (`triage process` of one mail: ~60 MB)
HANG_GUARD_SECONDS = 120  # not a speed target: a bomb that hangs fails instead of blocking CI


def _multipart(boundary: str, parts: list[str]) -> str:
    inner = "".join(f"--{boundary}\n{part}\n" for part in parts)
    return f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n{inner}--{boundary}--\n'


def nested_mime(depth: int) -> bytes:
    part = "Content-Type: text/plain\n\nVPN down at the deepest level"
    for level in range(depth):
        part = _multipart(f"n{level}", [part])
    return ("From: a@example.com\nSubject: nesting bomb\nMIME-Version: 1.0\n" + part).encode()


def many_parts(count: int) -> bytes:
    parts = [f"Content-Type: text/plain\n\npart {n}" for n in range(count)]
    return ("From: a@example.com\nSubject: 10k parts\n" + _multipart("p", parts)).encode()


def base64_bomb(megabytes: int) -> bytes:
    text = base64.encodebytes(b"The printer is broken. " * (megabytes * 1_000_000 // 23))
    head = "From: a@example.com\nSubject: base64 bomb\nContent-Type: text/plain; charset=utf-8\n"
    return head.encode() + b"Content-Transfer-Encoding: base64\n\n" + text


def gzip_bomb(gigabytes: int) -> bytes:
    """An attachment of a few MB that would inflate to gigabytes: never inflated. (gzip
    members may be concatenated: one 64 MB member of zeros, repeated.)"""
    member = gzip.compress(bytes(1 << 26), compresslevel=9)
    payload = base64.encodebytes(member * (gigabytes * 16)).decode()
    attachment = (
        "Content-Type: application/gzip\nContent-Transfer-Encoding: base64\n"
        f'Content-Disposition: attachment; filename="logs.tar.gz"\n\n{payload}'
    )
    body = "Content-Type: text/plain\n\nLogs attached, VPN fails."
    return (
        "From: a@example.com\nSubject: gzip bomb\n" + _multipart("g", [body, attachment])
    ).encode()


def big_attachment(megabytes: int) -> bytes:
    line = b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n"
    head = (
        b"From: a@example.com\nSubject: 100 MB attachment\n"
        b'Content-Type: multipart/mixed; boundary="x"\n\n'
        b"--x\nContent-Type: text/plain\n\nSee attachment.\n--x\n"
        b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
    )
    return head + line * (megabytes * 1_000_000 // len(line)) + b"--x--\n"


def huge_header() -> bytes:
    junk = "".join(f"X-Junk-{n}: {'j' * 90}\n" for n in range(10_000))  # ~1 MB of headers
    subject = "Subject: " + "VPN " * 250_000 + "\n"  # one 1 MB header line
    return ("From: a@example.com\n" + subject + junk + "\nThe VPN is down.\n").encode()


def deep_html(depth: int) -> bytes:
    html = "<div>" * depth + "Outlook crashes" + "</div>" * depth
    head = "From: a@example.com\nSubject: deep html\nContent-Type: text/html\n\n"
    return (head + html).encode()


def endless_line(megabytes: int) -> bytes:
    return b"Subject: one line\n\n" + b"x" * (megabytes * 1_000_000)


BOMBS: dict[str, Callable[[], bytes]] = {
    "nested-mime-2000": lambda: nested_mime(2000),
    "ten-thousand-parts": lambda: many_parts(10_000),
    "base64-bomb-15mb": lambda: base64_bomb(15),
    "gzip-bomb-2gb": lambda: gzip_bomb(2),
    "attachment-100mb": lambda: big_attachment(100),
    "header-1mb": huge_header,
    "html-100k-deep": lambda: deep_html(100_000),
    "line-20mb": lambda: endless_line(20),
}


# `triage` in-process, then its own peak RSS (VmHWM: this process image's, not inherited from
# the test process the way wait4's ru_maxrss is) into the file named by argv[1].
MEASURED = """
import sys
from triage.cli.main import main
code = main(sys.argv[2:])
status = open("/proc/self/status").read()
open(sys.argv[1], "w").write(status.split("VmHWM:")[1].split()[0])
sys.exit(code)
"""


def run_measured(arguments: list[str], cwd: Path) -> tuple[int, str, float]:
    """Exit code, stdout and the command's peak RSS in MB."""
    peak = cwd / "peak-kb"
    completed = subprocess.run(
        [sys.executable, "-c", MEASURED, str(peak), *arguments],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        timeout=HANG_GUARD_SECONDS,
        check=False,
    )
    assert peak.exists(), completed.stderr.decode(errors="replace")[-2000:]
    return completed.returncode, completed.stdout.decode(), int(peak.read_text()) / 1024


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_mail_bomb_gets_a_result_in_bounded_time_and_memory(name, tmp_path):
    path = tmp_path / f"{name}.eml"
    path.write_bytes(BOMBS[name]())
    code, out, peak_mb = run_measured(["process", "--json", str(path)], tmp_path)
    assert code == 0, f"{name}: exit {code}"
    [result] = [json.loads(line) for line in out.splitlines()]
    assert result["status"] in ("triaged", "quarantined")
    if result["status"] == "quarantined":
        assert result["status_reason"] and "internal error" not in result["status_reason"]
    assert peak_mb < PEAK_RSS_MB, f"{name}: peak RSS {peak_mb:.0f} MB"
    print(
        f"{name}: {path.stat().st_size / 1e6:.1f} MB -> {result['status']}, peak {peak_mb:.0f} MB"
    )


# -- hostile files in the drop folder, under a running daemon ------------------------------


def without_root_powers() -> list[str]:
    """root reads any file: drop the capabilities that let it, so "unreadable" is real."""
    if os.geteuid() == 0 and shutil.which("setpriv"):
        return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    return []


def test_hostile_files_in_the_drop_folder_each_get_a_result_or_a_reason(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        "[dropfolder]\nsettle_seconds = 0.5\nrescan_seconds = 1.0\nabandoned_minutes = 0.05\n"
        + NO_SCHEDULE
    )
    var = tmp_path / "var"
    inbox, processed, failed, outbox = (var / n for n in ("inbox", "processed", "failed", "outbox"))
    inbox.mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("password: Hunter2-outside-the-inbox")
    expected_failed = {
        "link.eml": "symbolic link",
        "pipe.eml": "not a regular file",
        "unreadable.eml": "cannot read the file",
        "huge.eml": "over [dropfolder] max_file_mb",
        "empty.txt": "empty",
    }
    (inbox / "link.eml").symlink_to(secret)
    (inbox / "..eml").symlink_to("../../secret.txt")  # a temporary name, and a link
    os.mkfifo(inbox / "pipe.eml")
    unreadable = inbox / "unreadable.eml"
    unreadable.write_text(mail("Locked", "you cannot read me"))
    unreadable.chmod(0)
    with (inbox / "huge.eml").open("wb") as handle:
        handle.truncate(100_000_000)  # 100 MB, sparse
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "sub").mkdir()  # folders are not read
    odd_names = {
        os.fsdecode(b"caf\xe9-\xff.eml"): mail("Not UTF-8", "name in latin-1"),
        "-rf": mail("Dash", "looks like an option"),
        "a\nb.eml": mail("Newline", "a newline in the name"),
    }
    # "/" cannot be in a name; these try the rest. Starting with "." they are temporary names
    # by the write-then-rename convention: left alone while fresh, quarantined once abandoned.
    traversals = {
        "...": mail("Dots", "three dots"),
        "..%2F..%2Fetc%2Fpasswd": mail("Traversal", "an encoded ../ name"),
        "..\\..\\windows.eml": mail("Backslashes", "a Windows traversal"),
    }
    for name, text in {**odd_names, **traversals}.items():
        (inbox / name).write_text(text)
    for name in [*traversals, "..eml"]:
        expected_failed[name] = "a temporary name unchanged"

    with daemon_running(tmp_path, config, prefix=without_root_powers()) as daemon:
        growing = inbox / "growing.eml"
        with growing.open("w") as handle:  # written slowly, not renamed into place
            handle.write(mail("Growing", "first line"))
            for n in range(10):
                handle.write(f"more text {n}\n")
                handle.flush()
                time.sleep(0.2)
        final_growing = growing.read_bytes()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and [p for p in inbox.iterdir() if p.name != "sub"]:
            time.sleep(0.2)
        (inbox / "after.eml").write_text(mail("Printer jam", "after all that, a real ticket"))
        while time.monotonic() < deadline and (inbox / "after.eml").exists():
            time.sleep(0.2)
    assert daemon.returncode == 0  # it kept going, and stopped cleanly

    assert [p.name for p in inbox.iterdir()] == ["sub"]
    for name, why in expected_failed.items():
        note = failed / f"{name}.error"
        assert why in note.read_text(), name
        assert note.stat().st_mode & 0o007 == 0  # what the daemon writes is not world-readable
    assert secret.read_text() == "password: Hunter2-outside-the-inbox"
    assert sorted(p.name for p in processed.iterdir()) == sorted(
        [*odd_names, "growing.eml", "after.eml"]
    )
    assert (processed / "growing.eml").read_bytes() == final_growing  # read once, complete
    growing_id = input_id("growing.eml", [final_growing])
    assert json.loads((outbox / f"{growing_id}.json").read_text())["status"] == "triaged"
    results = [json.loads(p.read_text()) for p in outbox.glob("*.json")]
    assert len(results) == len(expected_failed) + len(odd_names) + 2
    assert all("Hunter2" not in json.dumps(r) for r in results)  # the link was never followed
    assert b"Hunter2" not in (tmp_path / "daemon.log").read_bytes()
    # nothing was written outside var/: a traversal name stays a name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["config.toml", "var", "secret.txt", "notify.sock", "daemon.log"]
    )
