"""Storms: the same incident reported by several people, in their own words, within a window.

Pure functions: `signature` reduces a ticket to what identifies its incident (the resource,
the service, the host, the drive letter, the sender of a forwarded lure, and whether it reports
a failure or a security incident), in canonical words whatever the language; `storm_of` finds,
among recent tickets (from the store), the first report of the same incident.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from triage.rules import RulesVerdict
from triage.rules.text import Terms, TextIndex
from triage.ticket import Category, Risk, Ticket

FAILURE = "problem:failure"
INCIDENT = "problem:security"
WINDOW = timedelta(minutes=60)
MIN_SHARED = 2  # signature elements two reports must share, besides the kind of problem
# Elements that name one failing thing: a host, a drive letter, a forwarded lure's sender, an
# error code or message. Two reports join only when they share one of these; words every
# helpdesk hears all day ("access", "VPN", "the share", "mail") never join reports alone.
SPECIFIC = ("host:", "drive:", "lure:", "error:", "network-path")

# canonical element -> the words (EN, DE, FR, ES) that name it
_ELEMENTS: dict[str, tuple[str, ...]] = {
    "share": (
        "share", "shares", "drive", "drives", "network drive", "file server", "fileserver",
        "laufwerk", "laufwerke", "netzlaufwerk*", "freigabe", "dateiserver", "lecteur",
        "lecteurs", "partage", "serveur de fichiers", "unidad", "unidades", "servidor de archivos",
        "carpeta compartida",
    ),
    "network-path": (
        "network path", "network location", "netzwerkpfad", "pfad nicht gefunden",
        "chemin réseau", "ruta de red",
    ),
    "vpn": ("vpn", "globalprotect", "anyconnect", "forticlient", "wireguard", "openvpn"),
    "sharepoint": ("sharepoint", "onedrive"),
    "mail": ("email", "e-mail", "emails", "mail", "mails", "outlook", "exchange", "courriel",
             "correo", "postfach"),
    "teams": ("teams", "zoom", "webex"),
    "erp": ("sap", "erp", "tms", "wms", "salesforce", "crm"),
    "network": ("network", "internet", "wifi", "wi-fi", "wlan", "lan", "netzwerk", "réseau",
                "red", "conexión", "connexion", "uplink", "switch"),
    "print": ("printer", "printers", "print server", "drucker*", "imprimante*", "impresora*"),
    "phone": ("telephone", "phones", "telefon*", "téléphone*", "teléfono*", "telefonanlage"),
    "citrix": ("citrix", "remote desktop", "rdp", "terminal server"),
}  # fmt: skip
_FAILURE = Terms(
    [
        "down", "outage", "offline", "not working", "stopped working", "can't", "cannot",
        "unable", "no access", "not reachable", "unreachable", "not available", "not found",
        "gone", "lost", "ausgefallen", "ausfall", "nicht erreichbar", "geht nicht",
        "funktioniert nicht", "weg", "keine verbindung", "kein zugriff", "nicht zugegriffen",
        "störung", "panne", "hors service", "ne fonctionne", "impossible", "inaccessible",
        "caído", "caída", "no funciona", "sin conexión", "sin acceso",
    ]
)  # fmt: skip
_TERMS = {name: Terms(words) for name, words in _ELEMENTS.items()}
# A drive letter as people write it: "S:", "drive S", "Netzlaufwerk S", "S-Laufwerk",
# "S drive", "S und P" (the word for drive in any case, also inside a compound).
_DRIVE = r"(?i:drive|\w{0,30}laufwerk|lecteur|unidad)"
_DRIVE_LETTER = re.compile(
    rf"\b([A-Z]):(?![0-9])|{_DRIVE}\s+([A-Z])\b|\b([A-Z])[-\s]{_DRIVE}"
    r"|\b([A-Z])\s+(?:und|and|et|y)\s+([A-Z])\b"
)
# Error codes as systems print them: 0x80070035, error 809, AADSTS50076, ORA-12541.
_ERROR_CODE = re.compile(
    r"\b(0x[0-9a-f]{6,8})\b|\berror(?:\s+code)?[\s:#]+(\d{3,5})\b|\b((?:AADSTS|ORA-|SQL)\d{3,6})\b",
    re.IGNORECASE,
)
_SENDER_DOMAIN = re.compile(r"^[^\S\n]*+\*?(?:From|Von|De|Da)\s?:[^\n@]*+@([\w.-]+)", re.I | re.M)


@dataclass(frozen=True)
class Recent:
    """A recent ticket as the store gives it back."""

    id: str
    received_at: datetime
    category: Category
    risk: Risk
    signature: frozenset[str]
    storm_of: str | None = None  # the first report, when this ticket is itself in a storm


@dataclass(frozen=True)
class Storm:
    first_id: str  # the first report of the incident: the new ticket's `storm_of`
    reports: int  # reports of it in the window, the new ticket included
    reason: str


def signature(
    text: str,
    hosts: Iterable[str] = (),
    forwarded: str = "",
    incident: bool = False,
    sender: str | None = None,
) -> frozenset[str]:
    """What identifies the incident a ticket reports. `text` is the subject and the requester's
    words, `hosts` the host names the rules extracted, `forwarded` a forwarded mail,
    `incident` whether the rules found a security incident, `sender` the sender's address:
    hosts in its domain (a web form's own portal in its footer) say nothing of the incident."""
    index = TextIndex(text)
    elements = {name for name, terms in _TERMS.items() if terms.any(index)}
    domain = sender.rpartition("@")[2].lower() if sender else ""
    elements.update(
        f"host:{host.lower()}"
        for host in hosts
        if not domain or not (host.lower() == domain or host.lower().endswith("." + domain))
    )
    if "share" in elements:
        for match in _DRIVE_LETTER.finditer(text):
            elements.update(f"drive:{letter.lower()}" for letter in match.groups() if letter)
    for match in _ERROR_CODE.finditer(text[:20_000]):
        code = next(group for group in match.groups() if group)
        elements.add(f"error:{code.lower()}")
    lure = _SENDER_DOMAIN.search(forwarded)
    if lure:
        elements.add(f"lure:{lure.group(1).lower()}")
    if incident:
        elements.add(INCIDENT)
    elif _FAILURE.any(index):
        elements.add(FAILURE)
    return frozenset(elements)


def signature_of(ticket: Ticket, verdict: RulesVerdict) -> frozenset[str]:
    """A ticket's signature from what the rules tier already has."""
    return signature(
        f"{ticket.subject}\n{ticket.body}",
        verdict.fields.hosts,
        ticket.forwarded,
        incident=verdict.category == "security" and verdict.risk == "high",
        sender=ticket.sender,
    )


def storm_of(
    received_at: datetime,
    new_signature: frozenset[str],
    recent: Sequence[Recent],
    window: timedelta = WINDOW,
) -> Storm | None:
    """The storm the new ticket belongs to, or None: an earlier ticket within the window
    reports the same kind of problem, names the same failing thing (a SPECIFIC element) and
    shares at least MIN_SHARED elements in all (a forwarded lure's sender is enough alone)."""
    problem = new_signature & {FAILURE, INCIDENT}
    if not problem:
        return None
    same = [
        ticket
        for ticket in recent
        if received_at - window <= ticket.received_at <= received_at
        and problem & ticket.signature
        and _alike(new_signature, ticket.signature)
    ]
    if not same:
        return None
    first = min(same, key=lambda ticket: ticket.received_at)
    first_id = first.storm_of or first.id
    return Storm(
        first_id=first_id,
        reports=len(same) + 1,
        reason=f"same incident as {first_id}, reported {len(same) + 1} times within "
        f"{int(window.total_seconds() // 60)} minutes",
    )


def storm_risk(storm: Storm | None, risk: Risk, min_reports: int = 3) -> Risk:
    """A failure reported by several people is an outage of many: high from `min_reports`."""
    return "high" if storm is not None and storm.reports >= min_reports else risk


def problem_of(new_signature: frozenset[str]) -> frozenset[str]:
    """The kinds of problem a signature reports, when it could be part of a storm at all: a
    problem and enough to recognise the incident by (a lure, or MIN_SHARED other elements);
    empty otherwise, so nothing need be looked up."""
    problem = new_signature & {FAILURE, INCIDENT}
    rest = new_signature - problem
    if not problem or not any(element.startswith(SPECIFIC) for element in rest):
        return frozenset()
    if not (len(rest) >= MIN_SHARED or any(e.startswith("lure:") for e in rest)):
        return frozenset()
    return problem


def _alike(one: frozenset[str], other: frozenset[str]) -> bool:
    """The same failing thing named in both (SPECIFIC), and enough else in common."""
    shared = (one & other) - {FAILURE, INCIDENT}
    if any(element.startswith("lure:") for element in shared):
        return True
    if not any(element.startswith(SPECIFIC) for element in shared):
        return False
    return len(shared) >= MIN_SHARED
