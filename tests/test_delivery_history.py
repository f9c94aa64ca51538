"""A ticket's deliveries in words (`triage show`): each state, the revision, and a webhook URL
never printed whole. Expected lines are written down here."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from triage.delivery.history import delivery_lines
from triage.records import DeliveryFacts
from triage.redaction import masked_url

AT = datetime(2026, 12, 7, 10, 2, tzinfo=UTC)
LATER = datetime(2026, 12, 7, 10, 5, 30, tzinfo=UTC)
HOOK = "https://chat.example.com/hooks/T0/s3cret?token=abc"


def tag(url: str) -> str:
    return hashlib.blake2b(url.encode(), digest_size=4).hexdigest()


def facts(
    kind: str = "ack",
    destination: str = "requester",
    state: str = "done",
    attempts: int = 1,
    error: str | None = None,
    key: str = "t-1.ack",
    to: tuple[str, ...] = ("alice@example.com",),
) -> DeliveryFacts:
    done = None if state == "pending" else AT
    return DeliveryFacts(key, kind, destination, to, state, attempts, error, AT, LATER, done)


@pytest.mark.parametrize(
    ("delivery", "line"),
    [
        (facts(), "ack to alice@example.com: sent 2026-12-07 10:02 UTC"),
        (
            facts(attempts=3),
            "ack to alice@example.com: sent 2026-12-07 10:02 UTC after 3 attempts",
        ),
        (
            facts("smtp", "default", "pending", 0, to=("desk@example.org", "it@example.org")),
            "relay to desk@example.org, it@example.org (route default): pending,"
            " next attempt 2026-12-07 10:05 UTC",
        ),
        (
            facts("smtp", "vip", "pending", 2, "421 4.7.0\n  try again later", to=("d@x.org",)),
            "relay to d@x.org (route vip): pending, 2 attempts, next attempt 2026-12-07 10:05 UTC"
            " (last error: 421 4.7.0 try again later)",
        ),
        (
            facts("webhook", HOOK, "quarantined", 4, "gave up after 4 attempts: HTTP 500", to=()),
            f"webhook https://chat.example.com/… #{tag(HOOK)}: quarantined 2026-12-07 10:02 UTC,"
            " 4 attempts: gave up after 4 attempts: HTTP 500",
        ),
        (
            facts("webhook", HOOK, "pending", 1, f"ConnectError: {HOOK} refused", to=()),
            f"webhook https://chat.example.com/… #{tag(HOOK)}: pending, 1 attempt, next attempt"
            f" 2026-12-07 10:05 UTC (last error: ConnectError:"
            f" https://chat.example.com/… #{tag(HOOK)} refused)",
        ),
        (
            facts(
                "webhook",
                "https://h.example.com",
                "superseded",
                0,
                "superseded by t-1.wab.v2",
                key="t-1.wab",
                to=(),
            ),
            f"webhook https://h.example.com #{tag('https://h.example.com')}: not sent,"
            " superseded by t-1.wab.v2",
        ),
        (
            facts("smtp", "default", "done", key="t-1.r1.v2", to=("desk@example.org",)),
            "relay to desk@example.org (route default) (revision 2): sent 2026-12-07 10:02 UTC",
        ),
        (
            facts("smtp", "(unbuilt)", "quarantined", 0, "no template", key="t-1.unbuilt", to=()),
            "relay (not built): quarantined 2026-12-07 10:02 UTC, 0 attempts: no template",
        ),
    ],
)
def test_each_delivery_is_one_line_saying_what_became_of_it(delivery, line):
    assert delivery_lines([delivery]) == [line]


def test_a_long_error_is_cut_to_one_short_line():
    [line] = delivery_lines([facts(state="pending", error="x" * 1000)])
    assert line.endswith("(last error: " + "x" * 199 + "…)")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T0/B0/XXXX", "https://hooks.slack.com/…"),
        ("https://user:pw@example.com:8443/?token=abc", "https://example.com:8443/…"),
        ("http://127.0.0.1:9000/", "http://127.0.0.1:9000"),
    ],
)
def test_a_webhook_url_keeps_its_host_and_hides_its_path_query_and_login(url, shown):
    assert masked_url(url) == f"{shown} #{tag(url)}"


def test_a_configured_secret_quoted_in_an_error_is_masked_and_a_short_one_left_alone():
    error = "535 5.7.8 login failed for desk / Relay-Passw0rd at host a"
    [line] = delivery_lines([facts(state="pending", error=error)], ["Relay-Passw0rd", "a"])
    assert line.endswith("(last error: 535 5.7.8 login failed for desk / [SECRET] at host a)")
