"""The scope of an outage: many people stopped is high; one device nobody can use is not;
a monitoring system's DOWN alert is a high-risk ticket even from an automated sender."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from triage.compose.app import rules_from
from triage.config.settings import load_settings
from triage.parsing import MailLimits, parse_ticket
from triage.rules import evaluate
from triage.rules.automated import detect_automated
from triage.rules.scope import monitoring_alert, outage
from triage.rules.text import TextIndex

LIMITS = MailLimits(1 << 20, 100, 10)
RULES = rules_from(load_settings(None, {}).settings)


@pytest.mark.parametrize(
    "text",
    [
        "Nobody in the Leeds office can reach the intranet since 9",
        "None of the warehouse team can log in to the scanner app",
        "The whole accounts team lost access to the VPN this morning",
        "All 30 of us on the 2nd floor cannot print",
        "Niemand in der Filiale kann sich am Kassensystem anmelden",
        "Seit heute früh kommt keiner mehr ins Internet",
        "Personne à l'agence ne peut se connecter à la messagerie",
        "Nadie en la oficina de Sevilla puede entrar en el ERP",
        "Toda la planta está sin internet, somos unas 20 personas",
        "Is the file server down? S: drive says network path not found, anyone else?",
        "The VPN is down since 8am",
        "Der Server ist ausgefallen",
        "El servidor está caído desde las nueve",
        "Nobody in the warehouse can scan, the WMS is unreachable",
        "Since 6am host erp-01 is DOWN",
    ],
)
def test_an_outage_of_many_people_is_found_in_four_languages(text):
    assert outage(TextIndex(text)) is not None


@pytest.mark.parametrize(
    "text",
    [
        "The printer on the 3rd floor is offline, nobody on the floor can use this printer",
        "Niemand kann den Drucker im 2. OG benutzen, er zeigt Papierstau",
        "Now nobody can add new members to the Teams group",
        "Please add everyone in my team to the distribution list",
        "The Wi-Fi in meeting room 2 drops, the rest of the floor is fine",
        "Colleagues next to me can open the intranet, only my laptop cannot",
        "Working from home today and my internet is down, I use my phone's hotspot",
    ],
)
def test_one_device_or_one_person_is_no_outage(text):
    assert outage(TextIndex(text)) is None


def test_a_print_server_down_for_a_building_is_an_outage_though_printers_are_devices():
    text = "Nobody in building B can print, every printer is offline, the print server is down"
    assert outage(TextIndex(text)) is not None


def alert(subject: str, body: str, auto: bool = True) -> bytes:
    message = EmailMessage()
    message["From"] = "Monitoring <monitor@example.com>"
    message["To"] = "helpdesk@example.com"
    message["Subject"] = subject
    if auto:
        message["Auto-Submitted"] = "auto-generated"
        message["Precedence"] = "bulk"
    message.set_content(body)
    return message.as_bytes()


NAGIOS = "Notification Type: PROBLEM\nHost: web-01\nState: DOWN\nInfo: CRITICAL - unreachable\n"
ZABBIX = "Problem started at 10:02\nProblem name: Interface eth0 down\nHost: sw-01\nSeverity: High"
PRTG = "Sensor: Ping (Ping)\nDevice: fw-01\nStatus: Down (since 10:01)\nMessage: timeout"


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("** PROBLEM Host Alert: web-01 is DOWN **", NAGIOS),
        ("Problem: Interface eth0 down on sw-01", ZABBIX),
        ("[PRTG] fw-01: Ping Down", PRTG),
        ("[FIRING:1] InstanceDown prod-db", "Alert: InstanceDown\nSeverity: critical\nState: DOWN"),
    ],
)
def test_a_monitoring_alert_that_something_is_down_is_a_high_risk_ticket(subject, body):
    ticket = parse_ticket(alert(subject, body), LIMITS)
    assert detect_automated(ticket) is None  # machine-written, yet a ticket
    verdict = evaluate(ticket, RULES, 60)
    assert verdict.risk == "high"
    assert any("monitoring alert" in reason for reason in verdict.risk_reasons)


def test_a_recovery_notice_is_a_ticket_but_not_high():
    body = "Notification Type: RECOVERY\nHost: web-01\nState: UP\nInfo: OK"
    assert monitoring_alert("** RECOVERY Host Alert: web-01 is UP **", body) is None
    ticket = parse_ticket(alert("** RECOVERY Host Alert: web-01 is UP **", body), LIMITS)
    assert detect_automated(ticket) is None
    assert evaluate(ticket, RULES, 60).risk != "high"


def test_shouting_critical_about_a_monitor_is_no_monitoring_alert():
    subject, body = "URGENT!!! CRITICAL!!! monitor", "my monitor flickers!!! fix asap"
    assert monitoring_alert(subject, body) is None
    ticket = parse_ticket(alert(subject, body, auto=False), LIMITS)
    assert evaluate(ticket, RULES, 60).risk != "high"


def test_an_auto_reply_is_still_ignored():
    ticket = parse_ticket(alert("Automatic reply: away", "I am out of the office."), LIMITS)
    assert detect_automated(ticket) is not None


@pytest.mark.parametrize(
    ("subject", "body", "is_outage"),
    [
        ("VPN down", "AnyConnect fails with error 809 since 9:00", False),
        ("Internet down", "My laptop shows no internet since this morning", False),
        ("Server ausgefallen", "Der Server antwortet nicht mehr", True),
        ("SharePoint down", "The intranet site gives an error 503", True),
    ],
)
def test_a_subject_naming_ones_own_connection_down_is_not_an_outage_of_many(
    subject, body, is_outage
):
    found = outage(TextIndex(f"{subject}\n{body}"))
    assert (found is not None) == is_outage


def test_an_outage_is_given_as_one_reason_the_precise_one_not_twice():
    ticket = parse_ticket(
        alert("Outage: file server down", "The file server is down for the whole floor.", False),
        LIMITS,
    )
    reasons = evaluate(ticket, RULES, 60).risk_reasons
    outage_reasons = [r for r in reasons if r.startswith("outage affecting many users")]
    assert len(outage_reasons) == 1 and ": " in outage_reasons[0]
