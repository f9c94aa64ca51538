from __future__ import annotations

import pytest

from triage.rules.extract import MAX_PER_FIELD, extract_fields


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        (
            "cannot reach fileserver01.corp.example.com today",
            "hosts",
            "fileserver01.corp.example.com",
        ),
        ("map \\\\srv-fs02\\finance please", "hosts", "srv-fs02"),
        ("server: SRV-DB01 is slow", "hosts", "srv-db01"),
        ("ping 10.20.30.40 fails", "ips", "10.20.30.40"),
        ("gateway fe80::1 unreachable", "ips", "fe80::1"),
        ("Windows update fails with 0x80070005", "error_codes", "0x80070005"),
        ("sign-in error AADSTS50126", "error_codes", "AADSTS50126"),
        ("ORA-12541: TNS:no listener", "error_codes", "ORA-12541"),
        (
            "blue screen DRIVER_IRQL_NOT_LESS_OR_EQUAL",
            "error_codes",
            "DRIVER_IRQL_NOT_LESS_OR_EQUAL",
        ),
        ("VPN error code 809", "error_codes", "809"),
        ("portal gives HTTP 503", "error_codes", "503"),
        ("Outlook keeps asking for my password", "applications", "Outlook"),
        ("Teams call drops", "applications", "Teams"),
        ("Asset tag ASSET-004211 is my laptop", "devices", "ASSET-004211"),
        ("my ThinkPad T14 overheats", "devices", "ThinkPad T14"),
        ("serial number: PF2ABC12", "devices", "PF2ABC12"),
    ],
)
def test_facts_are_extracted_into_fields(text, field, expected):
    assert expected in getattr(extract_fields([text], None), field)


@pytest.mark.parametrize(
    ("text", "field", "unexpected"),
    [
        ("see attached report.pdf and log.txt", "hosts", "report.pdf"),
        ("write to bob@corp.example.com", "hosts", "corp.example.com"),
        ("version 10.0.19045.3803", "ips", "10.0.19045.3803"),
        ("I will word it differently", "applications", "Word"),
        ("at the edge of my desk", "applications", "Edge"),
        ("meeting at 12:30:45 today", "ips", "12:30:45"),
    ],
)
def test_lookalikes_are_not_extracted(text, field, unexpected):
    values = getattr(extract_fields([text], None), field)
    assert unexpected not in values and unexpected.lower() not in values


def test_requester_is_passed_through_and_lists_are_capped():
    many = " ".join(f"10.0.0.{i}" for i in range(100))
    fields = extract_fields([many], "ann@example.com")
    assert fields.requester == "ann@example.com"
    assert len(fields.ips) == MAX_PER_FIELD
