"""Threat words that report no threat: "how do I report phishing?", the "Phishing & Ransomware
Awareness" course, a customer's mail held in quarantine "as phishing", a site the proxy
blocks as "malicious", an antivirus licence to renew. Such sentences are taken out of the text
the incident signals read, unless the sentence also tells of something done (clicked, opened,
typed, infected)."""

from __future__ import annotations

import re

from triage.rules.concepts import concept
from triage.rules.text import TextIndex

_THREAT = concept(
    "a threat word",
    [
        "phish*", "malware", "virus", "viruses", "viren", "ransomware", "trojan*", "spyware",
        "malicious", "malveillant", "malveillante", "malicioso", "maliciosa", "schadsoftware",
        "hameçonnage", "rançongiciel", "suspicious", "verdächtig*", "sospechoso", "hacked",
        "antivirus", "anti virus", "outage", "ausfall", "panne", "downtime", "breach",
        "security incident", "sicherheitsvorfall", "incident de sécurité",
        "incidente de seguridad",
    ],
)  # fmt: skip
_FRAME = concept(
    "a frame that is no incident",
    [
        # how to report
        "how do i report", "how do we report", "how should i report", "how to report",
        "way to report", "report phish", "report button", "report message", "report it",
        "report them", "forward them", "wie melde", "melden wir", "comment signaler",
        "cómo reporto", "cómo informar", "cómo denunciar", "como reporto",
        # training
        "training", "course", "awareness", "module", "e learning", "learning portal",
        "webinar", "quiz", "simulation", "schulung", "kurs", "sensibilisierung", "formation",
        "sensibilisation", "formación", "curso", "concienciación",
        # a filter that caught something harmless
        "quarantine", "quarantäne", "quarantaine", "cuarentena", "flagged as", "marked as",
        "classified as", "detected as", "whitelist", "allowlist", "false positive",
        "spam folder", "junk", "fälschlich", "faux positif", "falso positivo", "proxy",
        "web filter", "webfilter", "unblock", "débloquer", "desbloquear", "entsperren",
        # liability footers: "rely on your own virus checkers", "free of viruses"
        "virus checkers", "virus checker", "virus check", "free of viruses",
        "free from viruses", "virus transmitted", "liability", "no responsibility",
        "haftung", "responsabilité", "responsabilidad", "intended recipient", "proprietary",
        "disclaimer", "addressee", "protect against", "precautions", "empfänger",
        "destinataire", "destinatario",
        # planned work
        "planned", "scheduled", "maintenance", "maintenance window", "wartung", "geplant",
        "geplante", "prévue", "programmée", "mantenimiento", "programado", "programada",
        # licences
        "licence", "license", "renewal", "subscription", "seats", "lizenz", "verlängerung",
        "renouvellement", "licencia", "renovación",
    ],
)  # fmt: skip
_DONE = concept(
    "something was done",
    [
        "clicked", "opened", "entered", "typed", "infected", "encrypted", "downloaded",
        "installed", "geklickt", "geöffnet", "eingegeben", "infiziert", "verschlüsselt",
        "cliqué", "ouvert", "saisi", "infecté", "chiffré", "pinché", "abrí", "introduje",
        "infectado", "cifrado",
    ],
)  # fmt: skip
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_ECHO_WORDS = 5


def without_false_alarms(index: TextIndex) -> TextIndex:
    """The text without its sentences that name a threat in a frame that is no incident;
    the same index when there are none (the common case costs two word look-ups)."""
    if not (_THREAT.found(index) and _FRAME.found(index)):
        return index
    sentences = [TextIndex(sentence) for sentence in _SENTENCE.split(index.text)]
    framed = [
        _THREAT.found(words) and _FRAME.found(words) and not _DONE.found(words)
        for words in sentences
    ]
    if not any(framed):
        return index
    # A short line that only names the threat ("Reporting phishing" as the subject) belongs to
    # the framed sentences, unless the ticket tells of something done.
    echo = not _DONE.found(index)
    kept = [
        words.text
        for words, dropped in zip(sentences, framed, strict=True)
        if not dropped and not (echo and len(words.words) <= _ECHO_WORDS and _THREAT.found(words))
    ]
    return TextIndex("\n".join(kept))
