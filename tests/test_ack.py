"""The acknowledgement to the requester ([ack]) through the real pipeline, store and delivery
harness, against a real SMTP server on 127.0.0.1 (aiosmtpd): who gets one, in which
language, with which headers and envelope, once per ticket, within the per-address limit,
and after a restart. Expected values are written down here."""

from __future__ import annotations

import email
import email.policy
import json
import signal
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import structlog

from tests.conftest import NO_SCHEDULE, daemon_running, mail
from tests.dovecot import free_port
from tests.servers import Inbox, smtp_server
from tests.test_store import result as stored_result
from triage.cli.check import run_checks
from triage.cli.check_delivery import delivery_checks
from triage.compose.delivery import build_delivery
from triage.config.settings import LoadedSettings, load_settings
from triage.delivery.ack import AckPolicy, decide
from triage.errors import ConfigError, StoreError
from triage.records import Delivery, Inbound, Planned, TicketKeys
from triage.ticket import RawInput, Ticket

LURE_EN = (
    "Dear user,\nYour mailbox quota is exceeded. Verify your account within 24 hours or it "
    "will be suspended:\nhttps://mail-quota-check.example.net/verify?u=ann\nIT Team"
)
OUTSIDE_LURE = (
    "Your mailbox storage is full and your account will be suspended. Confirm your password "
    "within 24 hours: https://mailbox-storage.top/confirm"
)
CASINO = "Claim 300 free spins and a 200% casino bonus today! Unsubscribe any time."
VPN_DE = "Seit heute Morgen kann ich mich nicht mit dem VPN verbinden, Fehler 809. Bitte um Hilfe."
PRINTER_EN = "The printer on the second floor shows error E-04 and prints nothing at all."


def ack_toml(port: int, ack: str = "", tables: str = "", relay: bool = False) -> str:
    """[ack] on for every source, through the relay's server (the relay itself off unless
    `relay`); `ack`: more [ack] keys, `tables`: more tables."""
    sources = "" if "sources" in ack else "sources = ['*']\n"
    return (
        f"[relay]\nenabled = {str(relay).lower()}\nhost = '127.0.0.1'\nport = {port}\n"
        "tls = 'none'\nfrom = 'triage@example.org'\ndefault_to = 'helpdesk@example.org'\n"
        "retry_cap_seconds = 1\n"
        f"[ack]\nenabled = true\nfrom = 'helpdesk@example.com'\n{sources}{ack}\n{tables}"
    )


def parsed(content: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def text_of(content: bytes) -> str:
    """The decoded text, its line ends as Python writes them (the wire's are CRLF)."""
    text = parsed(content).get_content()
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


def forwarded(
    subject: str, own: str, sender: str = "Ann Lee <ann.lee@example.com>", cc: str = ""
) -> bytes:
    """A mail forwarded as an attachment, with the user's few words above it."""
    lure = EmailMessage()
    lure["From"] = "IT <it@quota.example.net>"
    lure["Subject"] = "Your mailbox is full"
    lure.set_content(LURE_EN)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "helpdesk@example.com"
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Message-ID"] = "<fw-1@example.com>"
    message.set_content(own)
    message.add_attachment(lure)
    return message.as_bytes()


def test_one_ack_in_the_tickets_language_with_rfc_3834_headers_and_a_null_envelope_sender(
    harness_for,
):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        desk = harness_for(ack_toml(server.port))
        data = mail(
            "VPN geht nicht",
            VPN_DE,
            message_id="<orig-1@example.com>",
            headers="References: <root-0@example.com>",
        )
        result = desk.triage(data)
        assert (result.status, result.language) == ("triaged", "de")
        assert desk.sender("ack").run_once() == 1
        again = desk.triage(data)  # the same mail read again: the same ticket, no second ack
        assert again.id == result.id
        assert desk.sender("ack").run_once() == 0
    [(envelope_from, recipients, content)] = inbox.messages
    assert envelope_from == "<>"  # MAIL FROM:<>, RFC 3834 3.3
    assert recipients == ["ann@example.com"]
    assert b"\n" not in content.replace(b"\r\n", b"")  # CRLF line ends only
    assert max(len(line) for line in content.split(b"\r\n")) <= 998
    message = parsed(content)
    assert message["From"] == "IT Helpdesk <helpdesk@example.com>"
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == f"Re: VPN geht nicht [{result.id}]"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["In-Reply-To"] == "<orig-1@example.com>"
    assert message["References"].split() == ["<root-0@example.com>", "<orig-1@example.com>"]
    assert message["Message-ID"] == f"<{result.id}.ack@example.com>"
    assert message["X-Triage-Id"] == result.id
    assert message.get_content_charset() == "utf-8"
    text = text_of(content)
    assert text.startswith("Guten Tag,\n\nwir haben Ihre Anfrage „VPN geht nicht“ erhalten")
    assert f"als Ticket {result.id} erfasst." in text
    assert "809" not in text and "Morgen" not in text  # the ticket itself is never quoted
    assert desk.service.counts() == {("ack", "done"): 1}


@pytest.mark.parametrize(
    ("subject", "body", "opening"),
    [
        ("Imprimante en panne", "L'imprimante du deuxième étage ne marche plus depuis ce "
         "matin, elle affiche une erreur.", "Bonjour,\n\nnous avons bien reçu votre demande"),
        ("Impresora no funciona", "La impresora de la segunda planta no imprime nada desde "
         "esta mañana y muestra un error.", "Hola:\n\nhemos recibido su solicitud"),
        # Swedish: detected, but no text for it: the default language's
        ("Skrivaren fungerar inte", "Skrivaren på andra våningen skriver inte ut någonting "
         "sedan i morse och visar ett fel.", "Hello,\n\nwe have received your request"),
    ],
)  # fmt: skip
def test_the_ack_speaks_the_tickets_language_or_the_default_one(
    harness_for, subject, body, opening
):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        desk = harness_for(ack_toml(server.port))
        desk.triage(mail(subject, body))
        assert desk.sender("ack").run_once() == 1
    [(_, _, content)] = inbox.messages
    assert text_of(content).startswith(opening)


@pytest.mark.parametrize(
    ("subject", "own", "opening", "advice"),
    [
        ("FW: Your mailbox is full", "is this legit?", "Hello,\n\nthank you for reporting",
         "- If you typed a password after opening it, change that password now and tell us"),
        ("WG: Ihr Postfach ist voll", "Ist diese Mail echt? Ich habe nichts angeklickt.",
         "Guten Tag,\n\nvielen Dank, dass Sie diese verdächtige E-Mail gemeldet haben.",
         "- Falls Sie nach dem Öffnen ein Passwort eingegeben haben: Ändern Sie dieses Passwort"),
    ],
)  # fmt: skip
def test_a_colleague_forwarding_a_lure_gets_the_phishing_text(
    harness_for, subject, own, opening, advice
):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        desk = harness_for(ack_toml(server.port))
        result = desk.triage(forwarded(subject, own))
        assert (result.status, result.category, result.risk) == ("triaged", "security", "high")
        assert desk.sender("ack").run_once() == 1
    [(envelope_from, recipients, content)] = inbox.messages
    assert (envelope_from, recipients) == ("<>", ["ann.lee@example.com"])
    text = text_of(content)
    assert text.startswith(opening) and advice in text
    assert result.id in text
    assert "quota-check" not in text  # nothing of the lure, not even its link


# (case, extra [ack] keys, extra tables, the mail, the status the pipeline gives it, why the
# acknowledgement is withheld)
NO_ACK = [
    ("auto-reply", "", "",
     mail("Automatic reply: VPN", "I am out of the office until Monday.",
          headers="Auto-Submitted: auto-replied"), "ignored", "not triaged: ignored"),
    ("bounce", "", "",
     mail("Undeliverable: VPN", "Delivery has failed to these recipients.",
          sender="mailer-daemon@example.com"), "ignored", "not triaged: ignored"),
    ("bulk newsletter", "", "",
     mail("Our November newsletter", "Read about our new cloud products. " + PRINTER_EN,
          sender="hello@vendor.test",
          headers="List-Unsubscribe: <https://vendor.test/u>\nList-Id: <news.vendor.test>"),
     "ignored", "not triaged: ignored"),
    ("spam from outside", "", "", mail("Bonus", CASINO, sender="win@spins.test"), "ignored",
     "not triaged: ignored"),
    ("an outside lure, as a security ticket", "", '[senders]\nunsolicited = "security"\n',
     mail("Storage full", OUTSIDE_LURE, sender="it-desk@mailbox-storage.top"), "triaged",
     "phishing or spam from outside"),
    ("an outside lure, triaged like any mail", "", '[senders]\nunsolicited = "triage"\n',
     mail("Storage full", OUTSIDE_LURE, sender="it-desk@mailbox-storage.top"), "triaged",
     "phishing or spam from outside"),
    ("an outsider 'forwarding' a lure", "", "",
     forwarded("FW: Your mailbox is full", "is this legit?", "Eve <eve@elsewhere.test>"),
     "triaged", "mail about phishing from outside the organisation"),
    ("an outsider 'forwarding' a lure, copied to their own domain", "", "",
     forwarded("FW: Your mailbox is full", "is this legit?", "Eve <eve@elsewhere.test>",
               cc="eve@elsewhere.test"),
     "triaged", "mail about phishing from outside the organisation"),
    ("a colleague's mail the spam filter flagged", "", "",
     mail("Printer broken", PRINTER_EN, headers="X-Spam-Flag: YES"), "triaged",
     "the mail system marked it spam"),
    ("a forged colleague (DMARC failed)", "", "",
     mail("Printer broken", PRINTER_EN,
          headers="Authentication-Results: mx.example.com; spf=fail; dmarc=fail"), "triaged",
     "its sender failed authentication (spf=fail, dmarc=fail): the From may be forged"),
    ("a monitoring alert", "", "",
     mail("PROBLEM: Host srv-db01 is DOWN",
          "Host: srv-db01\nState: DOWN\nAddress: 10.0.0.5\nInfo: CRITICAL - Host Unreachable",
          sender="monitor@example.com"), "triaged", "a monitoring system's alert"),
    ("a no-reply sender", "", "",
     mail("Printer broken", PRINTER_EN, sender="no-reply@example.com"), "triaged",
     "the sender is a no-reply or mail-system address"),
    ("our own address", "", "",
     mail("Printer broken", PRINTER_EN, sender="helpdesk@example.com"), "triaged",
     "the sender is one of our own addresses"),
    ("an address in never_to", "never_to = ['*@lab.example.com']", "",
     mail("Printer broken", PRINTER_EN, sender="tom@lab.example.com"), "triaged",
     "the sender is listed in [ack] never_to"),
    ("an answer to our acknowledgement", "", "",
     mail("Re: Printer broken [t-0123456789abcdef0123]", "Thanks, it works again now.",
          headers="In-Reply-To: <t-0123456789abcdef0123.ack@example.com>"), "triaged",
     "it answers one of our acknowledgements"),
    ("Exchange asking for no auto-reply", "", "",
     mail("Printer broken", PRINTER_EN, headers="X-Auto-Response-Suppress: All"), "triaged",
     "X-Auto-Response-Suppress asks for no automatic answer"),
    ("a source not listed", "sources = ['imap:*']", "",
     mail("Printer broken", PRINTER_EN), "triaged", "its source is not in [ack] sources"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("ack", "tables", "data", "status", "why"),
    [case[1:] for case in NO_ACK],
    ids=[case[0] for case in NO_ACK],
)
def test_no_ack_to_automatic_bulk_spam_lure_or_own_mail(
    harness_for, ack, tables, data, status, why
):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        desk = harness_for(ack_toml(server.port, ack, tables))
        with structlog.testing.capture_logs() as logs:
            result = desk.triage(data)
        assert result.status == status
        assert [e["reason"] for e in logs if e["event"] == "ack.none"] == [why]
        assert desk.sender("ack").run_once() == 0
    assert inbox.messages == []
    assert ("ack", "pending") not in desk.service.counts()


def test_an_ack_that_comes_back_into_the_mailbox_is_ignored_not_answered(harness_for):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        desk = harness_for(ack_toml(server.port))
        first = desk.triage(mail("Printer broken", PRINTER_EN))
        assert desk.sender("ack").run_once() == 1
        [(_, _, ack)] = inbox.messages
        back = desk.triage(ack, name="back.eml")  # an alias that forwards to the helpdesk
        assert back.id != first.id
        assert (back.status, back.status_reason) == (
            "ignored",
            "auto-reply: Auto-Submitted: auto-replied",
        )
        assert desk.sender("ack").run_once() == 0
    assert len(inbox.messages) == 1


def test_a_duplicate_gets_no_second_ack(harness_for):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        desk = harness_for(ack_toml(server.port))
        first = desk.triage(mail("Printer broken", PRINTER_EN, message_id="<p-1@example.com>"))
        resent = desk.triage(
            mail("Printer broken", PRINTER_EN + " Please help.", message_id="<p-1@example.com>")
        )
        assert (resent.status, resent.duplicate_of) == ("duplicate", first.id)
        copied = desk.triage(mail("Printer broken", PRINTER_EN, message_id="<p-2@example.com>"))
        assert (copied.status, copied.duplicate_of) == ("duplicate", first.id)
        assert desk.sender("ack").run_once() == 1
    assert [recipients for _, recipients, _ in inbox.messages] == [["ann@example.com"]]


def test_a_replayed_ticket_is_acknowledged_once(harness_for, clock):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        desk = harness_for(ack_toml(server.port))
        bad = desk.triage(b'{"subject": "VPN down", "from": "ann@example.com"}', "t.json")
        assert bad.status == "quarantined"
        assert desk.sender("ack").run_once() == 0  # nothing to acknowledge yet
        fixed = json.dumps(
            {"subject": "VPN down", "body": "The VPN drops every 5 minutes.", "from": "ann@x.test"}
        ).encode()

        again = RawInput(bad.id, fixed, bad.source, bad.source_ref, bad.received_at)
        replayed = desk.pipeline.replay(again).result
        assert (replayed.id, replayed.status) == (bad.id, "triaged")
        assert desk.pipeline.replay(again).new is False  # triaged already: nothing replayed
        assert desk.sender("ack").run_once() == 1
    [(_, recipients, content)] = inbox.messages
    assert recipients == ["ann@x.test"]
    assert parsed(content)["Subject"] == f"Re: VPN down [{bad.id}]"
    assert "In-Reply-To" not in parsed(content)  # a JSON ticket has no Message-ID
    assert desk.service.counts() == {("ack", "done"): 1}


def test_an_input_retried_after_its_publish_failed_makes_one_ack(harness_for):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        desk = harness_for(ack_toml(server.port))
        data = mail("Printer broken", PRINTER_EN)
        outbox = desk.settings.outbox.dir
        away = outbox.with_name("outbox-away")
        outbox.rename(away)
        outbox.write_text("")  # a file where the folder belongs: committed, not published
        with pytest.raises(StoreError):
            desk.triage(data)
        outbox.unlink()
        away.rename(outbox)
        result = desk.triage(data)  # the input, not acknowledged, comes again
        assert result.status == "triaged"
        assert desk.sender("ack").run_once() == 1
    assert [recipients for _, recipients, _ in inbox.messages] == [["ann@example.com"]]
    assert desk.service.counts() == {("ack", "done"): 1}


def test_at_most_per_hour_acks_to_one_address(harness_for, clock):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        desk = harness_for(ack_toml(server.port, "per_hour = 2"))
        subjects = ["Printer jams", "Monitor flickers", "Mouse is dead"]
        for n, subject in enumerate(subjects):
            desk.triage(mail(subject, f"{subject} since this morning, desk {n}."))
        desk.triage(mail("Keyboard sticks", "The keyboard keys stick.", sender="bob@example.com"))
        assert desk.sender("ack").run_once() == 3  # two for ann, one for bob
        clock.moment += timedelta(minutes=61)  # an hour on: ann may get one again
        desk.triage(mail("Laptop battery", "The laptop battery drains in an hour."))
        assert desk.sender("ack").run_once() == 1
    to = [recipients[0] for _, recipients, _ in inbox.messages]
    assert to == ["ann@example.com", "ann@example.com", "bob@example.com", "ann@example.com"]
    subjects_acked = [parsed(content)["Subject"].split(" [")[0] for _, _, content in inbox.messages]
    assert subjects_acked == [
        "Re: Printer jams",
        "Re: Monitor flickers",
        "Re: Keyboard sticks",
        "Re: Laptop battery",
    ]


def test_no_ack_when_disabled_while_the_relay_still_relays(harness_for):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        toml = ack_toml(server.port, relay=True).replace(
            "[ack]\nenabled = true", "[ack]\nenabled = false"
        )
        desk = harness_for(toml)
        desk.triage(mail("Printer broken", PRINTER_EN))
        assert [s.kind for s in desk.service._senders] == ["smtp"]
        assert desk.sender("smtp").run_once() == 1
    [(envelope_from, recipients, _)] = inbox.messages
    assert (envelope_from, recipients) == ("triage@example.org", ["helpdesk@example.org"])
    assert desk.service.counts() == {("smtp", "done"): 1}


def test_the_relayed_mail_and_the_ack_leave_with_their_own_envelope_senders(harness_for):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        desk = harness_for(ack_toml(server.port, relay=True))
        desk.triage(mail("Printer broken", PRINTER_EN))
        assert desk.sender("smtp").run_once() == 1
        assert desk.sender("ack").run_once() == 1
    envelopes = sorted((sender, rcpt) for sender, rcpt, _ in inbox.messages)
    assert envelopes == [
        ("<>", ["ann@example.com"]),
        ("triage@example.org", ["helpdesk@example.org"]),
    ]


def test_a_secret_in_the_subject_never_reaches_the_ack(harness_for):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        desk = harness_for(ack_toml(server.port))
        desk.triage(mail("VPN: my new password is Hunter2!x9 and bob@example.com", "VPN fails."))
        assert desk.sender("ack").run_once() == 1
    [(_, _, content)] = inbox.messages
    assert b"Hunter2" not in content and b"bob@example.com" not in content
    assert "[CREDENTIAL:password]" in parsed(content)["Subject"]


def test_a_hostile_or_endless_subject_stays_one_folded_header_line(harness_for):
    inbox = Inbox()
    smuggled = "=?utf-8?q?VPN_down=0D=0ABcc:_eve@evil.test=0D=0A=0D=0Afake_body?="
    endless = "Drucker kaputt " + "äöü " * 600
    with smtp_server(inbox) as server:
        desk = harness_for(ack_toml(server.port))
        desk.triage(mail(smuggled, PRINTER_EN))
        desk.triage(mail(endless, PRINTER_EN + " Second floor.", sender="bob@example.com"))
        assert desk.sender("ack").run_once() == 2
    for _, recipients, content in inbox.messages:
        assert recipients != ["eve@evil.test"]
        assert max(len(line) for line in content.split(b"\r\n")) <= 998
        message = parsed(content)
        assert "Bcc" not in message and "\nfake body" not in text_of(content)
        assert "\n" not in message["Subject"] and len(message["Subject"]) < 260
    first, second = (parsed(content)["Subject"] for _, _, content in inbox.messages)
    assert first.startswith("Re: VPN down Bcc: eve@evil.test fake body [t-")
    assert second.startswith("Re: Drucker kaputt äöü äöü") and "…" in second


def test_an_ack_planned_before_a_restart_is_sent_after_it(harness_for, clock):
    port = free_port()
    toml = ack_toml(port)
    desk = harness_for(toml)
    result = desk.triage(mail("Printer broken", PRINTER_EN))
    assert desk.sender("ack").run_once() == 1  # no server: retried later
    desk.close()  # the daemon stops (or dies) before the ack is out
    inbox = Inbox()
    with smtp_server(inbox, port=port):
        clock.moment += timedelta(seconds=30)
        restarted = harness_for(toml)
        assert restarted.sender("ack").run_once() == 1
        assert restarted.sender("ack").run_once() == 0
    [(_, recipients, content)] = inbox.messages
    assert recipients == ["ann@example.com"]
    assert parsed(content)["Message-ID"] == f"<{result.id}.ack@example.com>"
    assert restarted.service.counts() == {("ack", "done"): 1}


def acks_planned(store: Path) -> int:
    if not store.exists():
        return 0
    db = sqlite3.connect(store)
    try:
        return int(db.execute("SELECT count(*) FROM deliveries WHERE kind = 'ack'").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        db.close()


@pytest.mark.slow
def test_a_daemon_killed_before_sending_the_ack_sends_it_after_restart(tmp_path):
    port = free_port()
    store = tmp_path / "var" / "triage.sqlite3"
    (tmp_path / "var" / "inbox").mkdir(parents=True)
    config = tmp_path / "config.toml"
    config.write_text(
        "[dropfolder]\nsettle_seconds = 0.0\nrescan_seconds = 1.0\n"
        + ack_toml(port).replace("sources = ['*']", "sources = ['dropfolder']")
        + NO_SCHEDULE
    )
    now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    ticket = mail("Printer broken", PRINTER_EN, message_id="<k-1@example.com>")
    ticket = ticket.replace("Mon, 02 Nov 2026 09:00:00 +0100", now)
    with daemon_running(tmp_path, config) as daemon:
        temporary = tmp_path / "var" / "inbox" / ".t.eml.tmp"
        temporary.write_text(ticket)
        temporary.rename(tmp_path / "var" / "inbox" / "t.eml")
        deadline = time.monotonic() + 60
        while acks_planned(store) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert acks_planned(store) == 1  # planned with the result; no server to take it
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(timeout=30)
    (tmp_path / "notify.sock").unlink()
    inbox = Inbox()
    with smtp_server(inbox, port=port), daemon_running(tmp_path, config):
        deadline = time.monotonic() + 60
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # a second one would come within a retry
    [(envelope_from, recipients, content)] = inbox.messages
    assert (envelope_from, recipients) == ("<>", ["ann@example.com"])
    assert parsed(content)["In-Reply-To"] == "<k-1@example.com>"


def test_check_says_what_an_enabled_ack_is_missing(make_settings):
    empty_from = make_settings("[ack]\nenabled = true\n")
    [ack] = [found for found in delivery_checks(empty_from, None) if found[0] == "ack"]
    assert ack == (
        "ack",
        False,
        "[ack] from is empty: set it to the helpdesk's address (the From of the replies)",
    )
    no_server = make_settings("[relay]\nhost = ''\n[ack]\nenabled = true\nfrom = 'h@example.com'\n")
    [ack] = [found for found in delivery_checks(no_server, None) if found[0] == "ack"]
    assert ack[1] is False and ack[2].startswith("[relay] host is empty")
    [off] = [found for found in delivery_checks(make_settings(), None) if found[0] == "ack"]
    assert off == ("ack", True, "disabled")


def test_check_logs_in_to_the_relays_server_for_the_ack_when_the_relay_is_off(tmp_path):
    with smtp_server(Inbox()) as server:
        config = tmp_path / "config.toml"
        config.write_text(ack_toml(server.port))
        loaded = LoadedSettings(load_settings(config, {}).settings, config)
        [ack] = [check for check in run_checks(loaded) if check.name.startswith("ack")]
    assert ack.name == f"ack (127.0.0.1:{server.port}, none)"
    assert (ack.ok, ack.detail) == (
        True,
        "reached, no login; from helpdesk@example.com, at most 3 an hour per address",
    )


def test_the_daemon_refuses_an_enabled_ack_without_from(make_settings, store):
    with pytest.raises(ConfigError, match=r"\[ack\] from is empty"):
        build_delivery(make_settings("[ack]\nenabled = true\n"), store)


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ("[ack.texts.en]\nsubject = 'Re: {subjekt}'\n", "[ack] texts.en.subject"),
        ("[ack.texts.de]\nbody = '{id.__class__}'\n", "[ack] texts.de.body"),
        ("[ack]\nlanguage = 'sv'\n", "[ack]"),
        ("[ack]\nfrom = 'not an address'\n", "[ack] from"),
    ],
)
def test_a_wrong_ack_setting_is_refused_naming_the_key(tmp_path, toml, named):
    config = tmp_path / "config.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError) as refused:
        load_settings(config, {})
    assert named in str(refused.value)


def test_the_built_in_texts_cover_en_de_fr_es_and_name_the_ticket():
    ack = load_settings(None, {}).settings.ack
    assert ack.enabled is False and ack.language == "en"
    for table in (ack.texts, ack.phishing):
        for language in ("en", "de", "fr", "es"):
            assert "{id}" in table[language].body
            assert table[language].subject == "Re: {subject} [{id}]"


@pytest.mark.parametrize(
    ("address", "answered"),
    [
        ("ann@example.com", True),
        ("anna.noreply@example.com", False),
        ("no-reply@example.com", False),
        ("DoNotReply@example.com", False),
        ("MAILER-DAEMON@example.com", False),
        ("postmaster@example.com", False),
        ("users-request@lists.example.org", False),
        ("owner-users@lists.example.org", False),
        ("bounces+123@mail.example.com", False),
        ("notifications@github.example", False),
        ("it-alerts@example.com", False),
        ("alexander@example.com", True),
        ("nora@example.com", True),
        ("HelpDesk@Example.com", False),  # our own, whatever its case
    ],
)
def test_addresses_no_person_reads_get_no_ack(make_settings, clock, address, answered):
    settings = make_settings("[ack]\nenabled = true\nfrom = 'helpdesk@example.com'\n")
    policy = AckPolicy.of(settings.ack, settings.relay)
    ticket = Ticket(format="mail", subject="Printer", body=PRINTER_EN, sender=address)
    result = stored_result("t-1", at=clock()).revised(sender=address, source="dropfolder")
    decision = decide(result, Inbound(ticket), policy, clock())
    assert (decision.to is not None) is answered


def test_acks_to_an_address_are_counted_within_the_hour_whatever_its_case(any_store):
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def ack(ticket: str, to: str, at: datetime) -> Delivery:
        return Delivery(f"{ticket}.ack", ticket, "ack", "requester", (to,), b"x", at)

    for n, (to, at) in enumerate(
        [
            ("ann@example.com", now - timedelta(minutes=70)),
            ("Ann@Example.com", now - timedelta(minutes=30)),
            ("ann@example.com", now - timedelta(minutes=5)),
            ("bob@example.com", now - timedelta(minutes=5)),
        ]
    ):
        ticket = f"t-{n}"
        any_store.save(stored_result(ticket), TicketKeys(None), at, Planned((ack(ticket, to, at),)))
    any_store.deliveries_done(["t-2.ack"], now)
    hour = now - timedelta(hours=1)
    assert any_store.deliveries_to("ack", "ANN@example.com", hour) == 2
    assert any_store.deliveries_to("ack", "bob@example.com", hour) == 1
    assert any_store.deliveries_to("ack", "eve@example.com", hour) == 0
    assert any_store.deliveries_to("smtp", "ann@example.com", hour) == 0
