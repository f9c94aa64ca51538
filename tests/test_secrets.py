"""Secrets: configured ones and ones planted in tickets never reach a log line, a ledger row,
an outbox file or a remote request, and the files the daemon writes are not world-readable."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator

import pytest

from tests.conftest import child_env, mail, triage_command
from tests.gguf_model import write_model
from tests.standins.anthropic_api import MessagesStandIn
from triage.rules.credentials import SHAPES, SPOKEN_EXAMPLES
from triage.rules.sensitivity import CREDENTIAL, scan_text

PAID_KEY = "sk-ant-api03-Configured-Paid-Key-9f8e7d6c"
RUNPOD_KEY = "rpa_CONFIGURED0RUNPOD0KEY0123456789"
SMTP_PASSWORD = "smtp-Configured-Pw-42"
PLANTED = {
    "password": "Hunter2!xyz-Planted",
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "token": "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "card": "4111 1111 1111 1111",
    "iban": "DE89 3704 0044 0532 0130 00",
}
LOG_PASSWORD = "Winter2026!Planted"
LOG_AWS = "AKIA" + "PLANTEDLOG0KEY99"
# A pasted auth log: the password and the key sit in log lines, so in the result's log_slice.
AUTH_LOG = "\n".join(
    [
        "2026-11-02 08:59:01 bastion sshd[2211]: Failed password for root from 203.0.113.7",
        "2026-11-02 08:59:03 bastion sshd[2211]: Failed password for admin from 203.0.113.7",
        f"2026-11-02 09:00:12 bastion sudo[3301]: ann : COMMAND=/usr/bin/mysql -u root "
        f"--password={LOG_PASSWORD}",
        "2026-11-02 09:00:14 bastion uploader[88]: ERROR upload failed "
        f"aws_access_key_id={LOG_AWS}",
        "2026-11-02 09:00:15 bastion uploader[88]: ERROR giving up after 3 tries",
        "2026-11-02 09:00:16 bastion sshd[2230]: Accepted publickey for ann from 10.0.0.4",
    ]
)
# Every shape of the credential table, pasted into tickets: none may come out anywhere.
TABLE_TEXTS = [shape.example for shape in SHAPES] + [text for _, text in SPOKEN_EXAMPLES]
TABLE_SECRETS = sorted(
    {
        text[f.start : f.end]
        for text in TABLE_TEXTS
        for f in scan_text(text, "body")
        if f.tag == CREDENTIAL and f.end - f.start >= 8  # short ones occur in ordinary text
    }
)
SECRETS = [PAID_KEY, RUNPOD_KEY, SMTP_PASSWORD, *PLANTED.values(), LOG_PASSWORD, LOG_AWS]

TICKETS = {
    # a phishing report: high risk, so it goes to the paid tier with what it holds
    "phish.eml": mail(
        f"Phishing: they asked for my password {PLANTED['password']}",
        "I got a fake login page and typed my password "
        f"{PLANTED['password']} before I noticed. Card {PLANTED['card']} too.",
    ),
    "keys.eml": mail(
        "Leaked keys in the repo",
        f"Our CI printed aws_access_key_id = {PLANTED['aws']} and the token {PLANTED['token']}. "
        f"Also, for the record, the helpdesk API key is {PAID_KEY} and smtp {SMTP_PASSWORD}.",
    ),
    "refund.json": json.dumps(
        {
            "subject": "Refund to my account",
            "body": f"Please send it to IBAN {PLANTED['iban']}. Runpod key {RUNPOD_KEY}",
        }
    ),
    "broken.json": json.dumps({"subject": f"no body, password: {PLANTED['password']}"}),
    "authlog.eml": mail(
        "Logins on the bastion we did not make",
        f"Someone got in, I think. Our auth log:\n\n{AUTH_LOG}\n\nPlease look now.",
    ),
    **{
        f"table-{index}.eml": mail(
            "Leaked keys: our credentials were posted publicly",
            "These leaked, rotate them:\n\n" + "\n\n".join(TABLE_TEXTS[index::3]),
        )
        for index in range(3)
    },
}


def _today() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).date().isoformat()


@pytest.fixture
def api() -> Iterator[MessagesStandIn]:
    stand_in = MessagesStandIn().start()
    yield stand_in
    stand_in.stop()


def test_no_secret_reaches_a_log_the_ledger_the_outbox_or_a_remote_request(tmp_path, api):
    model = write_model(tmp_path / "tiny.gguf")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[local]\nenabled = true\nmodel_path = "{model}"\nn_ctx = 2048\nmax_tokens = 400\n'
        f'[paid]\nenabled = true\nbase_url = "{api.base_url}"\nretry_cap_seconds = 0.1\n'
        '[digest]\nsmtp_host = "127.0.0.1"\n[log]\nlevel = "debug"\n'
    )
    inbox = tmp_path / "in"
    inbox.mkdir()
    for name, text in TICKETS.items():
        (inbox / name).write_text(text)
    environ = child_env(
        TRIAGE_PAID__API_KEY=PAID_KEY,
        TRIAGE_RUNPOD__API_KEY=RUNPOD_KEY,
        TRIAGE_DIGEST__SMTP_PASSWORD=SMTP_PASSWORD,
    )

    def triage(*arguments: str) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run(
            [*triage_command(), "--config", str(config), *arguments],
            capture_output=True,
            env=environ,
            cwd=tmp_path,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done

    run = triage("process", "--json", str(inbox))
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(results) == len(TICKETS)
    assert any(r["route"]["tier"] == "paid" for r in results)  # something did leave
    assert api.messages()

    var = tmp_path / "var"
    db = sqlite3.connect(var / "triage.sqlite3")
    ledger = json.dumps(db.execute("SELECT * FROM ledger").fetchall())
    # every table: results, the answer cache, cursors, reservations...
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    stored = json.dumps(
        {table: db.execute(f"SELECT * FROM {table}").fetchall() for table in tables},  # noqa: S608
        default=lambda blob: blob.decode("latin-1"),  # the full-text index's pages: read too
    )
    db.close()
    outbox = {p.name: p.read_text() for p in (var / "outbox").glob("*.json")}
    remote = json.dumps([r.body for r in api.requests])
    places = {
        "log": run.stderr.decode(),
        "stdout": run.stdout.decode(),
        "ledger": ledger,
        "store": stored,
        "outbox": json.dumps(outbox),
        "remote": remote,
    }
    digest = triage("digest", "--date", _today())
    written = list((var / "reports").glob("digest-*"))
    assert len(written) == 2  # markdown and HTML
    places["digest"] = json.dumps([path.read_text() for path in written])
    places["log"] += digest.stderr.decode()
    leaks = [
        (place, secret)
        for place, text in places.items()
        for secret in [*SECRETS, *TABLE_SECRETS]
        if secret in text
    ]
    assert leaks == [], [
        (p, s, places[p][max(0, places[p].find(s) - 200) : places[p].find(s) + 40])
        for p, s in leaks
    ]
    authlog = next(r for r in results if r["source_ref"].endswith("authlog.eml"))
    assert authlog["sensitivity"]["level"] == "restricted"
    assert "log_slice" in {f["field"] for f in authlog["sensitivity"]["findings"]}
    assert "[CREDENTIAL:" in (authlog["log_slice"] or "")
    tables = [r for r in results if "table-" in r["source_ref"]]
    assert all(r["sensitivity"]["level"] == "restricted" for r in tables)
    assert [r["route"]["tier"] for r in tables] == ["paid"] * 3, "the table went out redacted"
    sent = remote.count("[CREDENTIAL:")
    assert sent >= len(TABLE_TEXTS), sent  # each shape reached the paid tier as a placeholder
    # (the card's and IBAN's digits without spaces, too)
    for place, text in places.items():
        for spaced in (PLANTED["card"], PLANTED["iban"]):
            assert spaced.replace(" ", "") not in text, place

    files = [var / "triage.sqlite3", *(var / "outbox").glob("*.json")]
    assert all(path.stat().st_mode & 0o007 == 0 for path in files)
    assert (var / "outbox").stat().st_mode & 0o007 == 0
