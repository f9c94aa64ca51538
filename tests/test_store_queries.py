"""The store's delivery, report, metrics and job ports give the same answers on both backends
(SQLite and a real PostgreSQL, through the `backend` fixture). Expected values are written
down here."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.test_store import result
from triage.records import DELIVERY_MISCONFIGURED, Delivery, Lane, LedgerEntry, Planned, TicketKeys
from triage.reporting.data import day_window, read_period
from triage.result import Result

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MONTH = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


def booked(usd: float, ticket: str | None, outcome: str = "ok", at: datetime = NOW) -> LedgerEntry:
    return LedgerEntry(
        at, ticket, "security", "paid", "m", "analysis", "1", 10, 5, 2, 0.5, usd, 0.5, outcome
    )


def delivery(key: str, size: int = 10, to: str = "https://hook", ticket: str = "t-1") -> Delivery:
    return Delivery(key, ticket, "webhook", to, ("a@x",), b"x" * size, NOW)


def test_deliveries_are_queued_with_their_result_and_worked_off_alike(any_store):
    planned = Planned((delivery("a"), delivery("b", 20), delivery("c")))
    any_store.save(result("t-1"), TicketKeys(None), NOW, planned)
    any_store.add_deliveries("t-1", Planned((delivery("a", 99),)), NOW)  # kept as it was
    any_store.add_deliveries("t-2", Planned(unbuildable="no template"), NOW)
    # a batch holds at least one delivery, and no more payload than asked once it has one
    assert [p.delivery.key for p in any_store.deliveries_due("webhook", NOW, 50, 15)] == ["a"]
    any_store.delivery_retry("a", "HTTP 503", NOW)  # due again at once, one attempt more
    due = any_store.deliveries_due("webhook", NOW, 50, 1 << 20)
    assert [(p.delivery.key, len(p.delivery.payload), p.attempts) for p in due] == [
        ("a", 10, 1),
        ("b", 20, 0),
        ("c", 10, 0),
    ]
    assert due[0].delivery == delivery("a")
    any_store.deliveries_done(["a"], NOW)
    for _ in range(3):
        any_store.delivery_retry("b", "HTTP 500", NOW + timedelta(minutes=5))
    any_store.delivery_quarantine("c", "HTTP 410", NOW + timedelta(minutes=1))
    assert any_store.delivery_counts() == {
        ("webhook", "done"): 1,
        ("webhook", "pending"): 1,
        ("webhook", "quarantined"): 1,
        ("smtp", "quarantined"): 1,
    }
    assert any_store.deliveries_retrying() == {"webhook": 1}  # b; a is done
    failing = any_store.deliveries_failing(3)
    assert [(f.destination, f.pending, f.attempts, f.last_error) for f in failing] == [
        ("https://hook", 1, 3, "HTTP 500")
    ]
    assert [(q.key, q.reason) for q in any_store.deliveries_quarantined(5)] == [
        ("c", "HTTP 410"),
        ("t-2.unbuilt", "no template"),
    ]
    assert any_store.deliveries_due("webhook", NOW, 50, 1 << 20) == []
    assert any_store.next_delivery_due("webhook") == NOW + timedelta(minutes=5)


def test_each_lane_sees_only_its_destination_and_the_catch_all_lane_the_rest(any_store):
    planned = Planned(
        (
            delivery("a", to="https://one"),
            delivery("b", to="https://two"),
            delivery("c", to="https://gone"),
        )
    )
    any_store.save(result("t-1"), TicketKeys(None), NOW, planned)
    one, two = Lane("https://one"), Lane("https://two")
    rest = Lane(None, ("https://one", "https://two"))

    def due(lane: Lane) -> list[str]:
        return [p.delivery.key for p in any_store.deliveries_due("webhook", NOW, 50, 1 << 20, lane)]

    any_store.delivery_retry("b", "HTTP 503", NOW + timedelta(minutes=5))
    assert any_store.next_delivery_due("webhook", two) == NOW + timedelta(minutes=5)
    assert any_store.next_delivery_due("webhook", one) == NOW
    assert (due(one), due(two), due(rest)) == (["a"], [], ["c"])


def test_a_replayed_result_is_the_next_revision_and_supersedes_the_one_still_pending(any_store):
    any_store.save(result("t-1"), TicketKeys(None), NOW, Planned((delivery("t-1.wx"),)))
    assert any_store.delivery_revisions("t-1") == {("webhook", "https://hook"): 1}
    assert any_store.delivery_revisions("t-9") == {}
    later = NOW + timedelta(minutes=1)
    any_store.add_deliveries("t-1", Planned((delivery("t-1.wx.v2"),), revised=True), later)
    assert any_store.delivery_revisions("t-1") == {("webhook", "https://hook"): 2}
    due = any_store.deliveries_due("webhook", later, 50, 1 << 20)
    assert [p.delivery.key for p in due] == ["t-1.wx.v2"]  # the first is never sent
    assert any_store.delivery_counts() == {("webhook", "pending"): 1, ("webhook", "superseded"): 1}


def test_a_tickets_deliveries_are_listed_in_the_order_planned_with_their_fate(any_store):
    ack = Delivery("t-1.ack", "t-1", "ack", "requester", ("ann@example.com",), b"a", NOW)
    relay = Delivery("t-1.r1", "t-1", "smtp", "default", ("desk@example.org",), b"m", NOW)
    hook = delivery("t-1.wx", to="https://hook/T0/s3cret")
    other = delivery("t-2.wx", ticket="t-2")
    any_store.save(result("t-1"), TicketKeys(None), NOW, Planned((relay, hook, ack)))
    any_store.save(result("t-2"), TicketKeys(None), NOW, Planned((other,)))
    sent, retry = NOW + timedelta(minutes=2), NOW + timedelta(minutes=5)
    any_store.deliveries_done(["t-1.ack"], sent)
    any_store.delivery_retry("t-1.r1", "421 4.3.2 try later", retry)
    any_store.delivery_quarantine("t-1.wx", "HTTP 410", sent)
    later = NOW + timedelta(minutes=9)
    revised = delivery("t-1.wx.v2", to="https://hook/T0/s3cret")
    any_store.add_deliveries("t-1", Planned((revised,), revised=True), later)
    facts = any_store.deliveries_of("t-1")
    assert [
        (f.key, f.kind, f.destination, f.recipients, f.state, f.attempts, f.last_error)
        for f in facts
    ] == [
        ("t-1.r1", "smtp", "default", ("desk@example.org",), "pending", 1, "421 4.3.2 try later"),
        ("t-1.wx", "webhook", "https://hook/T0/s3cret", ("a@x",), "quarantined", 1, "HTTP 410"),
        ("t-1.ack", "ack", "requester", ("ann@example.com",), "done", 1, None),
        ("t-1.wx.v2", "webhook", "https://hook/T0/s3cret", ("a@x",), "pending", 0, None),
    ]
    assert [(f.created_at, f.next_at, f.done_at) for f in facts] == [
        (NOW, retry, None),
        (NOW, NOW, sent),
        (NOW, NOW, sent),
        (NOW, NOW, None),
    ]
    assert [f.revision for f in facts] == [1, 1, 1, 2]
    assert any_store.deliveries_of("t-9") == []


def test_a_misconfigured_destination_is_held_and_named_with_its_reason(any_store):
    planned = Planned((delivery("a"), delivery("b"), delivery("c", to="https://fine")))
    any_store.save(result("t-1"), TicketKeys(None), NOW, planned)
    until = NOW + timedelta(hours=1)
    any_store.delivery_retry("a", DELIVERY_MISCONFIGURED + "HTTP 301 to https://elsewhere", until)
    any_store.deliveries_hold("webhook", "https://hook", until)
    assert [p.delivery.key for p in any_store.deliveries_due("webhook", NOW, 50, 1 << 20)] == ["c"]
    assert any_store.next_delivery_due("webhook", Lane("https://hook")) == until
    [held] = any_store.deliveries_misconfigured()
    assert (held.kind, held.destination, held.pending, held.last_error) == (
        "webhook",
        "https://hook",
        2,
        "misconfigured: HTTP 301 to https://elsewhere",
    )
    # A hold never brings a later retry forward.
    any_store.delivery_retry("b", "HTTP 503", until + timedelta(hours=1))
    any_store.deliveries_hold("webhook", "https://hook", until)
    assert any_store.next_delivery_due("webhook", Lane("https://hook")) == until
    any_store.deliveries_done(["a"], until)
    assert any_store.deliveries_misconfigured() == []


def test_reports_read_the_same_period_alike(any_store):
    day = day_window(date(2026, 11, 2), "UTC")
    any_store.save(result("t-1"), TicketKeys(None), NOW)
    any_store.save(result("t-2"), TicketKeys(None), NOW + timedelta(minutes=1))
    any_store.save(result("t-3", status="quarantined"), TicketKeys(None), NOW)
    any_store.save(result("t-old"), TicketKeys(None), NOW - timedelta(days=2))
    any_store.book(booked(0.25, "t-1"))
    any_store.book(booked(0.0, "t-2", outcome="cache_hit"))
    any_store.book(booked(0.5, "t-2", at=NOW + timedelta(hours=16)))  # 01:00 in Berlin, 3 Nov
    costs = any_store.ledger_costs(*MONTH, ("workflow", "tier"))
    assert [(c.keys, c.calls, c.usd, c.cache_hits, c.cache_saved_usd) for c in costs] == [
        (("security", "paid"), 3, 0.75, 1, 0.5)
    ]
    daily = any_store.ledger_costs(*MONTH, ("day", "tier"), "Europe/Berlin")
    assert [(c.keys, c.calls, c.usd) for c in daily] == [
        (("2026-11-02", "paid"), 2, 0.25),
        (("2026-11-03", "paid"), 1, 0.5),
    ]
    counts = any_store.ticket_counts(day.since, day.until)
    assert (counts.total, counts.by_tier, counts.by_workflow) == (3, {"rules": 3}, {"other": 3})
    assert any_store.top_spenders(*MONTH, 10) == [("t-2", "security", 0.5), ("t-1", "security",
                                                                          0.25)]  # fmt: skip
    assert any_store.subjects(["t-1", "t-9"]) == {"t-1": "s"}
    assert any_store.subjects([]) == {}
    created = any_store.results_created(day.since, day.until)
    assert [Result.from_json(r).id for r in created] == ["t-1", "t-3", "t-2"]
    assert [Result.from_json(r).id for r in any_store.quarantined_results(5)] == ["t-3"]
    assert any_store.spent_by_tier(*MONTH) == {"paid": 0.75}
    assert any_store.count_created(day.since, day.until) == 3
    data = read_period(any_store, day, with_tickets=True)
    assert data.ticket_count == 3 and data.quarantine_total == 1


def test_the_first_record_is_the_earliest_ticket_or_ledger_row(any_store):
    assert any_store.first_record_at() is None
    any_store.save(result("t-1"), TicketKeys(None), NOW)
    assert any_store.first_record_at() == NOW
    any_store.book(booked(0.0, None, at=NOW - timedelta(hours=3)))
    assert any_store.first_record_at() == NOW - timedelta(hours=3)


def test_metrics_totals_are_counted_alike(any_store):
    any_store.save(result("t-1"), TicketKeys(None), NOW)
    any_store.save(result("t-2"), TicketKeys(None), NOW)
    any_store.book(booked(0.25, "t-1"))
    any_store.book(booked(0.0, "t-2", outcome="cache_hit"))
    any_store.set_cursor("imap:a/INBOX", "1:2", NOW)
    totals = any_store.ticket_totals()
    assert [(t.source, t.status, t.tier, t.count) for t in totals] == [
        ("cli", "triaged", "rules", 2)
    ]
    calls = sorted(any_store.call_totals(), key=lambda c: c.outcome)
    assert [(c.outcome, c.calls, c.tokens_in, c.cached_tokens, c.seconds) for c in calls] == [
        ("cache_hit", 1, 10, 2, 0.5),
        ("ok", 1, 10, 2, 0.5),
    ]
    assert any_store.cursor_times() == {"imap:a/INBOX": NOW}
