"""A small helpdesk history for the learned tier's tests, generated: four teams (names with
spaces and an ampersand), each with its own words in English, German and French, typos, some
empty descriptions, and a rare team of three tickets."""

from __future__ import annotations

import csv
import random
from pathlib import Path

TEAMS: dict[str, tuple[list[str], list[str]]] = {
    "Network Team": (
        ["wifi drops", "switch port dead", "vlan missing", "dns not resolving", "wlan langsam"],
        [
            "the access point on floor 3 keeps dropping",
            "latency to the datacenter is high",
            "réseau instable depuis ce matin",
            "das netzwerkkabel am switch blinkt nicht",
            "packet loss on the uplink",
            "cannot reach the gateway from the lab",
        ],
    ),
    "Identity & Access": (
        ["password reset", "account locked", "mfa token lost", "kennwort abgelaufen"],
        [
            "I forgot my password after the holidays",
            "my account got locked after three tries",
            "mot de passe expiré, impossible de me connecter",
            "authenticator app on a new phone",
            "please unlock user jdoe",
            "das konto ist gesperrt",
        ],
    ),
    "Facilities Desk": (
        ["badge not working", "desk booking", "heating broken", "chair broken", "raum buchen"],
        [
            "my badge does not open the door to building B",
            "the radiator in room 204 is cold",
            "please book the big meeting room for friday",
            "la climatisation ne marche pas",
            "need a new office chair with armrests",
            "die heizung im büro ist kalt",
        ],
    ),
    "SAP Support": (
        ["sap invoice posting", "purchase order blocked", "material master", "sap transport"],
        [
            "the invoice cannot be posted in FI, error F5 808",
            "purchase order 4500012 stuck",
            "commande d'achat bloquée dans sap",
            "need a transport to production for ZMM report",
            "material master record missing plant 1000",
            "buchung der rechnung schlägt fehl",
        ],
    ),
}
RARE = ("Printer Fleet", ["printer toner empty", "printer paper jam", "printer offline"])


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 6 or rng.random() > 0.3:
        return text
    at = rng.randrange(1, len(text) - 2)
    return text[:at] + text[at + 1] + text[at] + text[at + 2 :]


def history_rows(per_team: int = 40, seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for team, (subjects, bodies) in TEAMS.items():
        for _ in range(per_team):
            body = "" if rng.random() < 0.1 else " ".join(rng.sample(bodies, 2))
            rows.append(
                {
                    "Short description": _typo(rng.choice(subjects), rng),
                    "Description": _typo(body, rng),
                    "Assignment group": team,
                }
            )
    team, subjects = RARE
    rows += [
        {"Short description": s, "Description": "", "Assignment group": team} for s in subjects
    ]
    rng.shuffle(rows)
    return rows


def write_history(path: Path, per_team: int = 40, seed: int = 7) -> Path:
    rows = history_rows(per_team, seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
