"""Webhooks against a real HTTP server on 127.0.0.1 (http.server in a thread)."""

from __future__ import annotations

import json
import socket
import time
from datetime import timedelta

from tests.conftest import mail
from tests.dovecot import free_port
from tests.servers import Inbox, Received, http_server, smtp_server
from triage.delivery.webhook import verify

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
    assert dead in problem and "3 attempts" in problem
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
