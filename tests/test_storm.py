"""Storms: one incident reported by several people in different words is grouped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from triage.rules.storm import FAILURE, Recent, signature, storm_of, storm_risk

T0 = datetime(2025, 3, 11, 8, 0, tzinfo=UTC)
REPORTS = [
    "S: drive gone? it says network path not found. anyone else?",
    "Netzlaufwerk S: nicht erreichbar, die ganze Buchhaltung kommt nicht auf \\\\fs-01\\daten",
    "Explorer freezes on the share (S: or P:), network location is not available",
    "Laufwerke weg. S und P.",
    "is the fileserver down?? network path not found, whole floor complaining",
]


def replay(texts: list[str], minutes: int = 4) -> list[tuple[str, object]]:
    recent: list[Recent] = []
    found = []
    for number, text in enumerate(texts):
        when = T0 + timedelta(minutes=minutes * number)
        sig = signature(text, sender="x@example.com")
        storm = storm_of(when, sig, recent)
        found.append((f"t{number}", storm))
        recent.append(Recent(f"t{number}", when, "network", "low", sig, storm and storm.first_id))
    return found


def test_reports_of_one_outage_in_english_and_german_point_at_the_first():
    found = replay(REPORTS)
    assert found[0][1] is None
    assert [storm.first_id for _, storm in found[1:]] == ["t0"] * 4  # type: ignore[attr-defined]


def test_a_storm_of_three_reports_raises_the_risk_to_high():
    storms = [storm for _, storm in replay(REPORTS)]
    assert storm_risk(storms[1], "low") == "low"  # two reports: grouped, not yet an outage
    assert storm_risk(storms[3], "low") == "high"


def test_reports_outside_the_window_are_no_storm():
    assert all(storm is None for _, storm in replay(REPORTS[:2], minutes=90))


def test_unrelated_failures_in_the_same_hour_are_no_storm():
    texts = ["Outlook crashes when I open a calendar", "Printer on floor 2 jams", REPORTS[0]]
    assert all(storm is None for _, storm in replay(texts))


def test_requests_without_a_failure_are_never_a_storm():
    texts = ["Please give me access to the S: drive", "Need access to the S: drive share too"]
    assert all(storm is None for _, storm in replay(texts))
    assert FAILURE not in signature(texts[0])


def test_the_same_phishing_mail_forwarded_by_two_people_is_one_storm():
    lure = "From: IT <it@quota-check.example.net>\nSubject: Mailbox full"
    first = signature("is this legit?", forwarded=lure, incident=True)
    second = signature("looks dodgy", forwarded=lure, incident=True)
    storm = storm_of(
        T0 + timedelta(minutes=5), second, [Recent("a", T0, "security", "high", first)]
    )
    assert storm is not None and storm.first_id == "a"


def test_hosts_in_the_senders_own_domain_do_not_make_a_storm():
    one = signature("Keyboard broken, cannot type", ["portal.example.com"], sender="f@example.com")
    two = signature("Scanner cradle cannot charge", ["portal.example.com"], sender="f@example.com")
    assert (
        storm_of(T0 + timedelta(minutes=3), two, [Recent("a", T0, "hardware", "low", one)]) is None
    )


def test_a_tickets_signature_comes_from_its_rules_verdict():
    from triage.compose.app import rules_from
    from triage.config.settings import load_settings
    from triage.rules import evaluate
    from triage.rules.storm import signature_of
    from triage.ticket import Ticket

    rules = rules_from(load_settings(None, {}).settings)
    ticket = Ticket(format="text", subject="S: drive gone", body="network path not found on fs-01")
    sig = signature_of(ticket, evaluate(ticket, rules, 60))
    assert {"share", "drive:s", "network-path", FAILURE} <= sig


# Unrelated reports a minute apart that share only words every helpdesk hears all day.
ROUTINE = [
    "Cannot open the drawings folder on the share, access denied, can you give me access?",
    "Not able to reach the network drive from home, VPN connection drops, no access",
    "The employment form on the HR share cannot be opened, not able to access it",
    "VPN connection not working on the new laptop, unable to reach the network share",
    "No access to the project share since I changed team, cannot open the network folder",
    "Outlook mail not syncing on my phone, unable to connect over VPN",
]


def test_routine_reports_a_minute_apart_sharing_generic_words_make_no_storm():
    assert all(storm is None for _, storm in replay(ROUTINE, minutes=1))


def test_two_reports_naming_the_same_error_code_are_one_storm():
    texts = [
        "Teams meetings not working, error 0x80070035 since 9:00",
        "Cannot join any Teams call, error 0x80070035 again",
    ]
    storms = [storm for _, storm in replay(texts, minutes=2)]
    assert storms[0] is None and storms[1] is not None and storms[1].first_id == "t0"
