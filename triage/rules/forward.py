"""Phishing reported by forwarding: the requester forwards a mail (inline or as an attachment)
and asks whether it is genuine, or forwards a lure with a line of their own ("FYI", "??").

What the forwarded mail is, is judged from the mail itself (triage.rules.lure): its sender,
links, attachments and content, not from the user's words; the user's own words say only
whether they doubted it and whether they already clicked or typed a password."""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable

from triage.rules.concepts import concept
from triage.rules.lure import LURE, SPAM, Suspect, domain_of, judge, org_name
from triage.rules.text import TextIndex
from triage.ticket import Ticket

SPAM_REPORTED = "spam reported"  # how the reason of a forwarded plain spam begins

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


_INTERACTED = concept(
    "the user clicked, opened or typed something in",
    [
        "i clicked", "clicked it", "clicked on it", "clicked the link", "clicked on the link",
        "opened the attachment", "opened it", "i entered my", "entered my password",
        "typed my password", "gave my password", "put in my password", "logged in",
        "i replied", "i paid", "geklickt", "angeklickt", "geöffnet", "eingegeben",
        "passwort eingegeben", "j'ai cliqué", "cliqué dessus", "j'ai ouvert", "j'ai saisi",
        "j'ai entré", "hice clic", "he hecho clic", "pinché", "he pinchado", "abrí",
        "introduje", "he introducido",
    ],
)  # fmt: skip
# The user asks IT to act on the forwarded mail: a request, not a report of spam.
_OWN_REQUEST = concept(
    "a request of the user's own",
    [
        "install", "renew", "order", "buy", "purchase", "pay", "set up", "setup", "upgrade",
        "grant", "add me", "sign up", "register", "subscribe me", "book", "approve",
        "installieren", "verlängern", "bestellen", "kaufen", "bezahlen", "einrichten",
        "freischalten", "anmelden", "installer", "renouveler", "commander", "acheter", "payer",
        "configurer", "instalar", "renovar", "pedir", "comprar", "pagar", "configurar",
    ],
)  # fmt: skip
_NEGATED = re.compile(
    r"\b(not|never|didn't|did not|haven't|have not|nicht|nichts|nie|keine?n?|pas|jamais"
    r"|no|nunca)\b\W+(?:\w+\W+){0,3}?"
    r"(click|clicked|opened|entered|typed|geklickt|angeklickt|geöffnet|eingegeben|cliqué"
    r"|ouvert|saisi|hecho|pinchado|abierto|introducido)",
    re.IGNORECASE,
)
_FORWARDED_FROM = re.compile(
    r"^[^\S\n]*+\*?(?:From|Von|De|Da)[^\S\n]?:\*?[^\S\n]*+(.+)$", re.IGNORECASE | re.MULTILINE
)
_MAILTO = re.compile(r"\[mailto:([^\]\s]+)\]", re.IGNORECASE)
_FEW_OWN_WORDS = 60  # a line or two, a greeting and a name: not a request of their own


def forwarded_suspect(ticket: Ticket) -> Suspect | None:
    """The mail the requester forwarded, as a Suspect to judge; None when there is none."""
    if not ticket.forwarded.strip():
        return None
    match = _FORWARDED_FROM.search(ticket.forwarded[:20_000])
    name: str | None = None
    address = ""
    value: str | None = None
    if match:
        value = _MAILTO.sub(r"<\1>", match.group(1).strip())
        name, address = email.utils.parseaddr(value)
        if "@" not in address:  # "Name <x@y>" cut oddly, or only a name: find an address
            found = re.search(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)+", value)
            address = found.group(0) if found else ""
    return Suspect(
        text=ticket.forwarded,
        sender_name=name or None,
        sender=address.lower() or None,
        links=ticket.links,
        attachments=ticket.attachments,
        from_header=value,
    )


def reported_phishing(
    own: TextIndex, ticket: Ticket, own_domains: Iterable[str] = ()
) -> str | None:
    """Why this ticket reports a phishing mail (a reason that starts "security incident"), or
    a plain spam (starts SPAM_REPORTED), or None. `own` is the requester's subject and words,
    `ticket.forwarded` the mail they forwarded, `own_domains` the organisation's domains."""
    suspect = forwarded_suspect(ticket)
    if suspect is None:
        return None
    if _INTERACTED.found(own) and not _NEGATED.search(own.text):
        return "security incident: the user interacted with a forwarded suspicious mail"
    if _ASKS_IF_GENUINE.found(own):
        return "security incident: phishing reported (a forwarded mail the user doubts)"
    ours = {org_name(d) for d in own_domains if d}
    user_domain = domain_of(ticket.sender)
    if user_domain:
        ours.add(org_name(user_domain))
    own_body = TextIndex(ticket.body)
    suspect_domain = domain_of(suspect.sender)
    # A colleague's mail passed on is a request like any other, unless it is a lure itself.
    colleague = suspect_domain is not None and org_name(suspect_domain) in ours
    if len(own.words) > _FEW_OWN_WORDS + len(TextIndex(ticket.subject).words):
        return None
    finding = judge(suspect, frozenset(ours))
    if finding.kind == LURE:
        return f"security incident: phishing reported (a forwarded lure: {finding.describe()})"
    if finding.kind == SPAM and not colleague and not _OWN_REQUEST.found(own_body):
        return f"{SPAM_REPORTED} (a forwarded unsolicited mail: {finding.describe()})"
    lure = TextIndex(ticket.forwarded)
    if (
        len(own.words) <= _FEW_WORDS
        and _LINK.found(lure)
        and sum(part.found(lure) for part in _LURE_PARTS) >= 2
    ):
        return "security incident: phishing reported (a forwarded lure)"
    return None
