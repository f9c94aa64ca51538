"""The store's contract, run over both backends (SQLite and a real PostgreSQL, through the
`backend` fixture): what a result, a look-up, a budget, the cache, a job or a label means does
not depend on where the store lives. Expected values are written down here."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Store
from tests.test_store import result
from triage.errors import StoreError
from triage.records import GuardAnswer, LedgerEntry, TicketKeys
from triage.store.sqlite import SqliteStore

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MONTH = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


def entry(usd: float, tier: str = "paid", at: datetime = NOW, ticket: str = "t-1") -> LedgerEntry:
    return LedgerEntry(
        at, ticket, "security", tier, "claude", "analysis", "1", 100, 50, 7, 1.5, usd, 0.2, "ok"
    )


def migrations_of(store: Store) -> int:
    if isinstance(store, SqliteStore):
        from triage.store.schema import MIGRATIONS
    else:
        from triage.store.postgres.schema import MIGRATIONS
    return len(MIGRATIONS)


# -- schema --------------------------------------------------------------------------------


def test_a_new_store_is_at_the_latest_schema_and_reopening_keeps_its_data(backend):
    first = backend()
    assert first.schema_version == migrations_of(first)
    first.save(result("t-1"), TicketKeys("k"), NOW)
    again = backend()
    assert again.schema_version == migrations_of(again)
    assert again.get_result("t-1") == result("t-1")


def test_stores_opened_at_once_on_a_fresh_store_all_migrate_it_once(backend):
    errors: list[BaseException] = []
    start = threading.Barrier(6)
    opened: list[Store] = []

    def open_it() -> None:
        start.wait()
        try:
            opened.append(backend())
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {store.schema_version for store in opened} == {migrations_of(opened[0])}


# -- tickets --------------------------------------------------------------------------------


def test_one_result_per_ticket_id(any_store):
    assert any_store.get_result("t-1") is None
    any_store.save(result("t-1"), TicketKeys("k1"), NOW)
    assert any_store.get_result("t-1") == result("t-1")
    with pytest.raises(StoreError):
        any_store.save(result("t-1"), TicketKeys("k1"), NOW)
    assert any_store.count_tickets() == 1


def test_message_id_lookup_follows_duplicate_links_to_the_original(any_store):
    any_store.save(result("t-1", "<m@x>"), TicketKeys("k"), NOW)
    any_store.save(result("t-2", "<m@x>", "duplicate", duplicate_of="t-1"), TicketKeys("k"), NOW)
    assert any_store.find_by_message_id("<m@x>") == "t-1"
    assert any_store.find_by_message_id("<other@x>") is None


def test_message_id_lookup_ignores_quarantined_results(any_store):
    any_store.save(result("t-1", "<m@x>", "quarantined"), TicketKeys(None), NOW)
    assert any_store.find_by_message_id("<m@x>") is None


def test_content_key_lookup_finds_triaged_tickets_inside_the_window_only(any_store):
    any_store.save(result("t-1", at=NOW), TicketKeys("k"), NOW)
    any_store.save(result("t-2", at=NOW, status="quarantined"), TicketKeys("q"), NOW)
    hour = timedelta(hours=1)
    later = NOW + timedelta(minutes=30)
    assert any_store.find_by_content_key("k", later - hour, later + hour) == "t-1"
    much_later = NOW + timedelta(hours=3)
    assert any_store.find_by_content_key("k", much_later - hour, much_later + hour) is None
    assert any_store.find_by_content_key("q", NOW - hour, NOW + hour) is None


def test_the_earliest_of_several_matching_tickets_is_the_original(any_store):
    any_store.save(result("t-late", at=NOW + timedelta(minutes=5)), TicketKeys("k"), NOW)
    any_store.save(result("t-early", at=NOW), TicketKeys("k"), NOW)
    hour = timedelta(hours=1)
    assert any_store.find_by_content_key("k", NOW - hour, NOW + hour) == "t-early"


def test_recent_incidents_are_those_of_the_kinds_asked_within_the_window_earliest_first(
    any_store,
):
    def incident(ticket: str, minutes: int, *elements: str, status: str = "triaged") -> None:
        at = NOW + timedelta(minutes=minutes)
        keys = TicketKeys(f"k-{ticket}", incident=frozenset(elements), incident_at=at)
        any_store.save(result(ticket, at=at, status=status), keys, NOW)

    incident("a", 10, "problem:failure", "share", "floor2")
    incident("b", 5, "problem:failure", "vpn")
    incident("c", 7, "problem:security", "phish")
    incident("d", 8, "problem:failure", "share", status="quarantined")
    incident("e", 90, "problem:failure", "share")
    found = any_store.recent_incidents(
        NOW, NOW + timedelta(minutes=60), frozenset({"problem:failure"})
    )
    assert [r.id for r in found] == ["b", "a"]
    assert found[1].signature == frozenset({"problem:failure", "share", "floor2"})
    assert found[1].received_at == NOW + timedelta(minutes=10)
    both = any_store.recent_incidents(
        NOW, NOW + timedelta(minutes=60), frozenset({"problem:failure", "problem:security"})
    )
    assert [r.id for r in both] == ["b", "c", "a"]
    assert any_store.recent_incidents(NOW, NOW + timedelta(hours=2), frozenset()) == []


def test_mails_from_a_sender_are_counted_within_the_window(any_store):
    for n, minutes in enumerate((0, 20, 40, 120)):
        any_store.save(result(f"t-{n}", at=NOW + timedelta(minutes=minutes)), TicketKeys(None), NOW)
    assert any_store.count_from_sender("ann@example.com", NOW, NOW + timedelta(hours=1)) == 3
    assert any_store.count_from_sender("bob@example.com", NOW, NOW + timedelta(hours=3)) == 0


def test_a_replay_replaces_only_a_quarantined_result_and_its_alias_finds_it(any_store):
    any_store.save(result("t-1", status="quarantined"), TicketKeys(None), NOW)
    fixed = result("t-1")
    assert any_store.replace_quarantined(fixed, TicketKeys("k"), NOW, alias="t-1-fixed")
    assert any_store.get_result("t-1") == fixed
    assert any_store.get_result("t-1-fixed") == fixed
    assert any_store.count_quarantined() == 0
    assert not any_store.replace_quarantined(fixed, TicketKeys("k"), NOW)
    assert not any_store.replace_quarantined(result("t-never"), TicketKeys("k"), NOW)
    assert any_store.count_tickets() == 1


def test_tickets_are_counted_by_status_and_by_when_they_were_committed(any_store):
    any_store.save(result("t-1"), TicketKeys(None), NOW - timedelta(days=1))
    any_store.save(result("t-2", status="quarantined"), TicketKeys(None), NOW)
    any_store.save(result("t-3"), TicketKeys(None), NOW + timedelta(hours=1))
    assert any_store.count_tickets() == 3
    assert any_store.count_quarantined() == 1
    assert any_store.count_since(NOW) == 2


def test_a_naive_moment_is_refused(any_store):
    with pytest.raises(ValueError, match="naive"):
        any_store.count_since(datetime(2026, 11, 2, 9, 0))


# -- transactions ---------------------------------------------------------------------------


def test_a_look_up_and_the_insert_it_decides_are_one_transaction(backend):
    """Another store (another daemon's connection) cannot slip its transaction between our
    look-up and our insert: it waits until ours is over, then sees our row."""
    ours, theirs = backend(), backend()
    seen: list[object] = []
    with ours.transaction():
        assert ours.get_result("t-1") is None

        def other() -> None:
            with theirs.transaction():
                seen.append(theirs.get_result("t-1"))

        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.3)  # it waits for our transaction meanwhile
        assert seen == []
        ours.save(result("t-1"), TicketKeys("k"), NOW)
    thread.join(timeout=10)
    assert len(seen) == 1 and seen[0] == result("t-1")


def test_a_failure_inside_a_transaction_leaves_nothing_behind(any_store):
    with pytest.raises(RuntimeError), any_store.transaction():
        any_store.save(result("t-1"), TicketKeys("k"), NOW)
        any_store.book(entry(0.1))
        raise RuntimeError("triage crashed after the insert")
    assert any_store.get_result("t-1") is None
    assert any_store.ledger_for("t-1") == []
    any_store.save(result("t-1"), TicketKeys("k"), NOW)  # usable afterwards
    assert any_store.count_tickets() == 1


def test_a_failed_write_inside_a_transaction_fails_the_whole_transaction(any_store):
    any_store.save(result("t-1"), TicketKeys("k"), NOW)
    with pytest.raises(StoreError), any_store.transaction():
        any_store.save(result("t-2"), TicketKeys("k"), NOW)
        any_store.save(result("t-1"), TicketKeys("k"), NOW)  # a second result for t-1
    assert any_store.get_result("t-2") is None


# -- cursors and ledger ---------------------------------------------------------------------


def test_a_cursor_keeps_its_latest_value(any_store):
    assert any_store.get_cursor("imap:a/INBOX") is None
    any_store.set_cursor("imap:a/INBOX", "1:5", NOW)
    any_store.set_cursor("imap:a/INBOX", "1:9", NOW)
    assert any_store.get_cursor("imap:a/INBOX") == "1:9"


def test_ledger_rows_come_back_as_booked_in_order(any_store):
    rows = [entry(0.25), entry(0.0, tier="local", at=NOW + timedelta(seconds=1))]
    for row in rows:
        any_store.book(row)
    any_store.book(entry(0.5, ticket="t-2"))
    assert any_store.ledger_for("t-1") == rows
    assert any_store.spent_total(*MONTH) == 0.75


# -- budgets --------------------------------------------------------------------------------


def test_a_reservation_that_fits_is_held_and_settled_by_the_real_cost(any_store):
    reservation = any_store.reserve("paid", "t-1", 0.30, 1.00, *MONTH, NOW)
    assert reservation is not None
    assert any_store.spent("paid", *MONTH) == pytest.approx(0.30)
    any_store.settle(reservation, [entry(0.12)])
    assert any_store.spent("paid", *MONTH) == pytest.approx(0.12)


def test_a_reservation_that_does_not_fit_is_refused(any_store):
    any_store.book(entry(0.95))
    assert any_store.reserve("paid", "t-1", 0.10, 1.00, *MONTH, NOW) is None
    assert any_store.reserve("paid", "t-1", 0.05, 1.00, *MONTH, NOW) is not None


def test_budgets_are_per_tier_and_per_month(any_store):
    any_store.book(entry(0.90, tier="runpod"))
    any_store.book(entry(0.90, at=datetime(2026, 10, 31, 23, tzinfo=UTC)))
    assert any_store.reserve("paid", "t-1", 0.50, 1.00, *MONTH, NOW) is not None


def test_stores_racing_for_an_almost_spent_budget_never_overshoot_it(backend):
    backend().book(entry(0.55))
    stores = [backend() for _ in range(12)]
    granted: list[int] = []
    start = threading.Barrier(len(stores))

    def escalate(store: Store) -> None:
        start.wait()
        for _ in range(3):
            reservation = store.reserve("paid", "t-x", 0.10, 1.00, *MONTH, NOW)
            if reservation is not None:
                store.settle(reservation, [entry(0.10)])
                granted.append(reservation)

    threads = [threading.Thread(target=escalate, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 4
    assert backend().spent("paid", *MONTH) == pytest.approx(0.95)


# -- answer cache ---------------------------------------------------------------------------


def test_the_answer_cache_answers_within_its_scope_and_age(any_store):
    any_store.cache_put("key", "local", '{"a": 1}', NOW)
    assert any_store.cache_get("key", "local", NOW - timedelta(days=1)) == '{"a": 1}'
    assert any_store.cache_peek("key", "local", NOW - timedelta(days=1)) == '{"a": 1}'
    assert any_store.cache_get("key", "paid", NOW - timedelta(days=1)) is None
    assert any_store.cache_get("key", "local", NOW + timedelta(seconds=1)) is None
    any_store.cache_put("key", "paid", '{"a": 2}', NOW)
    assert any_store.cache_get("key", "paid", NOW) == '{"a": 2}'
    assert any_store.cache_get("key", "local", NOW) is None


# -- the crying-wolf guard's memory ---------------------------------------------------------

RAISED, HELD = GuardAnswer(raised=True, held=True), GuardAnswer(raised=True, held=False)
QUIET = GuardAnswer(raised=False, held=False)


def test_guard_answers_come_back_oldest_first_and_only_the_last_kept_stay(any_store):
    assert any_store.guard_answers(20) == []
    for n, answer in enumerate([QUIET, HELD, RAISED, QUIET, RAISED]):
        any_store.remember_guard_answer(answer, f"t-{n}", "m.gguf", NOW, keep=3)
    assert any_store.guard_answers(20) == [RAISED, QUIET, RAISED]  # the last three kept
    assert any_store.guard_answers(2) == [QUIET, RAISED]


def test_the_guards_memory_is_one_for_every_handle_on_the_store(backend):
    one, two = backend(), backend()
    one.remember_guard_answer(RAISED, "t-1", "m.gguf", NOW, keep=200)
    two.remember_guard_answer(QUIET, "t-2", "m.gguf", NOW, keep=200)
    one.remember_guard_answer(HELD, "t-3", "m.gguf", NOW, keep=200)
    assert one.guard_answers(20) == two.guard_answers(20) == [RAISED, QUIET, HELD]


def test_a_guard_answer_of_a_ticket_whose_commit_failed_is_not_remembered(any_store):
    any_store.save(result("t-1"), TicketKeys("k"), NOW)
    with pytest.raises(StoreError), any_store.transaction():
        any_store.remember_guard_answer(RAISED, "t-1", "m.gguf", NOW, keep=200)
        any_store.save(result("t-1"), TicketKeys("k"), NOW)  # a second result for t-1
    with pytest.raises(RuntimeError), any_store.transaction():
        any_store.save(result("t-2"), TicketKeys("k"), NOW)
        any_store.remember_guard_answer(RAISED, "t-2", "m.gguf", NOW, keep=200)
        raise RuntimeError("triage crashed before the commit")
    assert any_store.guard_answers(20) == []
    with any_store.transaction():
        any_store.save(result("t-2"), TicketKeys("k"), NOW)
        any_store.remember_guard_answer(QUIET, "t-2", "m.gguf", NOW, keep=200)
    assert any_store.guard_answers(20) == [QUIET]


# -- jobs and labels ------------------------------------------------------------------------


def test_a_job_period_is_marked_done_once(backend):
    one, two = backend(), backend()
    assert not one.job_done("digest", "2026-11-01")
    assert one.mark_job_done("digest", "2026-11-01", NOW)
    assert not two.mark_job_done("digest", "2026-11-01", NOW)
    assert two.job_done("digest", "2026-11-01")
    assert not two.job_done("report", "2026-11-01")


def test_a_later_label_replaces_an_earlier_one_and_labels_come_oldest_first(any_store):
    any_store.save(result("t-1"), TicketKeys(None), NOW)
    any_store.save(result("t-2"), TicketKeys(None), NOW)
    any_store.record_label("t-2", "network", "network", "desktop", "cli", NOW)
    any_store.record_label("t-1", "desktop", None, "desktop", "cli", NOW + timedelta(minutes=1))
    any_store.record_label("t-2", "security", "security", "desktop", "file.csv", NOW)
    assert [(team, category, r.id) for team, category, r in any_store.labelled()] == [
        ("security", "security", "t-2"),
        ("desktop", None, "t-1"),
    ]
