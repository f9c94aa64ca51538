"""Metrics scraped over HTTP from a real server and parsed with prometheus_client's parser;
the textfile for node_exporter; totals come from the store, so a restart keeps them."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import mail, raw
from triage.compose import build_pipeline
from triage.delivery.queue import insert
from triage.delivery.records import Delivery
from triage.metrics import MetricsServer, MetricsSources, StoreCollector, inbox_depth, registry_for
from triage.outbox import Outbox
from triage.store import LedgerEntry, SqliteStore

SUBJECTS = ["Printer jams on floor 2", "VPN drops every hour", "Ransomware note on screen"]


def fill(settings, store, clock) -> None:
    pipeline = build_pipeline(settings, store, Outbox(settings.outbox.dir), clock)
    for n, subject in enumerate(SUBJECTS):
        pipeline.handle(raw(mail(subject, "details", f"u{n}@example.com"), name=f"{n}.eml"))
    store.book(
        LedgerEntry(
            clock(),
            None,
            "security",
            "paid",
            "claude-sonnet-4-6",
            "triage",
            "1",
            1200,
            300,
            0,
            2.5,
            0.75,
            0.75,
            "ok",
        )
    )
    store.book(
        LedgerEntry(
            clock(), None, "vpn", "local", "tiny", "triage", "1", 800, 100, 0, 1.5, 0.0, 0.02, "ok"
        )
    )
    with store.writing() as db:
        insert(db, [Delivery("k1", "t-1", "smtp", "default", ("a@example.org",), b"x", clock())])
    store.set_cursor("imap:support/INBOX", "1:10", datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


def scrape(port: int) -> dict[str, list]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def test_metrics_are_scraped_over_http_and_count_from_the_store(make_settings, clock, tmp_path):
    settings = make_settings("[metrics]\nlisten = '127.0.0.1:0'\n")
    store = SqliteStore(settings.store.path)
    fill(settings, store, clock)
    (settings.dropfolder.inbox).mkdir(parents=True, exist_ok=True)
    (settings.dropfolder.inbox / "waiting.txt").write_text("printer")
    (settings.dropfolder.inbox / ".half.tmp").write_text("not yet")
    sources = MetricsSources(
        budgets={"paid": 50.0, "runpod": 20.0}, queue_depth=inbox_depth(settings.dropfolder.inbox)
    )
    server = MetricsServer(
        registry_for(StoreCollector(store, clock, sources)), settings.metrics.listen, None, 60
    )
    server.start()
    try:
        assert server.port
        families = scrape(server.port)
    finally:
        server.stop()
        store.close()
    tickets = families["triage_tickets"]
    assert sum(s.value for s in tickets if s.name == "triage_tickets_total") == 3
    categories = {s.labels["category"] for s in tickets}
    assert {"printer", "vpn", "security"} <= categories
    assert {s.labels["status"] for s in tickets} == {"triaged"}
    every_label = {v for samples in families.values() for s in samples for v in s.labels.values()}
    assert not any(subject in label for subject in SUBJECTS for label in every_label)
    calls = {s.labels["tier"]: s.value for s in families["triage_model_calls"]}
    assert calls == {"paid": 1.0, "local": 1.0}
    tokens = {
        (s.labels["tier"], s.labels["direction"]): s.value for s in families["triage_model_tokens"]
    }
    assert tokens[("paid", "in")] == 1200 and tokens[("local", "out")] == 100
    left = {s.labels["tier"]: s.value for s in families["triage_budget_remaining_usd"]}
    assert left == {"paid": 49.25, "runpod": 20.0}
    spend = {s.labels["tier"]: s.value for s in families["triage_spend_month_usd"]}
    assert spend["paid"] == 0.75
    deliveries = {
        (s.labels["kind"], s.labels["state"]): s.value for s in families["triage_deliveries"]
    }
    assert deliveries == {("smtp", "pending"): 1.0}
    assert families["triage_queue_depth"][0].value == 1.0
    [age] = families["triage_source_last_success_age_seconds"]
    assert age.labels == {"source": "imap:support/INBOX"} and age.value == 1800.0
    assert families["triage_quarantine_size"][0].value == 0.0


def test_metrics_are_written_for_the_textfile_collector(make_settings, clock, tmp_path):
    textfile = tmp_path / "collector" / "triage.prom"
    settings = make_settings(f"[metrics]\ntextfile = '{textfile}'\n")
    store = SqliteStore(settings.store.path)
    fill(settings, store, clock)
    server = MetricsServer(
        registry_for(StoreCollector(store, clock, MetricsSources(budgets={}))),
        settings.metrics.listen,
        settings.metrics.textfile,
        settings.metrics.textfile_seconds,
    )
    server.start()
    server.stop()
    store.close()
    families = {f.name: f for f in text_string_to_metric_families(textfile.read_text())}
    assert sum(s.value for s in families["triage_tickets"].samples) == 3


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - http://127.0.0.1
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_the_listener_serves_metrics_only_and_answers_404_elsewhere(make_settings, clock):
    settings = make_settings("[metrics]\nlisten = '127.0.0.1:0'\n")
    store = SqliteStore(settings.store.path)
    server = MetricsServer(
        registry_for(StoreCollector(store, clock, MetricsSources(budgets={}))),
        settings.metrics.listen,
        None,
        60,
    )
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert _status(f"{base}/metrics") == 200
        assert _status(f"{base}/metrics?name[]=triage_tickets_total") == 200
        for path in ("/", "/admin", "/metrics/extra", "/metricsx", "/favicon.ico", "/../metrics"):
            assert _status(base + path) == 404, path
    finally:
        server.stop()
        store.close()
