"""`triage run` with the relay, a webhook and metrics on: a dropped mail reaches the SMTP
server and the webhook receiver, /metrics counts it, and STATUS= says what is pending."""

from __future__ import annotations

import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import NO_SCHEDULE, daemon_running, mail, raw
from tests.dovecot import free_port
from tests.servers import Inbox, Received, http_server, smtp_server
from triage.compose.app import build_app
from triage.config.settings import load_settings


def test_the_daemon_relays_posts_and_counts_a_dropped_mail(tmp_path):
    inbox, received = Inbox(), Received()
    metrics_port = free_port()
    (tmp_path / "var" / "inbox").mkdir(parents=True)
    with smtp_server(inbox) as server, http_server(received) as url:
        config = tmp_path / "config.toml"
        config.write_text(
            "[dropfolder]\nsettle_seconds = 0.0\nrescan_seconds = 1.0\n"
            f"[relay]\nenabled = true\nhost = '127.0.0.1'\nport = {server.port}\ntls = 'none'\n"
            "default_to = 'helpdesk@example.org'\ndefault_headers = 'zammad'\n"
            f"[[webhooks]]\nurl = '{url}'\nsecret = '{'w' * 24}'\n"
            f"[metrics]\nlisten = '127.0.0.1:{metrics_port}'\n" + NO_SCHEDULE
        )
        with daemon_running(tmp_path, config) as daemon:
            (tmp_path / "var" / "inbox" / "vpn.eml").write_text(mail("VPN drops", "hourly"))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (inbox.messages and received.requests):
                time.sleep(0.1)
            with urllib.request.urlopen(
                f"http://127.0.0.1:{metrics_port}/metrics", timeout=10
            ) as response:
                text = response.read().decode()
    assert daemon.returncode == 0
    [(_, recipients, content)] = inbox.messages
    assert recipients == ["helpdesk@example.org"] and b"X-Zammad-Ticket-Group: vpn" in content
    assert len(received.requests) == 1
    families = {f.name: f.samples for f in text_string_to_metric_families(text)}
    [ticket] = families["triage_tickets"][:1]
    assert ticket.labels["category"] == "vpn" and ticket.value == 1.0
    deliveries = {(s.labels["kind"], s.labels["state"]) for s in families["triage_deliveries"]}
    assert ("smtp", "done") in deliveries and ("webhook", "done") in deliveries
    [age] = families["triage_source_last_success_age_seconds"]
    assert age.labels == {"source": "dropfolder"} and age.value < 30
    assert [s.labels for s in families["triage_queue_depth"]] == [{"queue": "dropfolder"}]


def test_the_status_line_says_what_deliveries_wait(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        f"[relay]\nenabled = true\nhost = '127.0.0.1'\nport = {free_port()}\ntls = 'none'\n"
        "default_to = 'helpdesk@example.org'\n" + NO_SCHEDULE
    )
    app = build_app(load_settings(config, {}).settings)
    try:
        app.pipeline.handle(raw(mail("Printer jams", "again")))
        assert app.status_line().endswith("deliveries 1 pending")
    finally:
        app.close()
