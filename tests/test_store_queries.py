"""The queries written outside the store (reports, the delivery queue, metrics, the scheduler)
give the same answers on both backends: on PostgreSQL they run through the store's SQLite-
dialect bridge (`sqlite_dialect`) until the store owns every query. Expected values are
written down here."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from prometheus_client import generate_latest

from tests.test_store import result
from triage.delivery.queue import DeliveryQueue, counts, failing, insert, problems, quarantined
from triage.delivery.records import Delivery
from triage.metrics import MetricsSources, StoreCollector, registry_for
from triage.records import LedgerEntry, TicketKeys
from triage.reporting.data import day_window, month_totals, read_period, spent_by_tier
from triage.scheduler import Jobs
from triage.store_postgres import sqlite_dialect

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def booked(usd: float, ticket: str, tier: str = "paid", outcome: str = "ok") -> LedgerEntry:
    return LedgerEntry(NOW, ticket, "security", tier, "m", "analysis", "1", 10, 5, 0, 0.1, usd,
                       0.5, outcome)  # fmt: skip


def delivery(key: str, size: int = 10) -> Delivery:
    return Delivery(key, "t-1", "webhook", "https://hook", (), b"x" * size, NOW)


def test_the_delivery_queue_works_alike_on_both_backends(any_store):
    with any_store.writing() as db:
        insert(db, [delivery("a"), delivery("b", 20), delivery("c")])
        insert(db, [delivery("a", 99)])  # planned again: kept as it was
    queue = DeliveryQueue(any_store)
    due = queue.due("webhook", NOW)
    assert [(p.delivery.key, len(p.delivery.payload), p.attempts) for p in due] == [
        ("a", 10, 0),
        ("b", 20, 0),
        ("c", 10, 0),
    ]
    assert queue.next_due("webhook") == NOW
    queue.done(["a"], NOW)
    for _ in range(3):
        queue.retry("b", "HTTP 500", NOW + timedelta(minutes=5))
    queue.quarantine("c", "HTTP 410", NOW)
    assert counts(any_store) == {
        ("webhook", "done"): 1,
        ("webhook", "pending"): 1,
        ("webhook", "quarantined"): 1,
    }
    assert [(f.destination, f.pending, f.attempts, f.last_error) for f in failing(any_store)] == [
        ("https://hook", 1, 3, "HTTP 500")
    ]
    assert [(q.key, q.reason) for q in quarantined(any_store)] == [("c", "HTTP 410")]
    assert problems(any_store)[-1] == "webhook: 1 deliveries refused for good (quarantined)"
    assert queue.due("webhook", NOW) == []
    assert [p.delivery.key for p in queue.due("webhook", NOW + timedelta(minutes=5))] == ["b"]


def test_a_period_reads_alike_on_both_backends(any_store):
    day = day_window(date(2026, 11, 2), "UTC")
    any_store.save(result("t-1"), TicketKeys(None), NOW)
    any_store.save(result("t-2"), TicketKeys(None), NOW)
    any_store.save(result("t-3", status="quarantined"), TicketKeys(None), NOW)
    any_store.save(result("t-old"), TicketKeys(None), NOW - timedelta(days=2))
    for entry in (booked(0.25, "t-1"), booked(0.0, "t-2", outcome="cache_hit"), booked(0.5, "t-2")):
        any_store.book(entry)
    data = read_period(any_store, day, with_tickets=True)
    assert data.ticket_count == 3
    assert data.tickets_by_tier == {"rules": 3}
    assert data.expensive == [("t-2", "security", 0.5), ("t-1", "security", 0.25)]
    assert data.subjects == {"t-1": "s", "t-2": "s"}
    assert [line.id for line in data.tickets] == ["t-1", "t-2", "t-3"]
    assert data.quarantine_total == 1
    assert [(c.keys, c.calls, c.usd, c.cache_hits, c.cache_saved_usd) for c in
            data.daily_by_tier] == [(("2026-11-02", "paid"), 3, 0.75, 1, 0.5)]  # fmt: skip
    assert spent_by_tier(any_store, *MONTH) == {"paid": 0.75}
    totals = month_totals(any_store, day)
    assert (totals.usd, totals.tickets) == (0.75, 3)


MONTH = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


def test_the_first_record_is_the_earliest_ticket_or_ledger_row(any_store, settings):
    jobs = Jobs(any_store, settings, lambda: NOW)
    assert jobs._first_record() is None
    any_store.save(result("t-1"), TicketKeys(None), NOW)
    early = NOW - timedelta(hours=3)
    any_store.book(LedgerEntry(early, None, "other", "local", "m", "t", "1", 0, 0, 0, 0.0, 0.0,
                               0.0, "ok"))  # fmt: skip
    assert jobs._first_record() == NOW - timedelta(hours=3)


def test_metrics_are_counted_alike_on_both_backends(any_store):
    any_store.save(result("t-1"), TicketKeys(None), NOW)
    any_store.book(booked(0.25, "t-1"))
    any_store.set_cursor("imap:a/INBOX", "1:2", NOW)
    collector = StoreCollector(any_store, lambda: NOW, MetricsSources(budgets={"paid": 1.0}))
    text = generate_latest(registry_for(collector)).decode()
    assert (
        'triage_tickets_total{category="other",risk="low",source="cli",status="triaged",'
        'tier="rules"} 1.0' in text
    )
    assert 'triage_source_last_success_age_seconds{source="imap:a/INBOX"} 0.0' in text


@pytest.mark.parametrize(
    ("sqlite", "postgres"),
    [
        ("SELECT a FROM t WHERE b = ? AND c LIKE ?", "SELECT a FROM t WHERE b = %s AND c LIKE %s"),
        (
            "INSERT OR IGNORE INTO t (a) VALUES (?)",
            "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING",
        ),
        ("SELECT json_extract(result, '$.subject')", "SELECT ((result)::jsonb ->> 'subject')"),
        ("SELECT date(at, '+1 hours')", "SELECT date(at + interval '+1 hours')"),
        ("sum(outcome = 'cache_hit')", "sum((outcome = 'cache_hit')::int)"),
        ("ORDER BY next_at, rowid", "ORDER BY next_at, seq"),
        ("SELECT '100%'", "SELECT '100%%'"),
    ],
)  # fmt: skip
def test_the_sqlite_dialect_becomes_postgresql(sqlite, postgres):
    assert sqlite_dialect(sqlite) == postgres
