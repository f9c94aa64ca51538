from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import structlog

from tests.conftest import mail, raw
from triage.compose.app import build_pipeline
from triage.delivery.outbox import Outbox
from triage.errors import StoreError
from triage.store.dryrun import DryRunStore
from triage.store.sqlite import SqliteStore
from triage.ticket import RawInput


def test_a_mail_is_triaged_by_the_rules_and_written_to_store_and_outbox(pipeline, store, settings):
    outcome = pipeline.handle(raw(mail("VPN down", "AnyConnect fails with error 809")))
    result = outcome.result
    assert outcome.new
    assert (result.status, result.category, result.route.tier) == ("triaged", "vpn", "rules")
    assert result.workflow == "vpn" and result.cost.usd == 0.0
    assert store.get_result(result.id) == result
    written = json.loads((settings.outbox.dir / f"{result.id}.json").read_text())
    assert written["id"] == result.id and written["from"] == "ann@example.com"
    for key in (
        "source",
        "source_ref",
        "message_id",
        "received_at",
        "subject",
        "status",
        "status_reason",
        "duplicate_of",
        "category",
        "priority",
        "risk",
        "risk_reasons",
        "sensitivity",
        "summary",
        "fields",
        "route",
        "escalation",
        "cost",
        "workflow",
    ):
        assert key in written


def test_the_same_input_again_returns_the_stored_result_and_writes_nothing(pipeline, store):
    first = pipeline.handle(raw(mail("Printer", "jams")))
    again = pipeline.handle(raw(mail("Printer", "jams")))
    assert not again.new and again.result == first.result
    assert store.count_tickets() == 1


def test_automatic_mail_is_ignored_with_the_reason(pipeline):
    result = pipeline.handle(
        raw(mail("Out of office", "Back Monday", headers="Auto-Submitted: auto-replied"))
    ).result
    assert result.status == "ignored" and result.status_reason.startswith("auto-reply")


def test_same_message_id_is_a_duplicate_of_the_first(pipeline):
    first = pipeline.handle(raw(mail("VPN", "down", message_id="<m1@x>"), name="a.eml")).result
    second = pipeline.handle(raw(mail("VPN", "down again", message_id="<m1@x>"), name="b.eml"))
    assert second.result.status == "duplicate"
    assert second.result.duplicate_of == first.id
    assert first.id in second.result.status_reason


def test_same_content_from_same_sender_within_the_window_is_a_duplicate(pipeline, settings):
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    first = pipeline.handle(raw(mail("Printer", "jams"), name="a.eml", at=at)).result
    soon = pipeline.handle(
        raw(mail("RE: printer", "Jams!"), name="b.eml", at=at + timedelta(hours=1))
    ).result
    assert (soon.status, soon.duplicate_of) == ("duplicate", first.id)
    window = timedelta(hours=settings.dedup.window_hours)
    late = pipeline.handle(raw(mail("Printer", "jams"), name="c.eml", at=at + window * 2)).result
    assert late.status == "triaged"
    other = pipeline.handle(
        raw(mail("Printer", "jams", sender="bob@example.com"), name="d.eml", at=at)
    ).result
    assert other.status == "triaged"


def test_unreadable_input_is_quarantined_with_the_reason(pipeline):
    result = pipeline.handle(raw(b'{"subject": "x"}', name="t.json")).result
    assert result.status == "quarantined" and "body" in result.status_reason
    refused = RawInput("t-refused", b"", "dropfolder", "/in/x", datetime.now(UTC), "too big")
    assert pipeline.handle(refused).result.status_reason == "too big"


def test_a_crash_in_the_rules_costs_one_quarantine_not_the_caller(settings, store, clock):
    class Broken:
        rule = property(lambda self: (_ for _ in ()).throw(RuntimeError("boom")))

    pipeline = build_pipeline(settings, store, None, clock)
    pipeline.replace_rules((Broken(),))  # type: ignore[arg-type]
    result = pipeline.handle(raw(mail("x", "y"))).result
    assert result.status == "quarantined" and "internal error" in result.status_reason


def test_a_store_that_cannot_commit_raises_and_publishes_nothing(settings, clock, tmp_path):
    SqliteStore(settings.store.path).close()
    read_only = SqliteStore(settings.store.path, read_only=True)
    outbox = Outbox(tmp_path / "outbox")
    pipeline = build_pipeline(settings, read_only, outbox, clock)
    with pytest.raises(StoreError):
        pipeline.handle(raw(mail("x", "y")))
    assert list(outbox.directory.iterdir()) == []


def test_dry_run_finds_duplicates_within_the_run_and_writes_nothing(settings, store, clock):
    # `store` (the real one) exists and must stay empty
    dry = DryRunStore(settings.store.path)
    pipeline = build_pipeline(settings, dry, None, clock)
    first = pipeline.handle(raw(mail("Printer", "jams"), name="a.eml")).result
    second = pipeline.handle(raw(mail("Printer", "jams"), name="b.eml")).result
    dry.close()
    assert (second.status, second.duplicate_of) == ("duplicate", first.id)
    assert store.count_tickets() == 0


def test_the_summary_log_line_names_the_ticket_but_never_its_body(pipeline):
    with structlog.testing.capture_logs() as logs:
        pipeline.handle(raw(mail("VPN", "secret-body-marker-4711 password: Hunter2!")))
    line = next(entry for entry in logs if entry["event"] == "ticket.result")
    for key in ("id", "source", "status", "category", "risk", "tier", "cost_usd"):
        assert key in line
    assert "secret-body-marker-4711" not in repr(logs) and "Hunter2" not in repr(logs)


def test_a_sender_flood_by_mail_is_still_triaged_with_its_risk_but_withholds_model_spend(
    make_settings, store, clock
):
    settings = make_settings("[dedup]\nsender_limit_per_hour = 3\n")
    pipeline = build_pipeline(settings, store, None, clock)
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    bodies = ["disk 91% full"] * 4 + ["ransomware: all files encrypted, a ransom note on screen"]
    results = [
        pipeline.handle(
            raw(
                mail(f"Alert {n}", f"{body} ({n})", sender="robot@example.com"),
                name=f"{n}.eml",
                at=at + timedelta(minutes=n),
                source="imap:helpdesk/INBOX",
            )
        ).result
        for n, body in enumerate(bodies)
    ]
    assert [r.status for r in results] == ["triaged"] * 5
    flooded = [any("sender flood" in note for note in r.needs_review) for r in results]
    assert flooded == [False] * 3 + [True] * 2
    assert "robot@example.com" in results[-1].needs_review[0]
    assert results[-1].risk == "high"  # the rules still judge every mail of a flood
    later = pipeline.handle(
        raw(
            mail("Alert 9", "disk 99% full", sender="robot@example.com"),
            name="9.eml",
            at=at + timedelta(hours=3),
            source="imap:helpdesk/INBOX",
        )
    ).result
    assert later.status == "triaged" and not later.needs_review


@pytest.mark.parametrize("source", ["cli", "dropfolder"])
def test_a_web_form_sending_40_tickets_an_hour_through_files_gets_40_results(
    make_settings, store, clock, source
):
    settings = make_settings("[dedup]\nsender_limit_per_hour = 30\n")
    pipeline = build_pipeline(settings, store, None, clock)
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    results = [
        pipeline.handle(
            raw(
                mail(f"Web form #{n}", f"Employee {n}: my laptop {n} will not boot", "form@ex.com"),
                name=f"{n}.eml",
                at=at + timedelta(minutes=n),
                source=source,
            )
        ).result
        for n in range(40)
    ]
    assert [r.status for r in results] == ["triaged"] * 40
    assert not any(r.needs_review for r in results)
