"""Route matching and header safety: pure functions, tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from triage.config.delivery import RelayConfig, RelayRouteConfig
from triage.delivery.headers import field, one_line, without_trusted_fields
from triage.delivery.queue import backoff_seconds
from triage.delivery.routes import Facts, pick_destination, route_matches
from triage.delivery.webhook import signature, verify

FACTS = Facts(
    category="security",
    risk="high",
    priority="P1",
    workflow="security",
    team=None,
    source="imap:support/INBOX",
    storm=False,
)


@pytest.mark.parametrize(
    ("route", "matches"),
    [
        ({}, True),
        ({"category": ["security"]}, True),
        ({"category": ["printer"]}, False),
        ({"category": ["security", "vpn"], "risk": ["high"]}, True),
        ({"category": ["security"], "risk": ["low"]}, False),
        ({"priority": ["P1", "P2"]}, True),
        ({"workflow": ["printer"]}, False),
        ({"team": ["network"]}, False),  # no team known: a team list never matches
        ({"source": ["imap:support/*"]}, True),
        ({"source": ["dropfolder"]}, False),
        ({"storm": True}, False),
        ({"storm": False}, True),
        ({"language": ["de"]}, False),  # the ticket's language unknown: never matches a list
    ],
)
def test_a_route_matches_when_every_list_it_gives_matches(route, matches):
    config = RelayRouteConfig(to=["x@example.com"], **route)
    assert route_matches(config, FACTS) is matches


@pytest.mark.parametrize(
    ("languages", "language", "matches"),
    [(["de"], "de", True), (["de", "fr"], "fr", True), (["de"], "en", False), ([], "en", True)],
)
def test_a_route_may_match_the_tickets_language(languages, language, matches):
    config = RelayRouteConfig(to=["x@example.com"], language=languages)
    facts = Facts(**{**FACTS.__dict__, "language": language})
    assert route_matches(config, facts) is matches


def relay(routes: list[dict[str, object]], default_to: str = "") -> RelayConfig:
    return RelayConfig.model_validate(
        {
            "enabled": True,
            "host": "127.0.0.1",
            "port": 25,
            "tls": "none",
            "ca_file": "",
            "username": "",
            "password": "",
            "from": "triage@example.com",
            "default_to": default_to,
            "default_headers": "plain",
            "default_internal": False,
            "statuses": ["triaged"],
            "timeout_seconds": 5,
            "retry_cap_seconds": 60,
            "give_up_hours": 1,
            "routes": routes,
        }
    )


@pytest.mark.parametrize(
    ("routes", "default_to", "expected"),
    [
        ([], "", None),
        ([], "helpdesk@example.com", ("helpdesk@example.com",)),
        (
            [{"category": ["printer"], "to": "fac@example.com"}],
            "hd@example.com",
            ("hd@example.com",),
        ),
        (
            [
                {"category": ["printer"], "to": "fac@example.com"},
                {"risk": ["high"], "to": ["sec@example.com", "ciso@example.com"]},
                {"category": ["security"], "to": "never@example.com"},
            ],
            "hd@example.com",
            ("sec@example.com", "ciso@example.com"),
        ),
    ],
)
def test_the_first_matching_route_wins_else_the_default(routes, default_to, expected):
    destination = pick_destination(FACTS, relay(routes, default_to))
    assert (destination.to if destination else None) == expected


@pytest.mark.parametrize(
    "hostile",
    [
        "VPN down\r\nBcc: everyone@example.com",
        "VPN down\nX-Zammad-Ticket-Owner: admin",
        "VPN down\rX-OTRS-Queue: Postmaster",
        "VPN down\u2028X-Triage-Risk: low",
        "VPN down\x00\x0bX-Evil: 1",
        "Störung \r\n\tX-Zammad-Ticket-Group: Management " * 20,
    ],
)
def test_a_header_value_from_ticket_text_stays_one_header(hostile):
    encoded = field("X-Triage-Summary", hostile)
    lines = encoded.split(b"\r\n")
    assert lines[-1] == b""
    # Folded continuation lines start with whitespace: there is exactly one field.
    assert lines[0].startswith(b"X-Triage-Summary: ")
    assert all(line[:1] in (b" ", b"\t") for line in lines[1:-1])
    assert b"\n" not in encoded.replace(b"\r\n", b"") and b"\r" not in encoded.replace(b"\r\n", b"")
    assert encoded.isascii()


def test_one_line_cuts_long_text():
    assert len(one_line("x" * 1000, 50)) == 50


def test_trusted_fields_of_the_original_are_dropped_with_their_continuations():
    header = (
        b"From: a@example.com\r\nX-Zammad-Ticket-Owner: admin\r\n\tcontinued\r\n"
        b"x-otrs-queue: Raw\r\nX-Triage-Risk: low\r\nSubject: hi\r\n there\r\n\r\n"
    )
    assert without_trusted_fields(header) == (
        b"From: a@example.com\r\nSubject: hi\r\n there\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(1, 5.0), (2, 10.0), (3, 20.0), (6, 160.0), (7, 300.0), (90, 300.0)]
)
def test_retries_back_off_to_the_cap(attempts, seconds):
    assert backoff_seconds(attempts, 300.0) == seconds


def test_a_signature_verifies_only_for_its_body_secret_and_time():
    now = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp())
    header = signature(b"s" * 16, b'{"id": "t-1"}', now)
    assert verify(b"s" * 16, header, b'{"id": "t-1"}', now)
    assert not verify(b"s" * 16, header, b'{"id": "t-2"}', now)
    assert not verify(b"x" * 16, header, b'{"id": "t-1"}', now)
    assert not verify(b"s" * 16, header, b'{"id": "t-1"}', now + 3600)


def test_a_batch_of_due_deliveries_is_bounded_by_its_payload_bytes(store, clock):
    from triage.delivery.queue import DeliveryQueue
    from triage.records import Delivery, Planned

    planned = Planned(
        tuple(
            Delivery(f"k{n}", f"t-{n}", "smtp", "d", ("a@example.org",), b"x" * 40, clock())
            for n in range(5)
        )
    )
    store.add_deliveries("t-0", planned, clock())
    assert [p.delivery.key for p in DeliveryQueue(store, batch_bytes=100).due("smtp", clock())] == [
        "k0",
        "k1",
    ]
    assert len(DeliveryQueue(store, batch_bytes=10).due("smtp", clock())) == 1  # at least one
    assert len(DeliveryQueue(store).due("smtp", clock())) == 5
