from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.rules.extract import (
    _IPV4,
    _IPV6,
    MAX_PER_FIELD,
    _ipv4_matches,
    _ipv6_matches,
    extract_fields,
)


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


_ADDRESS_TEXT = st.lists(
    st.sampled_from(["1", "12", "123", "1234", "a", "F", "g", ".", ":", "::", " ", "\n", "١"]),
    max_size=30,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(text=_ADDRESS_TEXT)
def test_addresses_are_tried_only_where_they_can_begin_and_found_as_a_search_finds_them(text):
    # the stdlib's finditer is the oracle: same matches, same places
    assert [m.span() for m in _ipv4_matches(text)] == [m.span() for m in _IPV4.finditer(text)]
    assert [m.span() for m in _ipv6_matches(text)] == [m.span() for m in _IPV6.finditer(text)]


def test_an_address_after_a_longer_run_of_digits_is_found_where_a_search_finds_it():
    assert [m.group() for m in _ipv4_matches("12345.6.7.8 and 10.0.0.1")] == [
        "345.6.7.8",
        "10.0.0.1",
    ]
    assert extract_fields(["12345.6.7.8 and 10.0.0.1"], None).ips == ("10.0.0.1",)
