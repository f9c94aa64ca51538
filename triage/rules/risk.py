"""How much harm a ticket signals. Risk only ever goes up: nothing a ticket says lowers it."""

from __future__ import annotations

import re

from triage.rules.keywords import RISK_ORDER
from triage.rules.sensitivity import CARD, CREDENTIAL, Sensitivity
from triage.ticket import Priority, Risk

_HIGH: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern, re.I))
    for reason, pattern in (
        ("security incident: phishing",
         r"(?<!\w)(phish\w*|hameçonnage|suplantaci[óo]n de identidad)(?!\w)"),
        ("security incident: malware",
         r"(?<!\w)(malware|virus|trojan\w*|spyware|keylogger|schadsoftware|trojaner"
         r"|logiciel malveillant|software malicioso)(?!\w)"),
        ("security incident: ransomware",
         r"(?<!\w)(ransomware|ransom note|rançongiciel|encrypted my files"
         r"|files (are|were|have been|got) encrypted|dateien (wurden )?verschlüsselt)(?!\w)"),
        ("security incident: compromised account",
         r"(?<!\w)(hacked|compromised|gehackt|kompromittiert|piraté|hackead[oa]|comprometid[oa]"
         r"|unauthori[sz]ed (access|login|sign-?in)|suspicious (login|sign-?in|activity)"
         r"|someone (else )?(logged|signed) in(to)?)(?!\w)"),
        ("security incident: leaked secret",
         r"(?<!\w)((leak(ed)?|exposed|pushed|committed|posted|published|pasted)\W+(\w+\W+){0,6}"
         r"(password|api[ -]?key|secret|token|credential|private key)s?"
         r"|(password|api[ -]?key|secret|token|credential|private key)s?\W+(\w+\W+){0,4}"
         r"(was |were |got |has been |have been )?(leaked|exposed|made public|published))(?!\w)"),
        ("security incident: lost or stolen device",
         r"(?<!\w)((lost|stolen|missing|verloren|gestohlen|perdu|volé|perdid[oa]|robad[oa])\W+"
         r"(\w+\W+){0,3}(laptop|phone|device|iphone|notebook|tablet|usb|smartphone|handy"
         r"|ordinateur|portátil|móvil|ipad|macbook)"
         r"|(laptop|phone|device|iphone|notebook|tablet|smartphone|handy|ipad|macbook)\W+"
         r"(\w+\W+){0,3}(lost|stolen|gestohlen|verloren|volé|perdu|robad[oa]|perdid[oa]))(?!\w)"),
        ("security incident: payment fraud",
         r"(?<!\w)(ceo fraud|invoice fraud|payment fraud|fraudulent (invoice|payment|transfer)"
         r"|gift ?cards?|change (of )?bank (details|account)|bank details (have )?changed"
         r"|wire transfer|urgent (payment|transfer)|überweisung|virement urgent"
         r"|transferencia urgente)(?!\w)"),
        ("outage affecting many users",
         r"(?<!\w)(everyone|everybody|all (users|staff|employees|colleagues|of us)"
         r"|(whole|entire) (office|team|company|floor|building|department|site)"
         r"|nobody can|no ?one can|company-?wide|site-?wide|outage|is down for"
         r"|alle (mitarbeiter|kollegen|benutzer)|niemand kann|(ganze|gesamte) (büro|firma"
         r"|abteilung)|ausfall|tout le monde|personne ne peut|panne générale|todos los usuarios"
         r"|nadie puede|toda la oficina)(?!\w)"),
    )
)
_MEDIUM: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern, re.I))
    for reason, pattern in (
        ("requester cannot work",
         r"(?<!\w)(can(no|')t work|unable to work|completely blocked|kann nicht arbeiten"
         r"|ne peux pas travailler|no puedo trabajar)(?!\w)"),
        ("marked urgent",
         r"(?<!\w)(urgent|asap|as soon as possible|dringend|sofort|urgente|lo antes posible)(?!\w)"),
    )
)
_PRIORITY_FLOOR: dict[Risk, Priority] = {"high": "P1", "medium": "P2", "low": "P4"}


def assess_risk(
    text: str, sensitivity: Sensitivity, rule_risk: Risk | None, rule_names: tuple[str, ...]
) -> tuple[Risk, tuple[str, ...]]:
    """Risk from the words, the sensitive data found and the rules; never below a rule's."""
    reasons: list[str] = [reason for reason, pattern in _HIGH if pattern.search(text)]
    risk: Risk = "high" if reasons else "low"
    if CREDENTIAL in sensitivity.tags:
        reasons.append("credential written in the ticket: rotate it")
    if CARD in sensitivity.tags:
        reasons.append("payment card number in the ticket")
    medium = [reason for reason, pattern in _MEDIUM if pattern.search(text)]
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
