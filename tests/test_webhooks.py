"""Webhooks against a real HTTP server on 127.0.0.1 (http.server in a thread)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
import sqlite3
import ssl
import time
from datetime import timedelta
from email import message_from_bytes

import httpx
import pytest
from structlog.testing import capture_logs

from tests.conftest import mail, raw
from tests.dovecot import free_port
from tests.servers import Inbox, Received, http_server, make_ca, smtp_server
from triage.cli.check_delivery import delivery_checks
from triage.compose.app import build_pipeline
from triage.delivery.webhook import WebhookTransport, verify
from triage.errors import DeliveryError
from triage.records import Delivery
from triage.redaction import masked_url
from triage.runtime.metrics import MetricsSources, StoreCollector, registry_for
from triage.ticket import RawInput

SECRET = "0123456789abcdef-webhook"


def hook_toml(url: str, extra: str = "") -> str:
    return f"[[webhooks]]\nurl = '{url}'\nsecret = '{SECRET}'\ntimeout_seconds = 2\n{extra}"


def test_a_posted_result_carries_a_verifiable_signature_and_the_idempotency_key(harness_for, clock):
    received = Received()
    with http_server(received) as url:
        hooks = harness_for(hook_toml(url))
        result = hooks.triage(mail("VPN drops", "every hour"))
        assert hooks.sender("webhook").run_once() == 1
    [(headers, body)] = received.requests
    # As the README tells a receiver: t and v1 from the header, HMAC-SHA256 of "<t>.<body>".
    fields = dict(part.split("=", 1) for part in headers["X-Triage-Signature"].split(","))
    assert set(fields) == {"t", "v1"} and fields["t"] == str(int(clock().timestamp()))
    expected = hmac.new(SECRET.encode(), fields["t"].encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(fields["v1"], expected.hexdigest())
    assert verify(SECRET.encode(), headers["X-Triage-Signature"], body, int(clock().timestamp()))
    assert not verify(
        b"another-secret-000", headers["X-Triage-Signature"], body, int(clock().timestamp())
    )
    assert headers["Idempotency-Key"] == result.id
    assert headers["Content-Type"] == "application/json"
    posted = json.loads(body)
    assert posted["id"] == result.id and posted["category"] == "vpn"


def test_a_failing_webhook_is_retried_with_backoff_until_it_answers(harness_for, clock):
    received = Received(statuses=[500, 503])
    with http_server(received) as url:
        hooks = harness_for(hook_toml(url))
        hooks.triage(mail("VPN drops", "every hour"))
        hooks.sender("webhook").run_once()
        assert hooks.sender("webhook").run_once() == 0  # waits its backoff
        clock.moment += timedelta(seconds=5)
        hooks.sender("webhook").run_once()
        clock.moment += timedelta(seconds=10)
        hooks.sender("webhook").run_once()
    assert len(received.requests) == 3
    assert len({headers["Idempotency-Key"] for headers, _ in received.requests}) == 1
    assert hooks.service.counts() == {("webhook", "done"): 1}


def test_a_token_in_a_webhook_url_never_reaches_the_logs_check_or_the_digest_lines(
    harness_for, clock
):
    # Slack and Teams put the secret in the URL's path: a failing receiver's URL is shown
    # masked (scheme, host, a hash) wherever the daemon writes it.
    token = "T0KEN-b4c9f1e7d2"
    received = Received(statuses=[500] * 8)
    with http_server(received) as url:
        hook_url = f"{url}/services/{token}?sig={token}"
        hooks = harness_for(hook_toml(hook_url))
        hooks.triage(mail("VPN drops", "every hour"))
        with capture_logs() as logs:
            for _ in range(6):
                hooks.sender("webhook").run_once()
                clock.moment += timedelta(hours=1)
        problems = hooks.service.problems()
        checks = delivery_checks(hooks.settings, hooks.store)
    assert len(received.requests) == 6  # it was tried, and failed, each time
    assert any(entry["event"] == "delivery.retry" for entry in logs)
    written = json.dumps([logs, problems, checks], default=str, ensure_ascii=False)
    assert problems and masked_url(hook_url) in written
    assert token not in written


def test_filters_choose_which_results_are_posted(harness_for):
    received = Received()
    with http_server(received) as url:
        hooks = harness_for(hook_toml(url, "risk = ['high']\nstatus = ['triaged']\n"))
        high = hooks.triage(mail("Ransomware on my laptop", "files encrypted"))
        hooks.triage(mail("Printer jams", "again"))
        hooks.sender("webhook").run_once()
    assert [json.loads(body)["id"] for _, body in received.requests] == [high.id]


def test_a_url_that_keeps_failing_is_reported(harness_for, clock):
    dead = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    hooks = harness_for(hook_toml(dead))
    hooks.triage(mail("VPN drops", "every hour"))
    for _ in range(3):
        hooks.sender("webhook").run_once()
        clock.moment += timedelta(minutes=5)
    [problem] = hooks.service.problems()
    assert masked_url(dead) in problem and "3 attempts" in problem
    assert "1 failing" in hooks.service.status()


def test_a_hanging_url_never_stalls_intake_nor_the_relay(harness_for, make_settings):
    # A server that accepts connections and never answers: every POST waits its timeout.
    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(64)
    inbox = Inbox()
    try:
        with smtp_server(inbox) as smtp:
            hooks = harness_for(
                hook_toml(f"http://127.0.0.1:{hanging.getsockname()[1]}/hook")
                + f"[relay]\nenabled = true\nhost = '127.0.0.1'\nport = {smtp.port}\n"
                "tls = 'none'\ndefault_to = 'helpdesk@example.org'\n"
            )
            hooks.service.start()
            results = [hooks.triage(mail(f"Printer {n} jams", f"tray {n}")) for n in range(20)]
            deadline = time.monotonic() + 20
            while len(inbox.messages) < 20 and time.monotonic() < deadline:
                time.sleep(0.05)
            hooks.service.stop()
    finally:
        hanging.close()
    # Every ticket was committed while the webhook hung, and the relay delivered them all.
    assert hooks.store.count_tickets() == 20
    assert len(inbox.messages) == 20
    counts = hooks.service.counts()
    assert counts[("webhook", "pending")] == len(results)


def stored(hooks, sql: str, *params: object) -> list[tuple]:
    """Rows read straight from the harness's SQLite file, as an admin's sqlite3 would."""
    with contextlib.closing(sqlite3.connect(hooks.settings.store.path)) as db:
        return db.execute(sql, params).fetchall()


def two_hooks(slow: str, healthy: str) -> str:
    # The slow receiver's byte every 0.4 s never lets one read reach its timeout.
    return (
        f"[[webhooks]]\nurl = '{slow}'\nsecret = '{SECRET}'\ntimeout_seconds = 3\n"
        f"[[webhooks]]\nurl = '{healthy}'\nsecret = '{SECRET}'\ntimeout_seconds = 1\n"
    )


def test_a_receiver_that_answers_a_byte_at_a_time_delays_only_its_own_deliveries(
    harness_for, clock
):
    slow, healthy = Received(drip=0.4), Received()
    query = "SELECT state, attempts, last_error FROM deliveries WHERE destination = ?"
    with http_server(slow) as slow_url, http_server(healthy) as healthy_url:
        hooks = harness_for(two_hooks(slow_url, healthy_url))
        hooks.service.start()
        try:
            for n in range(2):
                hooks.triage(mail(f"VPN drops {n}", f"every hour on floor {n}"))
            assert healthy.wait_for(2, 8.0), f"healthy got {len(healthy.requests)} of 2"
            # ...while the slow one's first attempt has not even ended (its deadline is 3 s).
            assert [a for _, a, _ in stored(hooks, query, slow_url)] == [0, 0]
            deadline = time.monotonic() + 15  # each slow attempt runs into its deadline
            while time.monotonic() < deadline:
                stuck = stored(hooks, query, slow_url)
                if all(attempts for _, attempts, _ in stuck):
                    break
                time.sleep(0.1)
            # Cut off at the deadline, kept for a later attempt: none lost, none given up.
            assert [(state, attempts) for state, attempts, _ in stuck] == [("pending", 1)] * 2
            assert all(
                error == "no complete answer within timeout_seconds (3 s)" for _, _, error in stuck
            )
            slow.drip = 0.0  # the receiver recovers; the retries are due minutes later
            clock.moment += timedelta(minutes=10)
            hooks.service.committed()
            assert slow.wait_for(2, 10.0), f"slow got {len(slow.requests)} of 2"
        finally:
            hooks.service.stop()
    assert hooks.service.counts() == {("webhook", "done"): 4}


def test_an_https_receiver_answering_a_byte_at_a_time_is_cut_off_at_the_deadline(
    tmp_path, make_settings, clock
):
    ca, tls = make_ca(tmp_path)
    slow = Received(drip=0.4)  # the whole answer would take 15 s, each byte well in time
    with http_server(slow, tls) as url:
        settings = make_settings(hook_toml(url))
        client = httpx.HTTPTransport(verify=ssl.create_default_context(cafile=str(ca)))
        transport = WebhookTransport(settings.webhooks, clock, transport=client)
        delivery = Delivery("t-1.wabc", "t-1", "webhook", url, (), b"{}", clock())
        try:
            with pytest.raises(DeliveryError, match=r"no complete answer within timeout_seconds"):
                transport.send(delivery)
        finally:
            transport.close()


def test_a_webhook_that_redirects_is_reported_once_as_misconfigured_and_keeps_its_deliveries(
    harness_for, clock
):
    received = Received(
        statuses=[301, 308], location="https://elsewhere.example/hook?token=s3cr3t-t0ken"
    )
    with http_server(received) as url:
        hooks = harness_for(hook_toml(url, "retry_cap_seconds = 300\n"))
        for n in range(3):
            hooks.triage(mail(f"VPN drops {n}", f"every hour on floor {n}"))
        sender = hooks.sender("webhook")
        with capture_logs() as logs:
            assert sender.run_once() == 1  # one attempt finds it; the other two wait with it
            assert sender.run_once() == 0
            hooks.triage(mail("VPN drops 3", "on floor 3"))  # planned since: waits as well
            assert sender.run_once() == 0
            clock.moment += timedelta(seconds=299)
            assert sender.run_once() == 0  # no hot loop: the next try after retry_cap_seconds
            [problem] = hooks.service.problems()
            assert hooks.service.status() == "deliveries 4 pending, 1 misconfigured"
            [check] = [
                f for f in delivery_checks(hooks.settings, hooks.store) if f[0] == "deliveries"
            ]
            registry = registry_for(StoreCollector(hooks.store, clock, MetricsSources({})))
            wrong = registry.get_sample_value(
                "triage_deliveries_misconfigured", {"kind": "webhook"}
            )
            clock.moment += timedelta(seconds=2)
            assert sender.run_once() == 1  # still redirecting (308): said once, not twice
            clock.moment += timedelta(seconds=301)
            assert sender.run_once() == 4  # fixed at the receiver: all four delivered
    assert f"webhook to {masked_url(url)} is misconfigured: HTTP 301 redirect to" in problem
    assert "https://elsewhere.example/… #" in problem and "4 waiting" in problem
    assert "s3cr3t" not in problem
    assert check[1] is False and "misconfigured" in check[2]
    assert wrong == 1
    said = [entry for entry in logs if entry["event"] == "delivery.misconfigured"]
    assert len(said) == 1 and said[0]["log_level"] == "error"
    assert len(received.requests) == 6
    assert hooks.service.counts() == {("webhook", "done"): 4}
    assert hooks.service.problems() == []


VALID = json.dumps({"subject": "VPN down", "body": "The VPN drops every 5 minutes."}).encode()


def replayed(hooks, clock):
    """A dropped file quarantined, then fixed and replayed, through the real commit path
    (deliveries written in the result's transaction): (quarantined result, replayed one)."""
    pipeline = build_pipeline(hooks.settings, hooks.store, None, clock, deliveries=hooks.service)
    bad = raw(b'{"subject": "no body"}', name="bad.json", source="dropfolder")
    first = pipeline.handle(bad).result
    assert first.status == "quarantined"
    yield first
    fixed = RawInput(first.id, VALID, first.source, first.source_ref, first.received_at)
    second = pipeline.replay(fixed, alias="t-fixedalias").result
    assert second.id == first.id and second.status == "triaged"
    yield second


def test_a_replayed_ticket_is_posted_again_as_its_next_revision(harness_for, clock):
    received = Received()
    with http_server(received) as url:
        hooks = harness_for(hook_toml(url))
        steps = replayed(hooks, clock)
        first = next(steps)
        assert hooks.sender("webhook").run_once() == 1
        second = next(steps)
        assert hooks.sender("webhook").run_once() == 1
    (h1, b1), (h2, b2) = received.requests
    assert json.loads(b1)["status"] == "quarantined" and json.loads(b2)["status"] == "triaged"
    assert (h1["Idempotency-Key"], h1["X-Triage-Revision"]) == (first.id, "1")
    assert (h2["Idempotency-Key"], h2["X-Triage-Revision"]) == (f"{second.id}.v2", "2")
    assert hooks.service.counts() == {("webhook", "done"): 2}


def test_a_replay_supersedes_the_earlier_revision_still_waiting(harness_for, clock):
    received = Received(statuses=[503])
    with http_server(received) as url:
        hooks = harness_for(hook_toml(url))
        steps = replayed(hooks, clock)
        next(steps)
        assert hooks.sender("webhook").run_once() == 1  # 503: the quarantined one waits
        next(steps)
        clock.moment += timedelta(minutes=10)
        assert hooks.sender("webhook").run_once() == 1  # only the replayed result
    assert [json.loads(body)["status"] for _, body in received.requests] == [
        "quarantined",
        "triaged",
    ]
    assert hooks.service.counts() == {("webhook", "done"): 1, ("webhook", "superseded"): 1}


def test_the_relay_sends_a_replayed_ticket_again_under_a_new_message_id(harness_for, clock):
    inbox = Inbox()
    with smtp_server(inbox) as smtp:
        relay = harness_for(
            f"[relay]\nenabled = true\nhost = '127.0.0.1'\nport = {smtp.port}\ntls = 'none'\n"
            "default_to = 'helpdesk@example.org'\n"
            "statuses = ['triaged', 'quarantined']\n"
        )
        steps = replayed(relay, clock)
        next(steps)
        assert relay.sender("smtp").run_once() == 1
        next(steps)
        assert relay.sender("smtp").run_once() == 1
    ids = [
        message_from_bytes(content)["Resent-Message-ID"]
        or message_from_bytes(content)["Message-ID"]
        for _, _, content in inbox.messages
    ]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert relay.service.counts() == {("smtp", "done"): 2}


def test_a_delivery_to_a_url_no_longer_configured_is_refused_by_its_own_lane(harness_for):
    received = Received()
    with http_server(received) as kept:
        gone = f"http://127.0.0.1:{free_port()}/old-hook"
        before = harness_for(hook_toml(gone))
        before.triage(mail("VPN drops", "every hour"))  # planned for the old URL, never sent
        after = harness_for(hook_toml(kept))  # the same store, the URL changed since
        after.triage(mail("Printer jams", "again"))
        lanes = {sender.lane.destination: sender for sender in after.service._senders}
        assert set(lanes) == {kept, None}
        assert lanes[kept].run_once() == 1
        assert lanes[None].run_once() == 1
    [stuck] = after.store.deliveries_quarantined(20)
    assert stuck.destination == gone and "no longer configured" in str(stuck.reason)
    assert len(received.requests) == 1
    assert after.service.counts() == {("webhook", "done"): 1, ("webhook", "quarantined"): 1}
