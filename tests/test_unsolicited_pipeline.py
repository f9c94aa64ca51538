"""What phishing and spam sent straight to the helpdesk become ([senders] unsolicited), through
the real pipeline and store."""

from __future__ import annotations

from tests.conftest import mail, raw
from triage.compose.app import build_pipeline
from triage.delivery.outbox import Outbox

LURE_HEADERS = "Precedence: bulk\nX-Spam-Flag: NO"
LURE = (
    "Your mailbox storage is full and your account will be suspended. Confirm your password "
    "within 24 hours: https://mailbox-storage.top/confirm"
)
CASINO = "Claim 300 free spins and a 200% casino bonus today! Unsubscribe any time."


def test_a_strangers_lure_is_ignored_as_phishing_not_as_bulk(pipeline):
    result = pipeline.handle(
        raw(mail("Storage full", LURE, sender="it-desk@mailbox-storage.top",
                 headers=LURE_HEADERS))
    ).result  # fmt: skip
    assert result.status == "ignored"
    assert result.status_reason.startswith("phishing: mail from outside")
    assert result.category == "security"


def test_a_strangers_spam_is_ignored_with_a_reason_naming_spam(pipeline):
    result = pipeline.handle(raw(mail("Bonus", CASINO, sender="win@spins.test"))).result
    assert result.status == "ignored" and result.status_reason.startswith("spam:")


def test_the_security_policy_makes_a_lure_a_high_security_ticket(make_settings, store, clock):
    settings = make_settings('[senders]\nunsolicited = "security"\n')
    pipeline = build_pipeline(settings, store, Outbox(settings.outbox.dir), clock)
    result = pipeline.handle(
        raw(mail("Storage full", LURE, sender="it-desk@mailbox-storage.top"))
    ).result
    assert result.status == "triaged" and result.category == "security"
    assert result.risk == "high" and result.priority == "P1"


def test_own_domains_make_a_colleagues_mail_a_ticket_whatever_it_says(make_settings, store, clock):
    settings = make_settings('[senders]\nown_domains = ["example.com"]\n')
    pipeline = build_pipeline(settings, store, Outbox(settings.outbox.dir), clock)
    result = pipeline.handle(
        raw(mail("Storage full", "My mailbox storage is full, I cannot send. " + CASINO))
    ).result
    assert result.status == "triaged"


def test_an_ordinary_strangers_request_is_triaged(pipeline):
    result = pipeline.handle(
        raw(mail("Printer on floor 2", "The printer on floor 2 shows error E-04. Tom",
                 sender="tom@partner-firm.test"))
    ).result  # fmt: skip
    assert result.status == "triaged"
