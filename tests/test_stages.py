"""Each stage of a ticket (triage.pipeline.stages) alone, on a real SQLite store: it settles
the ticket or hands the case on, as its name says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import mail, raw
from triage.case import Case
from triage.compose.app import pipeline_options, rules_from
from triage.parsing import parse_ticket
from triage.pipeline.stages import (
    DECISIONS,
    STAGES,
    Context,
    automated,
    decide,
    dedup,
    sender_flood,
    storm,
)
from triage.records import TicketKeys
from triage.result import Result
from triage.rules import evaluate
from triage.rules.dedup import content_key
from triage.tiers import Tiers

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def context(settings, store, clock):
    options = pipeline_options(settings)
    return Context(store, options, Tiers(store, options, clock))


def case_of(settings, text: str, *, name: str = "t.eml", source: str = "cli", at=AT) -> Case:
    item = raw(text, name=name, source=source, at=at)
    ticket = parse_ticket(item.data, pipeline_options(settings).limits)
    verdict = evaluate(ticket, rules_from(settings), 20, source)
    return Case.of(item, ticket, verdict, content_key(ticket))


def test_the_stages_are_listed_in_their_order():
    assert STAGES == (
        "read",
        "unsolicited",
        "automated",
        "dedup",
        "sender flood",
        "storm",
        "knowledge",
        "tiers",
        "commit",
        "publish",
    )
    assert [name for name, _ in DECISIONS] == [
        "unsolicited",
        "automated",
        "dedup",
        "sender flood",
        "storm",
        "knowledge",
    ]


def test_automated_settles_an_auto_reply_as_ignored(settings, context):
    reply = mail("Out of office", "I am away.", headers="Auto-Submitted: auto-replied")
    outcome = automated(case_of(settings, reply), context)
    assert isinstance(outcome, Result)
    assert outcome.status == "ignored" and outcome.priority == "P4"


def test_automated_hands_a_person_s_request_on(settings, context):
    case = case_of(settings, mail("Printer", "The printer on floor 2 jams."))
    assert automated(case, context) is case


def test_dedup_settles_the_same_message_id_as_a_duplicate_of_the_first(settings, store, context):
    text = mail("VPN", "Cannot connect", message_id="<same@example.com>")
    first = case_of(settings, text, name="a.eml")
    store.save(first.base, first.keys, AT)
    again = case_of(settings, text, name="b.eml")
    outcome = dedup(again, context)
    assert isinstance(outcome, Result)
    assert outcome.status == "duplicate" and outcome.duplicate_of == first.base.id


def test_dedup_hands_a_new_ticket_on(settings, context):
    case = case_of(settings, mail("VPN", "Cannot connect", message_id="<new@example.com>"))
    assert dedup(case, context) is case


def test_sender_flood_withholds_model_spend_past_the_hourly_limit(settings, store, context):
    limit = context.options.sender_limit_per_hour
    assert limit > 0
    for n in range(limit):
        earlier = case_of(
            settings,
            mail(f"Form {n}", f"request {n}", sender="form@example.com"),
            name=f"{n}.eml",
            source="imap:support/INBOX",
            at=AT - timedelta(minutes=30),
        )
        store.save(earlier.base, TicketKeys(earlier.content_key), AT)
    case = case_of(
        settings,
        mail("Form", "one more", sender="form@example.com"),
        source="imap:support/INBOX",
    )
    outcome = sender_flood(case, context)
    assert isinstance(outcome, Case)
    assert outcome.withheld is not None and "sender flood" in outcome.withheld


def test_sender_flood_leaves_a_quiet_sender_alone(settings, context):
    case = case_of(settings, mail("Form", "one", sender="quiet@example.com"), source="imap:x/INBOX")
    outcome = sender_flood(case, context)
    assert isinstance(outcome, Case) and outcome.withheld is None


def test_storm_names_the_first_report_of_the_same_failure(settings, store, context):
    text = "The ERP server erp01 is down for all of us since 9:00, nobody can book orders."
    first = case_of(settings, mail("ERP down", text, sender="a@example.com"), name="1.eml")
    assert first.incident, "the example must carry a storm signature"
    store.save(first.base, first.keys, AT)
    second = case_of(
        settings,
        mail("ERP down", text, sender="b@example.com"),
        name="2.eml",
        at=AT + timedelta(minutes=5),
    )
    outcome = storm(second, context)
    assert isinstance(outcome, Case)
    assert outcome.base.storm_of == first.base.id


def test_decide_lets_the_tiers_answer_what_no_stage_settles(settings, context):
    case = case_of(settings, mail("Printer", "The printer on floor 2 jams."))
    result = decide(case, context)
    assert result.status == "triaged" and result.route.tier == "rules"
