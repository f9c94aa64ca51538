from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.rules.phones import _RUN
from triage.rules.sensitivity import iban_valid, luhn_valid, redact, scan, scan_text

AWS = "AKIA" + "IOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "a" * 36
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "tag", "kind"),
    [
        ("my password is Hunter2!", "credential", "password"),
        ("Password: correcthorse", "credential", "password"),
        ("passwort: Sommer2024", "credential", "password"),
        ("mot de passe : Azerty123", "credential", "password"),
        (f"key {AWS} leaked", "credential", "aws_key"),
        (f"token {GITHUB}", "credential", "github_token"),
        ("api_key=abcd1234efgh5678", "credential", "secret"),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwx", "credential", "bearer_token"),
        ("db at postgres://app:s3cret@db.example.com/x", "credential", "url_password"),
        (PRIVATE_KEY, "credential", "private_key"),
        ("card 4111 1111 1111 1111 was charged", "pii.card", "pii.card"),
        ("IBAN DE89 3704 0044 0532 0130 00", "pii.iban", "pii.iban"),
        ("call me on +49 170 1234567", "pii.phone", "pii.phone"),
        ("Call me at +49 170 1234567.", "pii.phone", "pii.phone"),
        ("my phone: 0170 1234567", "pii.phone", "pii.phone"),
        ("please add bob@example.com to the list", "pii.email", "pii.email"),
    ],
)
def test_sensitive_values_are_found_with_their_kind(text, tag, kind):
    findings = scan_text(text, "body")
    assert (tag, kind) in {(f.tag, f.kind) for f in findings}


@pytest.mark.parametrize(
    "text",
    [
        "I need a password reset",
        "My password expired yesterday",
        "The password manager does not open",
        "card 4111 1111 1111 1112 is not valid by Luhn",
        "Invoice 2024-05-01 12:00 total 1234567890123",
        "Version 10.0.19045.3803 installed",
        "Ticket INC0012345 reopened",
    ],
)
def test_ordinary_helpdesk_text_is_not_tagged(text):
    assert not [f for f in scan_text(text, "body") if f.tag in ("credential", "pii.card")]


def test_credential_or_card_makes_the_ticket_restricted_pii_alone_internal():
    assert scan({"body": "password: Hunter2!"}).level == "restricted"
    assert scan({"body": "card 4111111111111111"}).level == "restricted"
    assert scan({"body": "mail bob@example.com"}).level == "internal"
    assert scan({"body": "printer jams"}).level == "public"


def test_findings_record_where_but_redaction_replaces_the_value_with_a_typed_placeholder():
    text = "Login admin password: Hunter2! card 4111-1111-1111-1111 mail bob@example.com"
    findings = scan_text(text, "body")
    for finding in findings:
        assert finding.field == "body" and 0 <= finding.start < finding.end <= len(text)
    redacted = redact(text, findings)
    assert "Hunter2!" not in redacted and "4111" not in redacted and "bob@" not in redacted
    assert "[CREDENTIAL:password]" in redacted and "[CARD]" in redacted and "[EMAIL]" in redacted
    assert redacted.startswith("Login admin password: ")


def test_luhn_and_iban_checks():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid(
        "GB82 WEST 1234 5698 7654 33"
    )


def test_a_result_is_cleaned_of_planted_and_configured_secrets():
    from datetime import UTC, datetime

    from triage.redaction import clean_result
    from triage.result import Result, Route, SensitivityOut

    result = Result(
        id="t-1",
        source="cli",
        source_ref="x",
        message_id=None,
        received_at=datetime(2026, 11, 2, tzinfo=UTC),
        sender=None,
        subject="my password: Hunter2!xyz",
        status="triaged",
        status_reason=None,
        summary="Card 4111 1111 1111 1111 was charged; key sk-config-123456 pasted",
        route=Route(tier="paid", reason="risk high"),
        workflow="security",
        sensitivity=SensitivityOut(level="restricted", tags=["credential", "pii.card"]),
        escalation={"next_steps": ["Rotate sk-config-123456"], "draft_reply": "ok"},
    )
    clean = clean_result(result, ("sk-config-123456",))
    text = clean.to_json()
    assert "Hunter2" not in text and "4111" not in text and "sk-config-123456" not in text
    assert clean.subject == "my password: [CREDENTIAL:password]"
    assert clean.escalation == {"next_steps": ["Rotate [SECRET]"], "draft_reply": "ok"}


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Tél. +33 4 72 41 18 90", "+33 4 72 41 18 90"),
        ("Tel.:+49(0)40 123456-78", "+49(0)40 123456-78"),
        ("Kestrel Logistics\n(312) 555-0148", "(312) 555-0148"),
        ("Bitte um Rückruf 040 3290 1183", "040 3290 1183"),
        ("Bitte unter 0151 2294 7730 zurückrufen.", "0151 2294 7730"),
        ("M: 07700 900731", "07700 900731"),
        ("Portable 06 12 34 56 78", "06 12 34 56 78"),
        ("standard 04.72.41.18.90", "04.72.41.18.90"),
        ("llámame al 612 345 678", "612 345 678"),
        ("mobile 0044 7700 900731", "0044 7700 900731"),
        ("error 502, ref +49 170 1234567", "+49 170 1234567"),
    ],
)
def test_phone_numbers_in_the_shapes_of_signatures_and_call_back_requests(text, number):
    found = [text[f.start : f.end] for f in scan_text(text, "body") if f.tag == "pii.phone"]
    assert found == [number]


@pytest.mark.parametrize(
    "text",
    [
        "PO 4500123456 for the new laptops",
        "Employee ID: 100655, cost centre 4410",
        "server 10.20.30.40 and 192.168.178.20",
        "call me on ext. 412",
        "am 03.03.2025 14:30 Uhr ging nichts mehr",
        "2025-03-05 23:00:02,114 INFO [tms-sync] Starting export batch 20250305-2300",
        "contract 4000 1234 5678 9010 (fails Luhn)",
        "Version 10.0.19045.3803 installed",
    ],
)
def test_identifiers_dates_addresses_and_extensions_are_not_phone_numbers(text):
    assert [f for f in scan_text(text, "body") if f.tag == "pii.phone"] == []


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet="+(0123456789 ().-/a\n٣", max_size=30))
def test_digit_runs_for_phone_numbers_are_the_runs_the_plain_pattern_finds(text):
    plain = re.compile(r"[+(]?\d[\d ().\-/]{6,}")  # _RUN as first written: the oracle
    assert [m.span() for m in _RUN.finditer(text)] == [m.span() for m in plain.finditer(text)]
