"""Storms through the pipeline: reports of one incident by several people are grouped under
the first (`storm_of`), each keeps its own result, and unrelated reports stay apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from tests.conftest import mail, raw
from triage.compose.app import build_pipeline

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

REPORTS = [
    ("ann@example.com", "File server down?", "The S: drive on the file server is gone for me."),
    ("bob@example.com", "Laufwerk S weg", "Seit 9 Uhr ist das Netzlaufwerk S nicht erreichbar."),
    ("cy@example.com", "Cannot open shared drive", "Drive S: not available, file server error."),
    ("di@example.com", "S-Laufwerk", "Der Dateiserver geht nicht, Laufwerk S fehlt."),
]


def handle(pipeline, sender, subject, body, minutes, name):
    """A mail sent `minutes` after AT, received a minute later."""
    sent = AT + timedelta(minutes=minutes)
    message = mail(subject, body, sender=sender).replace(
        "Date: Mon, 02 Nov 2026 09:00:00 +0100", f"Date: {format_datetime(sent)}"
    )
    return pipeline.handle(raw(message, name=name, at=sent + timedelta(minutes=1))).result


def test_reports_of_one_outage_in_other_words_are_one_storm_each_with_its_result(
    settings, store, clock
):
    pipeline = build_pipeline(settings, store, None, clock)
    results = [
        handle(pipeline, sender, subject, body, 4 * n, f"{n}.eml")
        for n, (sender, subject, body) in enumerate(REPORTS)
    ]
    first = results[0]
    assert [r.status for r in results] == ["triaged"] * 4
    assert first.storm_of is None
    assert [r.storm_of for r in results[1:]] == [first.id] * 3
    assert len({r.id for r in results}) == 4  # each report keeps its own result
    assert results[-1].risk == "high"  # reported by many: an outage, not one person's problem
    assert store.get_result(results[-1].id).storm_of == first.id


def test_unrelated_failures_and_reports_hours_apart_are_not_a_storm(settings, store, clock):
    pipeline = build_pipeline(settings, store, None, clock)
    a = handle(pipeline, *REPORTS[0], 0, "a.eml")
    printer = handle(
        pipeline, "eve@example.com", "Printer offline", "The printer on floor 3 is offline", 5, "b"
    )
    later = handle(pipeline, *REPORTS[1], 300, "c.eml")
    assert a.storm_of is None and printer.storm_of is None and later.storm_of is None


def test_a_folder_of_old_mail_processed_at_once_keeps_the_mails_own_timeline(
    settings, store, clock
):
    """`process` of last week's mail: all read now, each file saved when its mail arrived
    (its modification time, which `process` takes as the arrival), sent hours apart."""
    pipeline = build_pipeline(settings, store, None, clock)
    results = []
    for n, (sender, subject, body) in enumerate(REPORTS[:2]):
        sent = AT + timedelta(hours=5 * n)
        message = mail(subject, body, sender=sender).replace(
            "Date: Mon, 02 Nov 2026 09:00:00 +0100", f"Date: {format_datetime(sent)}"
        )
        arrived = sent + timedelta(minutes=3)
        results.append(pipeline.handle(raw(message, name=f"{n}.eml", at=arrived)).result)
    assert [r.storm_of for r in results] == [None, None]


def test_a_wrong_or_spoofed_past_date_never_ties_reports_received_days_apart_into_a_storm(
    settings, store, clock
):
    """Three reports of the S: drive, received a day apart, all dated the same morning: each
    is judged by when it arrived, so no storm and no high risk from the count."""
    pipeline = build_pipeline(settings, store, None, clock)
    results = []
    for n, (sender, subject, body) in enumerate(REPORTS[:3]):
        message = mail(subject, body, sender=sender)  # Date: Mon, 02 Nov 2026 09:00 +0100
        arrived = AT + timedelta(days=n + 1, minutes=n)
        results.append(pipeline.handle(raw(message, name=f"{n}.eml", at=arrived)).result)
    assert [r.storm_of for r in results] == [None, None, None]
    assert results[-1].risk != "high"


def test_a_date_is_believed_only_within_hours_before_the_mail_arrived():
    from triage.case import reported_at
    from triage.parsing import MailLimits, parse_ticket

    arrived = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
    cases = [  # (the mail's Date, when it counts as reported)
        ("Thu, 05 Nov 2026 11:58:00 +0000", datetime(2026, 11, 5, 11, 58, tzinfo=UTC)),
        ("Thu, 05 Nov 2026 02:00:00 +0000", datetime(2026, 11, 5, 2, 0, tzinfo=UTC)),
        ("Mon, 02 Nov 2026 09:00:00 +0100", arrived),  # three days before it arrived
        ("Thu, 05 Nov 2026 13:00:00 +0000", arrived),  # after it arrived
        ("Sat, 01 Jan 2000 00:00:00 +0000", arrived),  # a wrong clock
    ]
    for date, expected in cases:
        message = mail("VPN down", "since 9").replace(
            "Date: Mon, 02 Nov 2026 09:00:00 +0100", f"Date: {date}"
        )
        ticket = parse_ticket(message.encode(), MailLimits(1_000_000, 100, 10))
        assert reported_at(ticket, arrived) == expected, date
