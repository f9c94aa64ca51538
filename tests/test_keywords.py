from __future__ import annotations

import pytest

from tests.conftest import mail
from triage.compose.app import rules_from
from triage.config.settings import load_settings
from triage.rules.keywords import Rule, apply_rules, compile_rules, index_fields
from triage.ticket import Ticket

DEFAULT_RULES = rules_from(load_settings(None, {}).settings)
DEFAULT_RULES_LIST = [compiled.rule for compiled in DEFAULT_RULES]


def categorise(subject: str, body: str = "", sender: str | None = None, rules=DEFAULT_RULES):
    ticket = Ticket(format="text", subject=subject, body=body, sender=sender)
    return apply_rules(rules, index_fields(ticket))


@pytest.mark.parametrize(
    ("subject", "body", "category"),
    [
        # the seed's rules
        ("VPN keeps dropping", "", "vpn"),
        ("Cannot open Outlook", "", "email"),
        ("My email is not syncing", "", "email"),
        ("Coffee machine", "It makes odd noises.", None),
        # every category of the contract, in four languages
        ("AnyConnect will not connect", "", "vpn"),
        ("Fernzugriff geht nicht", "", "vpn"),
        ("Postfach voll", "", "email"),
        ("Ma boîte mail est pleine", "", "email"),
        ("No puedo ver mis correos", "", "email"),
        ("Locked out of my account", "", "account"),
        ("Passwort vergessen", "", "account"),
        ("J'ai oublié mon mot de passe", "", "account"),
        ("Olvidé mi contraseña", "", "account"),
        ("Need access to the finance shared drive", "", "access"),
        ("Berechtigung für Ordner", "", "access"),
        ("Accès refusé au dossier", "", "access"),
        ("Acceso denegado", "", "access"),
        ("WiFi in room 3 is slow", "", "network"),
        ("Keine Verbindung zum Netzwerk", "", "network"),
        ("Problème de réseau", "", "network"),
        ("Sin conexión", "", "network"),
        ("Printer on floor 2 jams", "", "printer"),
        ("Druckerproblem im 2. Stock", "", "printer"),
        ("L'imprimante ne marche pas", "", "printer"),
        ("La impresora no imprime", "", "printer"),
        ("Laptop screen flickers", "", "hardware"),
        ("Tastatur defekt", "", "hardware"),
        ("Mon clavier ne marche plus", "", "hardware"),
        ("Mi teclado no funciona", "", "hardware"),
        ("Please install Visio", "", "software"),
        ("Programm stürzt ab, Absturz beim Start", "", "software"),
        ("Mise à jour du logiciel", "", "software"),
        ("Actualización de la aplicación", "", "software"),
        ("I clicked a link in a phishing mail", "", "security"),
        ("Verdächtige E-Mail erhalten", "", "security"),
        ("Fuite de données", "", "security"),
        ("Correo sospechoso", "", "security"),
    ],
)
def test_default_rules_place_tickets_in_every_category(subject, body, category):
    assert categorise(subject, body).category == category


def test_keywords_match_whole_words_only():
    assert categorise("Reprint the vpnish report").category is None
    assert categorise("The app crashed").category == "software"
    assert categorise("Happy birthday").category is None  # "app" inside "happy"


def test_security_rule_comes_before_email_so_a_phishing_mail_is_security():
    assert categorise("Phishing email received").category == "security"


def test_first_matching_rule_sets_the_category_and_stop_ends_evaluation():
    rules = compile_rules(
        [
            Rule("a", ("printer",), category="printer", stop=True),
            Rule("b", ("printer",), category="hardware", priority="P1"),
        ]
    )
    match = categorise("printer jam", rules=rules)
    assert (match.category, match.priority, match.matched) == ("printer", None, ("a",))


def test_later_rules_fill_only_what_earlier_ones_left_unset_and_risk_only_rises():
    rules = compile_rules(
        [
            Rule("cat", ("printer",), category="printer", risk="medium"),
            Rule("prio", ("printer",), category="hardware", priority="P2", risk="low"),
            Rule("risk", ("jam",), risk="high"),
        ]
    )
    match = categorise("printer jam", rules=rules)
    assert (match.category, match.priority, match.risk) == ("printer", "P2", "high")


def test_prefix_keywords_regexes_and_fields():
    rules = compile_rules(
        [
            Rule(
                "monitoring", ("/@monitoring\\.example\\.com$/",), on=("from",), category="network"
            ),
            Rule("prefix", ("drucker*",), category="printer"),
        ]
    )
    assert (
        categorise("x", sender="alerts@monitoring.example.com", rules=rules).category == "network"
    )
    assert categorise("Druckerwarteschlange hängt", rules=rules).category == "printer"
    assert categorise("monitoring.example.com", rules=rules).category is None  # subject only


def test_phrases_span_punctuation_and_spacing():
    assert categorise("I am locked   out").category == "account"
    assert categorise("Sign-in fails").category == "account"


def _parsed(text: str):
    from triage.parsing import MailLimits, parse_ticket

    return parse_ticket(text.encode(), MailLimits(2_000_000, 1000, 30))


def _verdict(text: str, rules, source: str = "cli"):
    from triage.rules import evaluate

    return evaluate(_parsed(text), rules, 60, source=source)


MULTIPART = (
    "From: Bob <bob@example.com>\nTo: payroll@example.com\nCc: boss@example.com\n"
    "Subject: Question\nX-Priority: 1 (Highest)\nX-Spam-Flag: YES\nMIME-Version: 1.0\n"
    'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
    "See the attachment.\n--b\nContent-Type: application/pdf\n"
    'Content-Disposition: attachment; filename="invoice-2026.pdf"\n'
    "Content-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n"
)


@pytest.mark.parametrize(
    ("on", "entry"),
    [
        (("to",), "payroll@example.com"),
        (("cc",), "boss"),
        (("header:X-Priority",), "/^1\\b/"),
        (("header:x-spam-flag",), "yes"),
        (("attachments",), "pdf"),
        (("attachments",), "invoice*"),
        (("source",), "/^imap:support\\/INBOX$/"),
    ],
)
def test_a_rule_can_look_at_the_envelope_headers_attachments_and_source(on, entry):
    rules = compile_rules([Rule("r", (entry,), on=on, category="access")])
    assert _verdict(MULTIPART, rules, source="imap:support/INBOX").category == "access"
    assert (
        _verdict(mail("Question", "See the attachment."), rules, source="dropfolder").category
        == "other"
    )


def test_when_conditions_must_all_hold_besides_match():
    rules = compile_rules(
        [
            Rule(
                "spam-from-payroll",
                ("question",),
                category="security",
                when=(("header:x-spam-flag", ("yes",)), ("source", ("/^imap:/",))),
            )
        ]
    )
    assert _verdict(MULTIPART, rules, source="imap:support/INBOX").category == "security"
    assert _verdict(MULTIPART, rules, source="dropfolder").category == "other"


def test_a_rule_with_only_when_conditions_outranks_a_body_match():
    rules = compile_rules(
        [
            Rule("vip", (), when=(("from", ("bob@example.com",)),), priority="P1", team="vip-desk"),
            *DEFAULT_RULES_LIST,
        ]
    )
    verdict = _verdict(MULTIPART, rules)
    assert (verdict.priority, verdict.team, verdict.matched_rules[0]) == ("P1", "vip-desk", "vip")


def test_actions_set_workflow_team_and_tags_and_the_team_is_a_rules_assignment():
    rules = compile_rules(
        [
            Rule(
                "pay",
                ("payroll",),
                on=("to",),
                workflow="payroll",
                team="hr-systems",
                tags=("sap",),
            ),
            Rule("tag", ("attachment",), tags=("has-file", "sap")),
            Rule("team2", ("attachment",), team="other-team"),
        ]
    )
    verdict = _verdict(MULTIPART, rules)
    assert verdict.workflow == verdict.booked_workflow == "payroll"
    assert verdict.tags == ("sap", "has-file")
    assert (verdict.team, verdict.team_rule) == ("hr-systems", "pay")  # the first team stands
    assert verdict.assignment() == {
        "team": "hr-systems",
        "probability": 1.0,
        "tier": "rules",
        "model": None,
    }
    plain = _verdict(mail("VPN down", "help"), DEFAULT_RULES)
    assert (plain.assignment(), plain.booked_workflow) == (None, "vpn")


def test_each_hit_names_the_field_and_the_words_that_fired():
    verdict = _verdict(mail("AnyConnect VPN fails", "since the update"), DEFAULT_RULES)
    [hit] = verdict.hits
    assert (hit.rule, hit.field, hit.words) == ("vpn", "subject", ("vpn", "anyconnect"))
    rules = compile_rules([Rule("code", ("/error \\d{3}/",), category="vpn")])
    [hit] = _verdict(mail("x", "it says error 809 again"), rules).hits
    assert (hit.field, hit.words) == ("body", ("error 809",))
