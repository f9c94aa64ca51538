"""Phishing reported by forwarding: the requester forwards a mail (inline or as an attachment)
and asks whether it is genuine, or forwards a lure with next to no words of their own."""

from __future__ import annotations

from triage.rules.concepts import concept
from triage.rules.text import TextIndex

_ASKS_IF_GENUINE = concept(
    "asks whether it is genuine",
    [
        "legit", "legitimate", "genuine", "is this real", "is it real", "is this from us",
        "is this you", "did you send", "you guys sent", "something you sent", "claims to be",
        "claiming to be", "pretends to be", "supposedly", "angeblich", "prétendument", "soi disant",
        "supuestamente", "dice ser", "dodgy", "suspicious", "phish*", "scam", "spam", "fake",
        "strange", "weird", "odd", "is this safe", "is it safe", "safe to open", "safe to click",
        "looks wrong", "don't recognise", "don't recognize", "didn't click", "did not click",
        "haven't clicked", "haven't opened", "not opened", "das echt", "mail echt", "echt ist",
        "seriös", "komisch", "verdächtig*", "merkwürdig", "seltsam", "gefälscht", "betrug",
        "nicht angeklickt", "nichts angeklickt", "ist das normal", "bizarre", "étrange", "suspect",
        "arnaque", "faux", "légitime", "c'est normal", "pas cliqué", "esto es real", "es real",
        "raro", "sospechoso", "extraño", "falso", "estafa", "fiable", "no he pinchado",
        "no he hecho clic", "es normal",
    ],
)  # fmt: skip
_LINK = concept("a link", ["http", "https", "www", "click here", "hier klicken", "cliquez"])
_LURE_PARTS = (
    concept(
        "asks for credentials or details",
        [
            "password", "verify", "validate", "confirm your", "sign in", "log in", "account",
            "bank details", "passwort", "kennwort", "konto", "bestätigen", "identität",
            "mot de passe", "valider", "compte", "identifiants", "contraseña", "cuenta",
            "valide", "verifique", "credenciales",
        ],
    ),
    concept(
        "pressure",
        [
            "24 hours", "48 hours", "within", "expires", "expire", "immediately", "final",
            "last reminder", "suspended", "blocked", "will be closed", "loss of access",
            "action required", "innerhalb", "umgehend", "gesperrt", "sofort", "dernier rappel",
            "sous 48h", "bloqué", "suspendu", "rechazados", "bloqueada", "inmediatamente",
            "24 horas", "48 horas",
        ],
    ),
    concept(
        "money",
        [
            "invoice", "payment", "fee", "outstanding", "overdue", "refund", "payslip",
            "rechnung", "zahlung", "mahnung", "facture", "impayée", "paiement", "factura",
            "pago", "reembolso",
        ],
    ),
)  # fmt: skip
_FEW_WORDS = 20  # the subject and a line: "see attached", "??"


def reported_phishing(own: TextIndex, forwarded: str) -> str | None:
    """Why this ticket reports a phishing mail, or None. `own` is the requester's subject and
    words, `forwarded` the mail they forwarded."""
    if not forwarded.strip():
        return None
    if _ASKS_IF_GENUINE.found(own):
        return "security incident: phishing reported (a forwarded mail the user doubts)"
    lure = TextIndex(forwarded)
    if (
        len(own.words) <= _FEW_WORDS
        and _LINK.found(lure)
        and sum(part.found(lure) for part in _LURE_PARTS) >= 2
    ):
        return "security incident: phishing reported (a forwarded lure)"
    return None
