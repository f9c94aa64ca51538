"""Business impact told in business words: the work of a group, a site or a business process
stops ("the processing of orders is no longer possible", "the plant cannot scan orders",
"this will affect hundreds of sales employees", "no emergency notification system right
now"), and someone else's confidential mailbox or files visible to a user.

Each class is a co-occurrence within one sentence, in EN/DE/FR/ES: a business thing and its
stop, not either alone ("our order of new laptops" stops nothing). Pure functions.
"""

from __future__ import annotations

import re

from triage.rules.text import Terms, TextIndex

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_SENTENCE_CHARS = 400  # longer "sentences" are text without punctuation: too loose

# A business process, a site's work, a safety system.
_PROCESS = re.compile(
    r"\b(?:orders|order\s+(?:processing|entry|intake|booking|system)|production|manufacturing|plant|factory|assembly\s+line"
    r"|shipping|shipments|dispatch|deliveries|warehouse|picking|sales|invoicing|payroll"
    r"|point\s+of\s+sale|checkouts|loading\s+dock"
    r"|aufträge|aufträgen|auftragsbearbeitung|bestellungen|produktion|fertigung|werk|fabrik"
    r"|versand|wareneingang|warenausgang|lieferungen|lager|kommissionierung|vertrieb"
    r"|fakturierung|kassen"
    r"|commandes|production|usine|fabrication|expéditions|livraisons|entrepôt|ventes"
    r"|facturation|caisses|pedidos|producción|fábrica|envíos|entregas|almacén|ventas"
    r"|facturación|nóminas)\b",
    re.IGNORECASE,
)
_SAFETY = re.compile(
    r"\b(?:emergency\s+(?:notification|alert(?:ing)?|call(?:ing)?|system|phones?|line)"
    r"|fire\s+alarms?|alarm\s+system|safety\s+system|evacuation|notruf\w*|alarmierung\w*"
    r"|brandmelde\w*|alarmanlage|sicherheitssystem|système\s+d'alerte|alarme\s+incendie"
    r"|système\s+de\s+sécurité|sistema\s+de\s+(?:emergencia|alerta|alarma|seguridad)"
    r"|alarma\s+(?:de\s+)?incendios?)\b",
    re.IGNORECASE,
)
# The stop of a process, not of one person: "I can't" and "impossible de me connecter" are
# left out below (_ONE_PERSON).
_STOPS = re.compile(
    r"\b(?:stopped|stops|halted|standstill|stand\s+still|stands\s+still|no\s+longer\s+possible"
    r"|not\s+possible|impossible|cannot|can\s*not|can't|unable|blocked|down|offline"
    r"|not\s+working|no\s+longer\s+work\w*|nothing\s+(?:works|moves)|not\s+able"
    r"|nicht\s+mehr\s+möglich|nicht\s+möglich|unmöglich|stillstand|steht\s+still|stehen\s+still"
    r"|stehen(?=\s*[!.]|\s*$)|ste(?:ht|hen)\s+(?:\w+\s+){1,4}?still|blockiert|geht\s+nichts|können\s+nicht|kann\s+nicht"
    r"|à\s+l'arrêt|arrêtée?s?|bloquée?s?|plus\s+possible|ne\s+peu(?:t|vent)\s+(?:plus|pas)"
    r"|no\s+es\s+posible|ya\s+no\s+es\s+posible|parad[oa]s?|paralizad[oa]s?|detenid[oa]s?"
    r"|bloquead[oa]s?|no\s+pued(?:e|en)|no\s+podemos)\b",
    re.IGNORECASE,
)
_ONE_PERSON = re.compile(
    r"\b(?:i|i'm|ich|je|j'|yo|me|mich|mir|my|mein\w*|mon|ma|mes|mi)\b\W+(?:\w+\W+){0,2}?$",
    re.IGNORECASE,
)
_ONE_PERSON_AFTER = re.compile(r"(?<!\s)\s++(?:de\s++m[e']|d'me\b|to\s++me\b)", re.IGNORECASE)
_AFFECTS = re.compile(
    r"\b(?:affect\w*|impact\w*|betrifft|betreffen|betroffen|touch\w*|concern\w*|afecta\w*"
    r"|impacta\w*|(?:cannot|can't|unable\s+to|not\s+able\s+to)\s+work|stopped|without"
    r"|ohne|sans|sin)\b",
    re.IGNORECASE,
)
_WITHOUT = re.compile(
    r"\b(?:no|without|kein\w*|ohne|sans|pas\s+de|aucun\w*|sin|ningún|ninguna)\b", re.IGNORECASE
)
_PEOPLE = (
    r"(?:users|employees|people|staff|colleagues|workers|agents|mitarbeiter\w*|benutzer\w*"
    r"|kolleg\w*|personen|leute|personnes|utilisateurs|employés|collègues|usuarios|empleados"
    r"|personas|trabajadores|compañeros)"
)
_MANY_PEOPLE = re.compile(
    r"\b(?:hundreds|thousands|hunderte[n]?|tausende[n]?|centaines|milliers|cientos|miles)\s+"
    rf"(?:of\s+|von\s+|de\s+|d')?(?:[\w-]+\s+){{0,2}}?{_PEOPLE}\b"
    rf"|\b\d{{2,5}}\s*'?s\s+of\s+(?:[\w-]+\s+){{0,2}}?{_PEOPLE}\b"
    rf"|\b\d{{3,5}}\+?\s+(?:[\w-]+\s+)?{_PEOPLE}\b",
    re.IGNORECASE,
)
_FOR_HOURS = re.compile(
    r"\b(?:for|since)\s+(?:several\s+|many\s+|\d+\s+)?hours\b|\ball\s+(?:day|morning)\b"
    r"|\bseit\s+(?:mehreren\s+|vielen\s+|\d+\s+)?stunden\b|\bden\s+ganzen\s+(?:tag|vormittag)\b"
    r"|\bdepuis\s+(?:des|plusieurs|\d+)\s+heures\b|\btoute\s+la\s+(?:journée|matinée)\b"
    r"|\b(?:desde\s+hace|durante)\s+(?:varias\s+|\d+\s+)?horas\b|\btodo\s+el\s+día\b",
    re.IGNORECASE,
)
_FAILING = re.compile(
    r"\b(?:slow|down|failing|fails|failed|not\s+working|unavailable|hangs?|timeouts?|errors?"
    r"|langsam|ausgefallen|fehler|hängt|lent[es]?|en\s+panne|erreurs?|lent[oa]s?|caíd[oa]"
    r"|errores|no\s+funciona)\b",
    re.IGNORECASE,
)
_WHOLE = re.compile(
    r"\b(?:all|every|whole|entire|alle|gesamte?n?|ganze[nr]?|tou(?:te)?s|toute|todos|todas"
    r"|toda)\b",
    re.IGNORECASE,
)

# Someone else's mailbox or files, visible to the writer.
_OTHERS = re.compile(
    r"\b(?:another|other|someone\s+else'?s?|somebody\s+else'?s?|a\s+colleague'?s|other\s+people'?s"
    r"|(?:an)?other\s+user'?s?|not\s+mine|einer?\s+(?:anderen|kolleg\w*)|fremde[ns]?"
    r"|anderer|nicht\s+meine?|d'un(?:e)?\s+autre|d'autres|pas\s+(?:la|le|les)\s+miens?"
    r"|de\s+otr[oa]s?|otr[oa]\s+(?:usuari[oa]|persona|compañer[oa])|no\s+(?:es|son)\s+mí[oa]s?"
    r"|hr|human\s+resources|personal(?:abteilung)?|rrhh|rh|payroll|confidential|vertraulich\w*"
    r"|confidentiel\w*|confidencial\w*)\b",
    re.IGNORECASE,
)
_THEIR_DATA = re.compile(
    r"\b(?:mailbox(?:es)?|inbox|e-?mails|mails|files|folders?|documents|salar(?:y|ies)"
    r"|calendar|postfach|postfächer|dateien|ordner|gehälter|boîtes?\s+(?:mail|aux\s+lettres)"
    r"|courriels|fichiers|dossiers?|salaires|buzón|buzones|correos|archivos|carpetas?|nóminas)\b",
    re.IGNORECASE,
)
_VISIBLE = re.compile(
    r"\b(?:i\s+can\s+(?:see|open|read)|can\s+see|i\s+see|shows?\s+up|showing\s+up|showed\s+up"
    r"|appears?|appeared|visible|popped\s+up|sichtbar|sehe|sehen\s+kann|angezeigt|aufgetaucht"
    r"|taucht\s+auf|je\s+vois|apparaît|apparaissent|visibles?|veo|aparece[n]?|puedo\s+ver)\b",
    re.IGNORECASE,
)
# Cheap word look-ups first: the regular expressions run only on texts that have these.
_BUSINESS_WORDS = Terms(
    [
        "orders", "order", "production", "manufacturing", "plant", "factory", "assembly",
        "shipping", "shipments", "dispatch", "deliveries", "warehouse", "picking", "sales",
        "invoicing", "payroll", "point of sale", "checkouts", "loading", "aufträge", "aufträgen",
        "auftragsbearbeitung", "bestellungen", "produktion", "fertigung", "werk", "fabrik",
        "versand", "wareneingang", "warenausgang", "lieferungen", "lager", "kommissionierung",
        "vertrieb", "fakturierung", "kassen", "commandes", "usine", "fabrication", "expéditions",
        "livraisons", "entrepôt", "ventes", "facturation", "caisses", "pedidos", "producción",
        "fábrica", "envíos", "entregas", "almacén", "ventas", "facturación", "nóminas",
        "emergency", "fire", "alarm", "safety", "evacuation", "notruf*", "alarmierung*",
        "brandmelde*", "alarmanlage", "sicherheitssystem", "alerte", "alarme", "sécurité",
        "emergencia", "alerta", "alarma", "seguridad", "hundreds", "thousands", "hunderte*",
        "tausende*", "centaines", "milliers", "cientos", "miles", "users", "employees", "staff",
        "people", "colleagues", "mitarbeiter*", "benutzer", "personnes", "utilisateurs",
        "employés", "usuarios", "empleados", "personas", "hours", "stunden", "heures", "horas",
    ]
)  # fmt: skip
_SEEN_WORDS = Terms(
    [
        "see", "visible", "appears", "appear", "appeared", "shows", "showing", "showed",
        "popped", "sichtbar", "sehe", "sehen", "angezeigt", "aufgetaucht", "taucht", "vois",
        "apparaît", "apparaissent", "visibles", "veo", "aparece", "aparecen", "ver",
    ]
)  # fmt: skip


def business_impact(index: TextIndex) -> str | None:
    """Why the ticket says a group's, a site's or a business process's work stops, or None."""
    if not _BUSINESS_WORDS.any(index):
        return None
    text = index.text
    for sentence in _sentences(text):
        if _SAFETY.search(sentence) and (_STOPS.search(sentence) or _WITHOUT.search(sentence)):
            return "business impact: an emergency or safety system is out"
        if _MANY_PEOPLE.search(sentence) and _AFFECTS.search(sentence):
            return "business impact: hundreds of people affected"
        if _PROCESS.search(sentence) and _process_stops(sentence):
            return "business impact: a business process stops"
        if _FOR_HOURS.search(sentence) and _FAILING.search(sentence) and _WHOLE.search(sentence):
            return "business impact: a whole system failing for hours"
    return None


def _process_stops(sentence: str) -> bool:
    """A stop in the sentence that is not one person's ("I can't log in")."""
    return any(
        not _ONE_PERSON.search(sentence[max(0, stop.start() - 40) : stop.start()])
        and not _ONE_PERSON_AFTER.match(sentence[stop.end() : stop.end() + 12])
        for stop in _STOPS.finditer(sentence)
    )


def exposed_data(index: TextIndex) -> str | None:
    """Someone else's (or confidential) mailbox or files visible to the writer."""
    if not _SEEN_WORDS.any(index):
        return None
    text = index.text
    for sentence in _sentences(text):
        if _OTHERS.search(sentence) and _THEIR_DATA.search(sentence) and _VISIBLE.search(sentence):
            return "security incident: someone else's mailbox or files visible to a user"
    return None


def _sentences(text: str) -> list[str]:
    return [part[:_SENTENCE_CHARS] for part in _SENTENCE.split(text[:20_000]) if part.strip()]
