"""What is stuck is said where an admin looks: `triage check` (which also reaches the relay's
SMTP server over STARTTLS with its login) and the daily digest."""

from __future__ import annotations

from datetime import date, timedelta

from tests.conftest import mail
from tests.servers import LOGIN, Inbox, make_ca, smtp_server
from triage.cli.check import run_checks
from triage.config.settings import LoadedSettings, load_settings
from triage.redaction import masked_url
from triage.reporting.render import write_digest


def checks_by_name(config) -> dict[str, tuple[bool, str]]:
    loaded = LoadedSettings(load_settings(config, {}).settings, config)
    return {check.name.split(" ")[0]: (check.ok, check.detail) for check in run_checks(loaded)}


def test_check_reaches_the_relay_over_starttls_with_its_login(tmp_path):
    ca, tls = make_ca(tmp_path)
    with smtp_server(Inbox(), tls) as server:
        config = tmp_path / "config.toml"
        relay = (
            f"[relay]\nenabled = true\nhost = '127.0.0.1'\nport = {server.port}\n"
            f"tls = 'starttls'\nca_file = '{ca}'\nusername = '{LOGIN[0].decode()}'\n"
            "default_to = 'helpdesk@example.org'\n"
        )
        config.write_text(relay + f"password = '{LOGIN[1].decode()}'\n")
        good = checks_by_name(config)["relay"]
        config.write_text(relay + "password = 'wrong-password'\n")
        refused = checks_by_name(config)["relay"]
    assert good == (True, "login ok; 0 routes, default to helpdesk@example.org")
    assert refused[0] is False and "login refused" in refused[1]


def test_check_says_a_relay_without_login_was_reached_and_an_empty_host_is_empty(tmp_path):
    with smtp_server(Inbox()) as server:
        config = tmp_path / "config.toml"
        relay = "[relay]\nenabled = true\ntls = 'none'\ndefault_to = 'helpdesk@example.org'\n"
        route = "[[relay.routes]]\nlanguage = ['de']\nto = 'de@example.org'\n"
        config.write_text(f"{relay}host = '127.0.0.1'\nport = {server.port}\n{route}")
        reached = checks_by_name(config)["relay"]
    config.write_text(f"{relay}host = ''\n")
    empty = checks_by_name(config)["relay"]
    assert reached == (True, "reached, no login; 1 route, default to helpdesk@example.org")
    assert empty == (
        False,
        "[relay] host is empty: set it to the SMTP server of the helpdesk",
    )


def test_check_and_the_digest_name_a_webhook_that_keeps_failing_by_its_masked_url(
    harness_for, clock, tmp_path
):
    dead = "http://127.0.0.1:9/<b>hook</b>"  # the discard port: nothing answers
    harness = harness_for(f"[[webhooks]]\nurl = '{dead}'\nsecret = '{'s' * 20}'\n")
    harness.triage(mail("VPN drops", "hourly"))
    for _ in range(3):
        harness.sender("webhook").run_once()
        clock.moment += timedelta(minutes=10)
    _, written = write_digest(harness.store, harness.settings, date(2026, 11, 2))
    deliveries = checks_by_name(tmp_path / "config.toml")["deliveries"]
    shown = masked_url(dead)  # scheme, host and a hash: the path may be the receiver's token
    assert deliveries[0] is False and shown in deliveries[1] and "3 attempts" in deliveries[1]
    html, markdown = (path.read_text() for path in sorted(written.paths, key=lambda p: p.suffix))
    assert "Deliveries stuck" in markdown and shown in markdown and shown in html
    assert "hook</b>" not in html + markdown + deliveries[1]
