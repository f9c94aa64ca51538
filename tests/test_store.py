from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from triage.errors import StoreError
from triage.records import LedgerEntry, TicketKeys
from triage.result import Result, Route
from triage.store.sqlite import MIGRATIONS, SqliteStore

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def result(
    ticket_id: str,
    message_id: str | None = None,
    status: str = "triaged",
    at: datetime = NOW,
    duplicate_of: str | None = None,
) -> Result:
    return Result(
        id=ticket_id,
        source="cli",
        source_ref="/x",
        message_id=message_id,
        received_at=at,
        sender="ann@example.com",
        subject="s",
        status=status,
        status_reason=None,
        duplicate_of=duplicate_of,
        route=Route(tier="rules", reason="r"),
        workflow="other",
    )


def test_a_new_store_is_migrated_to_the_latest_schema_in_wal_mode(tmp_path):
    store = SqliteStore(tmp_path / "s.sqlite3")
    assert store.schema_version == len(MIGRATIONS)
    store.close()
    with sqlite3.connect(tmp_path / "s.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_does_not_migrate_twice_and_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.sqlite3"
    SqliteStore(path).close()
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer than this triage"):
        SqliteStore(path)


def test_results_round_trip_and_answer_has_this_input_been_handled(store):
    assert store.get_result("t-1") is None
    store.save(result("t-1"), TicketKeys("k1"), NOW)
    assert store.get_result("t-1") == result("t-1")
    with pytest.raises(StoreError):
        store.save(result("t-1"), TicketKeys("k1"), NOW)  # one result per ticket


def test_message_id_lookup_follows_duplicate_links_to_the_original(store):
    store.save(result("t-1", "<m@x>"), TicketKeys("k"), NOW)
    store.save(result("t-2", "<m@x>", "duplicate", duplicate_of="t-1"), TicketKeys("k"), NOW)
    assert store.find_by_message_id("<m@x>") == "t-1"
    assert store.find_by_message_id("<other@x>") is None


def test_content_key_lookup_respects_the_window(store):
    store.save(result("t-1", at=NOW), TicketKeys("k"), NOW)
    window = timedelta(hours=1)
    later = NOW + timedelta(minutes=30)
    assert store.find_by_content_key("k", later - window, later + window) == "t-1"
    much_later = NOW + timedelta(hours=3)
    assert store.find_by_content_key("k", much_later - window, much_later + window) is None


def test_cursors_and_ledger_rows_are_kept(store):
    store.set_cursor("imap:a/INBOX", "1:5", NOW)
    store.set_cursor("imap:a/INBOX", "1:9", NOW)
    assert store.get_cursor("imap:a/INBOX") == "1:9"
    store.book(
        LedgerEntry(NOW, "t-1", "vpn", "local", "m", "triage", "1", 10, 5, 0, 0.5, 0.0, 0.01, "ok")
    )
    assert store.integrity_check() == "ok"


def test_a_read_only_store_cannot_write(tmp_path):
    SqliteStore(tmp_path / "s.sqlite3").close()
    reader = SqliteStore(tmp_path / "s.sqlite3", read_only=True)
    with pytest.raises(StoreError):
        reader.save(result("t-1"), TicketKeys(None), NOW)
    reader.close()


def test_a_ledger_from_before_providers_gains_the_provider_column_and_keeps_its_rows(tmp_path):
    path = tmp_path / "s.sqlite3"
    with sqlite3.connect(path) as db:  # a store as triage wrote it before migration 9
        for number, script in enumerate(MIGRATIONS[:8], start=1):
            db.executescript(script)
            db.execute(f"PRAGMA user_version = {number}")
        db.execute(
            "INSERT INTO ledger (at, ticket_id, workflow, tier, model, outcome, usd)"
            " VALUES ('2026-11-02T09:00:00.000000+00:00', 't-1', 'w', 'paid',"
            " 'claude-sonnet-4-6', 'ok', 0.01)"
        )
    store = SqliteStore(path)
    try:
        assert store.schema_version == len(MIGRATIONS)
        [old] = store.ledger_for("t-1")
        assert (old.model, old.provider, old.usd) == ("claude-sonnet-4-6", None, 0.01)
        store.book(
            LedgerEntry.call(
                _Ref(),
                at=NOW,
                ticket_id="t-2",
                workflow="w",
                tier="paid",
                outcome="ok",
                provider="openai:openrouter.ai",
            )
        )
        [new] = store.ledger_for("t-2")
        assert (new.provider, new.model) == ("openai:openrouter.ai", "anthropic/claude-sonnet-4.5")
    finally:
        store.close()


class _Ref:
    model, template, template_version = "anthropic/claude-sonnet-4.5", "analysis", "1"
