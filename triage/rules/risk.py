"""How much harm a ticket signals. Risk only ever goes up: nothing a ticket says lowers it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from triage.rules.falsealarm import without_false_alarms
from triage.rules.impact import business_impact, exposed_data
from triage.rules.scope import outage
from triage.rules.sensitivity import CARD, CREDENTIAL, Sensitivity
from triage.rules.symptoms import incidents
from triage.rules.text import Terms, TextIndex
from triage.ticket import RISK_ORDER, Priority, Risk

_DEVICES = (
    "laptop",
    "phone",
    "device",
    "iphone",
    "notebook",
    "tablet",
    "usb",
    "smartphone",
    "handy",
    "ordinateur",
    "portátil",
    "móvil",
    "ipad",
    "macbook",
)
_SECRETS = (
    "password*",
    "api key",
    "apikey",
    "key",
    "keys",
    "secret*",
    "token*",
    "credential*",
    "private key",
)


@dataclass(frozen=True)
class _Signal:
    reason: str
    terms: Terms
    also: Terms | None = None  # a second group of words that must be present too
    near: re.Pattern[str] | None = None  # and then these words close together in the text

    def found(self, index: TextIndex) -> bool:
        if not self.terms.any(index) or (self.also is not None and not self.also.any(index)):
            return False
        return self.near is None or self.near.search(index.text) is not None


_HIGH = (
    _Signal(
        "security incident: phishing",
        Terms(
            [
                "phish*",
                "hameçonnage",
                "suplantación de identidad",
                # a suspicious mail or link reported is treated as phishing until checked
                "suspicious email",
                "suspicious e-mail",
                "suspicious mail",
                "suspicious link",
                "suspicious message",
                "clicked a link",
                "clicked on a link",
                "verdächtige mail",
                "verdächtige e-mail",
                "verdächtige nachricht",
                "verdächtigen link",
                "mail suspect",
                "courriel suspect",
                "lien suspect",
                "correo sospechoso",
                "enlace sospechoso",
            ]
        ),
    ),
    _Signal(
        "security incident: breach or data leak",
        Terms(
            [
                "data breach",
                "data leak",
                "security breach",
                "security incident",
                "sicherheitsvorfall",
                "sicherheitsverletzung",
                "datenschutzverletzung",
                "datenverletzung",
                "violation de données",
                "incident de sécurité",
                "brecha de seguridad",
                "incidente de seguridad",
                "datenleck",
                "datenpanne",
                "fuite de données",
                "fuga de datos",
                "brecha de datos",
            ]
        ),
    ),
    _Signal(
        "security incident: malware",
        Terms(
            [
                "malware",
                "virus",
                "viruses",
                "trojan*",
                "spyware",
                "keylogger",
                "schadsoftware",
                "trojaner",
                "logiciel malveillant",
                "software malicioso",
            ]
        ),
    ),
    _Signal(
        "security incident: ransomware",
        Terms(
            [
                "ransomware",
                "ransom",
                "lösegeld",
                "rançon",
                "ransom note",
                "rançongiciel",
                "encrypted my files",
                "files are encrypted",
                "files were encrypted",
                "files have been encrypted",
                "files got encrypted",
                "dateien verschlüsselt",
                "dateien wurden verschlüsselt",
            ]
        ),
    ),
    _Signal(
        "security incident: compromised account",
        Terms(
            [
                "hacked",
                "piratage",
                "pirateado",
                "pirateada",
                "verdächtige anmeldung",
                "verdächtige aktivität",
                "compromised",
                "gehackt",
                "kompromittiert",
                "piraté",
                "hackeado",
                "hackeada",
                "comprometido",
                "comprometida",
                "unauthorized access",
                "unauthorised access",
                "unbefugter zugriff",
                "unberechtigter zugriff",
                "accès non autorisé",
                "acceso no autorizado",
                "unauthorized login",
                "unauthorized sign in",
                "suspicious login",
                "suspicious sign in",
                "suspicious activity",
                "someone logged in",
                "someone signed in",
                "someone else logged in",
            ]
        ),
    ),
    _Signal(
        "security incident: leaked secret",
        Terms(
            [
                "leak*",
                "exposed",
                "pushed",
                "committed",
                "posted",
                "published",
                "pasted",
                "made public",
            ]
        ),
        also=Terms(_SECRETS),
        near=re.compile(
            r"(?i)\b(leak\w*|exposed|pushed|committed|posted|published|pasted|made public)"
            r"\W+(?:\w+\W+){0,6}?(password|api[ -]?key|key|secret|token|credential|private key)"
            r"|\b(password|api[ -]?key|secret|token|credential|private key)s?\W+(?:\w+\W+){0,5}?"
            r"(leak\w*|exposed|made public|published)"
        ),
    ),
    _Signal(
        "security incident: lost or stolen device",
        Terms(
            [
                "lost",
                "stolen",
                "missing",
                "verloren",
                "gestohlen",
                "perdu",
                "volé",
                "perdido",
                "perdida",
                "robado",
                "robada",
            ]
        ),
        also=Terms(_DEVICES),
        near=re.compile(
            r"(?i)\b(lost|stolen|verloren|gestohlen|perdu|volé|perdid[oa]|robad[oa])"
            rf"\W+(?:\w+\W+){{0,3}}?({'|'.join(_DEVICES)})"
            rf"|\b({'|'.join(_DEVICES)})\W+(?:\w+\W+){{0,3}}?"
            r"(lost|stolen|gestohlen|verloren|volé|perdu|robad[oa]|perdid[oa]"
            r"|(?:is|has\s+gone|went|ist)\s+missing)"
        ),
    ),
    _Signal(
        "security incident: payment fraud",
        Terms(
            [
                "ceo fraud",
                "invoice fraud",
                "payment fraud",
                "fraudulent invoice",
                "fraudulent payment",
                "fraudulent transfer",
                "change of bank details",
                "bank details changed",
                "bank details have changed",
                "change of bank account",
                "virement urgent",
                "transferencia urgente",
            ]
        ),
    ),
    _Signal(
        "outage affecting many users",
        Terms(
            [
                "company wide",
                "companywide",
                "site wide",
                "system wide",
                "outage",
                "service disruption",
                "down for everyone",
                "panne générale",
                "interruption de service",
                "ausfall",
                "serverausfall",
                "systemausfall",
                "netzwerkausfall",
                "stromausfall",
                "totalausfall",
                "caída del servicio",
                "caída del sistema",
            ]
        ),
    ),
)
_MEDIUM = (
    _Signal(
        "requester cannot work",
        Terms(
            [
                "cannot work",
                "can't work",
                "cant work",
                "unable to work",
                "completely blocked",
                "kann nicht arbeiten",
                "nicht arbeiten",
                "ne peux pas travailler",
                "no puedo trabajar",
                # shut out of everything: one person stopped
                "locked out",
                "can't log in to anything",
                "cannot log in to anything",
                "can't get into anything",
                "komme ich weder",
                "bekomme keine vpn verbindung",
                "kann mich nicht anmelden",
                "impossible de me connecter",
                "je ne peux pas me connecter",
                "no puedo conectarme",
                "no puedo iniciar sesión",
            ]
        ),
    ),
    _Signal(
        "marked urgent",
        Terms(
            [
                "urgent",
                "asap",
                "as soon as possible",
                "dringend",
                "sofort",
                "urgente",
                "lo antes posible",
            ]
        ),
    ),
)
_PRIORITY_FLOOR: dict[Risk, Priority] = {"high": "P1", "medium": "P2", "low": "P4"}


def assess_risk(
    index: TextIndex,
    sensitivity: Sensitivity,
    rule_risk: Risk | None,
    rule_names: tuple[str, ...],
    high_reasons: tuple[str, ...] = (),
) -> tuple[Risk, tuple[str, ...]]:
    """Risk from the words (keywords, symptoms of incidents, the scope of an outage; threat words
    that report no threat left out), the sensitive data found, the rules, and `high_reasons`
    found beyond the words (a reported forward, a monitoring alert); never below a rule's."""
    index = without_false_alarms(index)
    reasons: list[str] = [signal.reason for signal in _HIGH if signal.found(index)]
    scope = outage(index)
    impact = [reason for reason in (exposed_data(index), business_impact(index)) if reason]
    found = [*incidents(index), *([scope] if scope else []), *impact, *high_reasons]
    reasons.extend(reason for reason in found if reason not in reasons)
    # A reason said more precisely by another ("outage affecting many users" beside
    # "outage affecting many users: a shared service is down") is said once, precisely.
    reasons = [r for r in reasons if not any(o.startswith(f"{r}: ") for o in reasons)]
    risk: Risk = "high" if reasons else "low"
    if CREDENTIAL in sensitivity.tags:
        reasons.append("credential written in the ticket: rotate it")
    if CARD in sensitivity.tags:
        reasons.append("payment card number in the ticket")
    medium = [signal.reason for signal in _MEDIUM if signal.found(index)]
    reasons.extend(medium)
    if risk == "low" and (medium or CREDENTIAL in sensitivity.tags or CARD in sensitivity.tags):
        risk = "medium"
    if rule_risk and RISK_ORDER[rule_risk] > RISK_ORDER[risk]:
        risk = rule_risk
        reasons.append(f"rule {rule_names[-1] if rule_names else '?'} sets risk {rule_risk}")
    return risk, tuple(reasons)


def priority_for(risk: Risk, stated: Priority | None) -> Priority:
    """The more urgent of what a rule or form stated (default P3) and what the risk demands."""
    floor = _PRIORITY_FLOOR[risk]
    base = stated or "P3"
    return min(base, floor) if risk != "low" else base
