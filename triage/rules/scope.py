"""How many people a failure stops: an outage of many ("nobody in the office can reach X",
"the whole team lost VPN", a monitoring alert that a host is DOWN) is high risk; one device
nobody can use ("the printer on the 3rd floor is offline") is not an outage of many."""

from __future__ import annotations

import re

from triage.rules.concepts import concept
from triage.rules.text import Terms, TextIndex

_W = r"(?:[\w'’:.,-]+\s+)"  # one word and the space after it
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
# "a shared resource fails, anyone else?" reads as the first sign of an outage in a short
# report; in a long text those words are too far apart to belong together.
_SHORT_WORDS = 200
# A "sentence" longer than this is text without punctuation: too loose for co-occurrence.
_SENTENCE_WORDS = 60

# "nobody ... can reach", "kann ... niemand ... anmelden": no one of a group gets to a service.
_NOBODY = (
    r"(?:nobody|no\s+one|no-one|none\s+of\s+(?:us|them|my|our|the)\b[\w\s]{0,20}?"
    r"|niemand|keiner|personne|nadie|ninguno|ninguna)"
)
_ACCESS = (
    r"(?:log\w*|sign\w*|connect\w*|access\w*|reach\w*|print\w*|work\w*|open\w*|sav\w*"
    r"|receiv\w*|send\w*|use|get\s+(?:in|into|on|to)|load\w*|quote|internet|network|vpn|wi-?fi"
    r"|e-?mails?|anmeld\w*|einlogg\w*|druck\w*|arbeit\w*|zugreif\w*|zugriff\w*|erreich\w*"
    r"|verbind\w*|öffn\w*|speicher\w*|rein|mehr\s+auf|ins|accéder|accède\w*|acced\w*"
    r"|imprim\w*|travaill\w*|ouvrir|recevoir|entrar|conect\w*|conexi[oó]n|trabaj\w*|abrir"
    r"|recib\w*|red)"
)
_NOBODY_RE = re.compile(rf"\b{_NOBODY}\b", re.IGNORECASE)
_NOBODY_GETS_IN = re.compile(
    rf"\b{_NOBODY}\b\s+{_W}{{0,10}}?{_ACCESS}\b"
    rf"|\b(?:kann|können|konnte|kommt|kommen|hat|peut|puede|pueden|tiene)\s+{_W}{{0,6}}?"
    rf"{_NOBODY}\b\s+{_W}{{0,5}}?{_ACCESS}\b",
    re.IGNORECASE,
)
# "the whole sales team", "all 40 of us", "ca. 60 Leute", "une quarantaine de personnes"
_MANY = re.compile(
    r"\b(?:whole|entire|complete|ganze[nrs]?|gesamte[nrs]?|komplette[nrs]?|toute?s?|toda|todo)"
    r"\s+(?:[\w'’-]+\s+){0,2}?(?:team|office|floor|department|dept|site|building|company"
    r"|branch|warehouse|plant|location|staff|organi[sz]ation|sales|finance|abteilung|büro"
    r"|etage|standort|firma|werk|logistik|buchhaltung|équipe|bureau|étage|agence|site"
    r"|entreprise|oficina|planta|empresa|equipo|departamento|edificio|sede)\b"
    r"|(?<!hello\s)(?<!hi\s)(?<!hey\s)(?<!dear\s)"  # "Hello everyone," greets, counts nobody
    r"\b(?:everyone|everybody|all\s+of\s+us|all\s+(?:the\s+)?(?:users|staff|employees"
    r"|colleagues)|tout\s+le\s+monde|todo\s+el\s+mundo|todos\s+(?:los\s+usuarios|nosotros)"
    r"|alle\s+(?:mitarbeiter|kollegen|benutzer|kolleginnen))\b"
    r"|\b(?:[5-9]|\d{2,4})\w*\s+(?:of\s+us|people|users|colleagues|staff|employees|personnes"
    r"|personas|leute|personen|mitarbeiter\w*|kollegen|usuarios|utilisateurs|empleados)\b"
    r"|\b(?:dizaine|quinzaine|vingtaine|trentaine|quarantaine|cinquantaine|dozens?)\s+"
    r"(?:de\s+|of\s+)?(?:personnes|people|collègues|users)\b",
    re.IGNORECASE,
)
_FAILURE = concept(
    "a failure",
    [
        "down", "outage", "offline", "not working", "doesn't work", "stopped working",
        "can't", "cannot", "cant", "unable", "no access", "not reachable", "unreachable",
        "lost", "no connection", "not receiving", "no vpn", "no internet", "no network",
        "no email", "fails", "failing", "failed", "ausgefallen", "ausfall", "geht nicht",
        "funktioniert nicht", "nicht erreichbar", "keine verbindung", "kein zugriff",
        "störung", "panne", "hors service", "ne fonctionne", "impossible", "n'arrive",
        "coupé", "caído", "caída", "no funciona", "sin conexión", "sin acceso", "sin internet",
        "no podemos", "no pueden", "not found", "nicht gefunden", "introuvable",
        "no se encuentra", "not available", "nicht verfügbar", "indisponible",
        "no disponible", "red x", "gone", "weg", "disappeared", "verschwunden", "disparu",
        "desaparecido", "issue", "issues", "problem", "problems", "error", "errors",
        "affected", "affects", "impacted", "betroffen", "fehler", "problème", "problèmes",
        "concerne", "afectados", "afecta", "problema", "problemas",
    ],
)  # fmt: skip
# One device, not a service: "THIS printer", "the projector in room 2".
_ONE_DEVICE = re.compile(
    r"\b(?:this|that|the|one|a|my|our|dieser|diesen|der|den|ce|cette|la|le|el|este|esta)\s+"
    r"(?:[\w.-]+\s+){0,2}?(?:printer|drucker|imprimante|impresora|projector|beamer|projecteur"
    r"|proyector|scanner|copier|kopierer|screen|tv|monitor|device|gerät|mfp|plotter)\b"
    r"(?!\s+(?:app|application|software|server|queue|portal|system))",
    re.IGNORECASE,
)
_SERVICE = concept(
    "a shared service",
    [
        "server", "servers", "queue", "print server", "all printers", "all the printers",
        "every printer", "printers", "alle drucker", "druckserver", "toutes les imprimantes",
        "todas las impresoras", "serveur", "servidor",
    ],
)  # fmt: skip
# A shared resource failing and others affected too: the first signs of an outage.
_SHARED = concept(
    "a shared resource",
    [
        "file server", "fileserver", "server", "share", "network drive", "network path",
        "network location", "laufwerk", "laufwerke", "netzlaufwerk", "serveur",
        "lecteur réseau", "unidad de red", "servidor",
    ],
    r"\b[A-Z]:\s*(?:drive|laufwerk)|\b(?:laufwerk|drive)\s+[A-Z]:",
)  # fmt: skip
_OTHERS_TOO = concept(
    "others affected too",
    [
        "anyone else", "anybody else", "others too", "colleagues too", "same problem",
        "same issue", "same thing", "same error", "also affected",
        "kollegen auch", "auch betroffen", "andere auch", "bei allen", "mes collègues aussi",
        "d'autres collègues", "mis compañeros también", "a todos",
    ],
)  # fmt: skip


# A shared service declared down ("the VPN is down", "der Server ist ausgefallen"): down for
# everyone who uses it, unless it is the writer's own ("my internet is down at home"). Found
# from each "down" word backwards, so long texts cost one scan for a few literal words.
_DOWN_WORD = re.compile(
    r"\b(?:down|offline|out|ausgefallen|tot|en\s+panne|hors\s+service|tombée?|ca[ií]d[oa])\b",
    re.IGNORECASE,
)
_SERVICES = (
    r"(?:internet|network|netzwerk|réseau|red|vpn|e-?mail|mail\s*server|mailserver|exchange"
    r"|messagerie|correo|sharepoint|erp|sap|crm|intranet|website|web\s+site|server|serveur"
    r"|servidor|file\s*server|wi-?fi|phones|phone\s+system|telephony|telefonanlage|teams"
    r"|citrix|portal)"
)
_SERVER_SIDE = (
    r"(?:mail\s*server|mailserver|exchange|sharepoint|erp|sap|crm|intranet|website|web\s+site"
    r"|server|serveur|servidor|file\s*server|phone\s+system|telephony|telefonanlage)"
)
_SERVICE_BEFORE = re.compile(
    rf"\b(?P<owner>my\s++|mein\w*+\s++|mon\s++|ma\s++|mi\s++)?(?:home\s++)?{_SERVICES}\s++"
    r"(?:is|are|seems\s+to\s+be|went|has\s+gone|ist|est|está|esta|se\s+ha)\s++"
    r"(?:completely\s+|totally\s+|all\s+|komplett\s+|total\s+|complètement\s+"
    r"|seit\s+\S+\s+)?$"
    r"|\bhost\s++[\w.-]++\s++(?:is|went|ist)\s++$"
    # or a subject-style line that starts with a server-side service: "Server ausgefallen",
    # "SharePoint down". Not "VPN down" or "Internet down": that is how one person writes
    # that their own connection fails.
    rf"|\n[^\S\n]*+(?:the\s++|der\s++|das\s++|le\s++|la\s++|el\s++)?{_SERVER_SIDE}\s++$",
    re.IGNORECASE,
)
_SERVICE_AFTER = re.compile(rf"^\s+(?:el|la|le|der|die|das|the)\s+{_SERVICES}\b", re.IGNORECASE)


def _service_down(text: str) -> bool:
    for match in _DOWN_WORD.finditer(text):
        start = match.start() - 60
        window = text[max(0, start) : match.start()]
        before = _SERVICE_BEFORE.search(window if start > 0 else "\n" + window)
        if before is not None and not before.group("owner"):
            return True
        if _SERVICE_AFTER.match(text[match.end() : match.end() + 40]):
            return True  # "se ha caído el servidor"
    return False


def outage(index: TextIndex) -> str | None:
    """Why the ticket is an outage of many people, or None."""
    reason = _outage_reason(index)
    if reason is None:
        return None
    if _ONE_DEVICE.search(index.text) and not _SERVICE.found(index):
        return None  # one device, however many people it stops
    return reason


def _outage_reason(index: TextIndex) -> str | None:
    # Each pattern runs only when a word it needs is there: most tickets skip them all.
    text = index.text
    if _GATE_NOBODY.any(index) and (
        _NOBODY_GETS_IN.search(text)
        or any(_FAILURE.found(TextIndex(part)) for part in _sentences_with(_NOBODY_RE, text))
    ):
        return "outage affecting many users: nobody in a group can work or connect"
    if _GATE_MANY.any(index) and any(
        _FAILURE.found(words)
        for words in map(TextIndex, _sentences_with(_MANY, text))
        if len(words.words) <= _SENTENCE_WORDS
    ):
        return "outage affecting many users: a whole group is affected"
    if _GATE_DOWN.any(index) and _service_down(text):
        return "outage affecting many users: a shared service is down"
    if (
        len(index.words) <= _SHORT_WORDS
        and _OTHERS_TOO.found(index)
        and _SHARED.found(index)
        and _FAILURE.found(index)
    ):
        return "outage affecting many users: a shared resource fails for others too"
    return None


_GATE_NOBODY = Terms(
    ["nobody", "no one", "none", "niemand", "keiner", "personne", "nadie", "ninguno", "ninguna"]
)
_GATE_MANY = Terms(
    [
        "whole", "entire", "complete", "ganze*", "gesamte*", "komplette*", "tout", "toute",
        "toutes", "tous", "toda", "todo", "todos", "everyone", "everybody", "of us",
        "people", "users", "colleagues", "staff", "employees", "personnes", "personas", "leute",
        "personen", "mitarbeiter*", "kollegen", "usuarios", "utilisateurs", "empleados",
        "dozen", "dozens", "dizaine", "quinzaine", "vingtaine", "trentaine", "quarantaine",
        "cinquantaine",
    ]
)  # fmt: skip
_GATE_DOWN = Terms(
    ["down", "offline", "out", "ausgefallen", "tot", "panne", "service", "tombé", "tombée",
     "caído", "caída", "caido", "caida"]
)  # fmt: skip


def _sentences_with(pattern: re.Pattern[str], text: str) -> list[str]:
    """The sentences (or lines) of the text in which the pattern occurs."""
    if not pattern.search(text):
        return []
    return [part for part in _SENTENCE.split(text) if pattern.search(part)]


# --- monitoring alerts (Nagios, Icinga, Zabbix, PRTG, Alertmanager, Grafana) ------------------

_ALERT_FIELD = re.compile(
    r"^[^\S\n]*+(?:Notification\s+Type|Host(?:name)?|Service|State|Status|Sensor|Device"
    r"|Trigger(?:\s+status)?|Severity|Problem|Event|Alert(?:name)?|Info|Address|Last\s+value"
    r"|Current\s+state|Check|Problem\s+name)\s*+:",
    re.IGNORECASE | re.MULTILINE,
)
_ALERT_SUBJECT = re.compile(
    r"^\s*(?:\*\*\s*)?(?:PROBLEM|CRITICAL|ALERT|FIRING|ALARM)\s*(?:[:\]-]|Service|Host)"
    r"|^\s*\[(?:PRTG|FIRING[:\d]*|Alerting|ALERT|CRITICAL|Zabbix|Nagios|Icinga|Checkmk)\]"
    r"|^\s*Problem(?:\s+started)?\s*:"
    r"|\bis\s+(?:DOWN|UNREACHABLE|CRITICAL)\b"
)
_BAD_STATE = re.compile(
    r"\b(?:down|critical|unreachable|problem|failed|failure|disaster|firing)\b"
    r"|Severity\s*:\s*(?:high|disaster|critical)",
    re.IGNORECASE,
)
_RECOVERED = re.compile(r"\b(?:RECOVERY|RESOLVED|Resolved|OK|UP|Up)\b\s*(?:[:\]*-]|$)")


def monitoring_alert(subject: str, body: str) -> str | None:
    """Why this mail is a monitoring system's alert that something is down, or None."""
    fields = _ALERT_FIELD.findall(body[:4000])
    if len(fields) < 2 and not _ALERT_SUBJECT.search(subject):
        return None
    if _RECOVERED.search(subject) and not _BAD_STATE.search(subject):
        return None
    states = "\n".join(line for line in body[:4000].splitlines() if _ALERT_FIELD.match(line))
    if not (_BAD_STATE.search(subject) or _BAD_STATE.search(states)):
        return None
    return "monitoring alert: a host or service is down"


def is_alert_shaped(subject: str, body: str) -> bool:
    """A monitoring system's notification (down or recovered): a ticket, not an auto-reply."""
    return bool(_ALERT_SUBJECT.search(subject)) or len(_ALERT_FIELD.findall(body[:4000])) >= 3
