"""Security incidents told by their symptoms, without the keyword ("my files have a strange
ending and a note wants money" is ransomware). Each class is a co-occurrence of concepts, each
concept a multilingual word list, so other words for the same symptoms are found too."""

from __future__ import annotations

from triage.rules.concepts import Concept, Cooccurrence, concept
from triage.rules.text import TextIndex

# --- shared concepts ------------------------------------------------------------------------

_FILES = concept(
    "files",
    [
        "file", "files", "datei", "dateien", "fichier", "fichiers", "archivo", "archivos",
        "documents", "dokumente", "folder", "folders", "ordner", "dossier", "dossiers",
        "carpeta", "carpetas", "docx", "xlsx", "pdf", "laufwerk", "drive", "share",
    ],
)  # fmt: skip
_DOUBT = concept(
    "doubt",
    [
        "strange", "weird", "odd", "fake", "dodgy", "suspicious", "looked like", "look like",
        "blank", "nothing happened", "isn't actually", "not actually", "wasn't actually",
        "not from", "wasn't from", "noticed", "genuine", "legit", "legitimate", "scam",
        "komisch", "seltsam", "merkwürdig", "verdächtig", "gefälscht", "nicht echt", "echt",
        "seriös", "bizarre", "étrange", "suspect", "faux", "arnaque", "raro", "extraño",
        "sospechoso", "falso", "estafa", "is this normal", "is that normal", "ist das normal",
        "c'est normal", "est ce normal", "es normal", "something wrong", "do something wrong",
        "done something stupid", "something stupid",
    ],
)  # fmt: skip
_DENIAL = concept(
    "not me",
    [
        "not me", "wasn't me", "was not me", "i was asleep", "definitely wasn't",
        "not logging in", "not trying", "wasn't trying", "not signing in", "didn't request",
        "did not request", "didn't trigger", "did not trigger", "not triggered by me",
        "haven't requested", "nicht ich", "war ich nicht", "nicht angefordert",
        "nicht ausgelöst", "ohne dass ich", "versuche nicht", "pas moi", "ce n'est pas moi",
        "je n'ai rien demandé", "sans que je", "no fui yo", "no soy yo", "no estoy intentando",
        "no he intentado", "no son mías", "no son mias", "no he solicitado", "sin que yo",
        "didn't ask for", "did not ask for", "never asked for", "pas demandé", "no he pedido",
        "no pedí", "nicht beantragt", "obwohl ich mich nicht", "ich melde mich nicht",
        "ohne mich anzumelden", "alors que je ne", "aunque no estoy", "aunque no he",
    ],
)  # fmt: skip

# --- credentials typed into a lure ----------------------------------------------------------

_CREDENTIALS_GIVEN = concept(
    "credentials given",
    [],
    r"\b(?:typed|entered|put|gave|filled|submitted|keyed)\b[^.!?\n]{0,40}?"
    r"\b(?:password|passcode|credentials|login|log-in|details|username|pin)\b"
    r"|\b(?:password|credentials|login)\b[^.!?\n]{0,30}?\b(?:so i|and i|which i)"
    r"\s+(?:entered|typed|did|gave)\b"
    r"|\basked\s+(?:me\s+)?(?:for\s+my|to)\s+(?:\w+\s+){0,2}(?:log|sign|login|password|credentials)"
    r"|\b(?:passwort|kennwort|zugangsdaten|anmeldedaten|login)\b[^.!?\n]{0,50}?"
    r"\b(?:eingegeben|eingetippt|angegeben|eingetragen)"
    r"|\b(?:saisi|entré|tapé|donné|renseigné)\b[^.!?\n]{0,40}?"
    r"\b(?:mot de passe|identifiants?|code)\b"
    r"|\b(?:mot de passe|identifiants)\b[^.!?\n]{0,40}?\b(?:saisi|entré|tapé|donné)\b"
    r"|\b(?:introduje|puse|escribí|metí|di|facilité)\b[^.!?\n]{0,40}?"
    r"\b(?:contraseña|credenciales|usuario|clave)\b",
)
_LURE = concept(
    "a link, page or mail that asked",
    [
        "clicked", "click", "link", "button", "page", "site", "website", "opened", "docusign",
        "document", "geklickt", "angeklickt", "seite", "webseite", "cliqué", "lien", "page",
        "pinché", "enlace", "página", "abrí",
    ],
)  # fmt: skip

# --- ransomware -----------------------------------------------------------------------------

_FILES_ALTERED = concept(
    "files renamed or locked",
    [
        "extension", "extensions", "ending", "endung", "endungen", "dateiendung", "renamed",
        "umbenannt", "renommé", "renommés", "renommée", "renommées", "renombrado",
        "renombrados", "encrypted", "verschlüsselt", "chiffré", "chiffrés", "cifrado",
        "cifrados", "encriptado", "encriptados", "files are locked", "all files are locked",
        "end in", "ends in", "end with", "ends with", "enden auf", "endet auf",
        "se terminent par", "terminan en", "at the end", "am ende", "à la fin", "al final",
        "extensión", "extensiones", "terminación",
    ],
    r"\.(?:docx?|xlsx?|pptx?|pdf|jpe?g|png|txt|csv|zip)\.[a-z0-9]{3,10}\b"
    r"|\.(?:locked|lockd|enc|encrypted|crypted|crypt\w*)\b",
)  # fmt: skip
_DEMAND = concept(
    "a note demanding payment",
    [
        "ransom", "lösegeld", "rançon", "rescate", "bitcoin", "btc", "monero", "tor",
        "onion", "decrypt*", "entschlüssel*", "déchiffr*", "descifr*", "how_to*", "readme*",
        "liesmich*", "lisezmoi*", "recover_*", "restore_*", "recover your files",
        "published", "veröffentlicht", "publiées", "publiés", "publicados", "publicadas",
        "72 hours", "48 hours", "48 stunden", "72 stunden", "48 heures", "72 heures",
        "48 horas", "72 horas", "penetrated",
    ],
)  # fmt: skip

# --- account takeover -----------------------------------------------------------------------

_SIGN_IN = concept(
    "a sign-in",
    [
        "sign in", "signin", "login", "log in", "logon", "logged in", "signed in", "anmeldung",
        "anmeldeversuch", "angemeldet", "connexion", "inicio de sesión", "inicio de sesion",
        "inicios de sesión",
    ],
)  # fmt: skip
_UNUSUAL_PLACE = concept(
    "from an unusual place",
    [
        "unusual", "unfamiliar", "unknown location", "another country", "different country",
        "foreign country", "abroad", "impossible travel", "ungewöhnlich*", "ausland",
        "unbekannten ort", "inhabituel*", "étranger", "inusual", "inusuales", "extranjero",
        "otro país", "otro pais",
    ],
)  # fmt: skip
_MFA = concept(
    "a second-factor prompt",
    [
        "authenticator", "mfa", "2fa", "multi factor", "multifactor", "two factor",
        "push notification*", "approve sign in", "approval request*", "sign in request*",
        "zwei faktor*", "genehmigen", "double authentification", "aprobar", "apruebe",
        "verification code*", "security code*", "login code*", "sms code*", "one time code*",
        "text message with a code", "sicherheitscode*", "code de sécurité",
        "código de seguridad", "bestätigungscode*", "code de vérification",
        "codes de vérification", "código de verificación", "códigos de verificación",
    ],
)  # fmt: skip
_NEVER_SENT = concept(
    "mail I never sent",
    [
        "never sent", "didn't send", "did not send", "not sent by me", "haven't sent",
        "nie geschickt", "nie gesendet", "nie verschickt", "nicht geschickt", "nicht gesendet",
        "nicht verschickt", "jamais envoyé", "pas envoyé", "n'ai pas envoyé", "no he enviado",
        "nunca envié", "no envié", "sending spam", "sent spam", "spam from my",
        "spam von meinem", "spam depuis mon", "spam desde mi",
    ],
)  # fmt: skip
_FROM_ME = concept(
    "in my name",
    [
        "from me", "from my account", "from my address", "from my mailbox", "in my name",
        "sent items", "supposedly", "von mir", "von meinem konto", "in meinem namen",
        "gesendete elemente", "de ma part", "de mon compte", "éléments envoyés", "de mi parte",
        "desde mi cuenta", "en mi nombre", "elementos enviados", "my account", "my contacts",
        "meine kontakte", "mes contacts", "mis contactos",
    ],
)  # fmt: skip
_MAIL_RULE = concept(
    "a mailbox rule",
    [
        "rule", "rules", "regel", "regeln", "posteingangsregel*", "règle", "règles", "regla",
        "reglas", "forwarding", "weiterleitung", "transfert", "reenvío",
    ],
)  # fmt: skip
_NOT_CREATED = concept(
    "that I did not create",
    [
        "didn't create", "did not create", "didn't make", "did not make", "didn't set",
        "did not set", "never created", "never set up", "don't remember creating",
        "not created by me", "nicht erstellt", "nicht angelegt", "nicht eingerichtet",
        "pas créé", "n'ai pas créé", "jamais créé", "no he creado", "no la he creado",
        "no lo he creado", "no creé",
    ],
)  # fmt: skip

# --- someone else at the keyboard ------------------------------------------------------------

_POINTER = concept(
    "the pointer", ["mouse", "cursor", "maus", "mauszeiger", "souris", "curseur", "ratón"]
)
_BY_ITSELF = concept(
    "moving by itself",
    [
        "on its own", "by itself", "of its own", "von selbst", "von alleine", "von allein",
        "tout seul", "toute seule", "por sí solo", "por si solo", "por sí sola", "solo se mueve",
    ],
    r"\bsomeone\s+(?:is\s+|was\s+)?(?:in|controlling|accessing|using)\s+my\s+"
    r"(?:pc|computer|laptop|machine)",
)  # fmt: skip
_REMOTE_TOOL = concept(
    "a remote-control tool",
    [
        "anydesk", "teamviewer", "quick assist", "quickassist", "supremo", "ultraviewer",
        "remote session", "remote control", "remote into", "remote in", "remoted",
        "fernwartung", "fernsteuerung", "prise en main",
        "contrôle à distance", "control remoto", "conectarse", "se conectó",
    ],
)  # fmt: skip
_STRANGER = concept(
    "a stranger who called or was called",
    [
        "called", "rang", "phoned", "stranger", "microsoft support", "tech support",
        "technical support", "angerufen", "fremder", "fremden", "appelé", "inconnu",
        "llamé", "llamó", "llamara", "soporte técnico", "support technique",
        "technischer support", "desconocido", "from microsoft", "said he was", "said she was",
        "claimed to be", "claiming to be", "guy", "a man", "a woman", "ein mann", "eine frau",
        "un homme", "une femme", "un chico", "un hombre", "una mujer",
    ],
)  # fmt: skip
_SCARE = concept(
    "a warning that the PC is infected or blocked",
    [
        "blocked", "infected", "virus", "hacked", "compromised", "security center",
        "defender", "gesperrt", "infiziert", "bloqué", "infecté", "bloqueado", "infectado",
        "problema grave", "serious problem", "ernstes problem", "problème grave",
    ],
)  # fmt: skip
_POPUP = concept(
    "a pop-up",
    [
        "pop up", "popup", "popped up", "pops up", "window", "message box", "warning",
        "warnung", "avertissement", "aviso", "alerta", "fenster", "fenêtre", "ventana",
        "banner", "red screen", "screen",
    ],
)  # fmt: skip
_CALL_NUMBER = concept(
    "to call a number",
    [],
    r"\b(?:call|ring|phone|contact|anrufen|rufen|appel\w*|llam\w*)\b[^.\n]{0,60}?"
    r"(?:\+?\d[\d\s().-]{7,}\d|support|number|nummer|numéro|número|hotline)",
)

# --- malicious files and devices -------------------------------------------------------------

_USB = concept(
    "a USB stick",
    [
        "usb", "stick", "usb stick", "flash drive", "thumb drive", "memory stick", "clé usb",
        "pendrive", "memoria usb", "lápiz usb", "speicherstick",
    ],
)  # fmt: skip
_FOUND = concept(
    "found lying around",
    [
        "found", "gefunden", "trouvé", "trouvée", "encontré", "encontrado", "encontrada",
        "car park", "parking", "parkplatz", "aparcamiento",
    ],
)  # fmt: skip
_PLUGGED = concept(
    "plugged in",
    [
        "plugged", "inserted", "eingesteckt", "angeschlossen", "reingesteckt", "branché",
        "branchée", "inséré", "conecté", "enchufé", "insertado",
    ],
)  # fmt: skip
_RISKY_ATTACHMENT = concept(
    "a risky attachment",
    [
        "zip", "zip datei", "zipped", "macro", "macros", "makro", "makros", "enable content",
        "enable editing", "inhalt aktivieren", "exe", "iso", "js", "vbs", "scr",
    ],
)  # fmt: skip
_ATTACHMENT = concept(
    "an attachment", ["attachment", "anhang", "pièce jointe", "adjunto", "attached file"]
)
_OPENED = concept(
    "opened",
    [
        "opened", "geöffnet", "ouvert", "ouverte", "abrí", "abierto", "enabled", "aktiviert",
        "activé", "executed", "ausgeführt", "ran it",
    ],
)  # fmt: skip
_AFTER_EFFECT = concept(
    "strange behaviour after",
    [
        "nothing happened", "nichts passiert", "rien ne s'est passé", "rien ne se passe",
        "no pasó nada", "black window", "schwarzes fenster", "fenêtre noire",
        "ventana negra", "command prompt", "very slow", "langsam", "lent", "lento", "lüfter",
        "ventilateur", "ventilador",
    ],
)  # fmt: skip
_UNKNOWN_SENDER = concept(
    "from an unknown sender",
    [
        "unknown sender", "don't know the sender", "didn't recognise", "didn't recognize",
        "unbekannten absender", "unbekannter absender", "gar nicht kunde", "keine kunden",
        "not a customer", "not customers", "expéditeur inconnu", "remitente desconocido",
        "not expecting", "sender i don't know", "sender i do not know", "don't know this sender",
        "kenne ich nicht", "kenne den absender nicht", "je ne connais pas", "no conozco",
    ],
)  # fmt: skip

# --- money ----------------------------------------------------------------------------------

_BANK = concept(
    "bank details",
    [
        "bank details", "bank account", "banking details", "iban", "bankverbindung",
        "kontoverbindung", "bankdaten", "coordonnées bancaires", "rib", "datos bancarios",
        "cuenta bancaria", "changed their bank", "new bank",
    ],
)  # fmt: skip
_CHANGED = concept(
    "changed",
    [
        "changed", "change", "new", "geändert", "neue", "neues", "neuen", "changé",
        "changement", "nouveau", "nouvelles", "nouveaux", "cambiado", "cambio", "nueva",
        "nuevo", "nuevos",
    ],
)  # fmt: skip
_SUPPLIER_OR_DOUBT = concept(
    "a supplier, or a doubt",
    [
        "supplier", "suppliers", "vendor", "vendors", "lieferant", "lieferanten",
        "fournisseur", "fournisseurs", "proveedor", "proveedores", "genuine", "legit",
        "scam", "fraud", "betrug", "fraude", "from now on", "ab sofort", "désormais",
        "a partir de ahora",
    ],
)  # fmt: skip
_GIFT_CARDS = concept(
    "gift cards",
    [
        "gift card", "gift cards", "giftcard*", "itunes card*", "apple card*",
        "google play card*", "amazon voucher*", "steam card*", "geschenkkarte*",
        "gutscheinkarte*", "carte cadeau", "cartes cadeaux", "tarjeta regalo",
        "tarjetas regalo", "tarjetas de regalo", "tarjeta de regalo",
    ],
)  # fmt: skip
_BOSS_OR_SECRECY = concept(
    "a boss, urgency or secrecy",
    [
        "ceo", "cfo", "boss", "director", "managing director", "chef", "chefin",
        "geschäftsführer*", "vorgesetzte*", "pdg", "daf", "directeur", "directrice", "jefe",
        "jefa", "directora", "gerente", "urgent", "urgently", "dringend", "urgente", "surprise",
        "überraschung", "discreet", "keep it quiet", "confidential", "secret", "vertraulich",
        "geheim", "confidentiel", "confidentielle", "confidencial",
    ],
)  # fmt: skip
_TRANSFER = concept(
    "a money transfer",
    [
        "wire transfer", "bank transfer", "money transfer", "transfer of", "wire",
        "überweisung", "überweisen", "virement", "transferencia", "transferir",
    ],
)  # fmt: skip
_URGENT = concept(
    "urgency",
    [
        "urgent", "urgently", "asap", "immediately", "today", "dringend", "sofort", "heute",
        "eilig", "urgente", "aujourd'hui", "avant", "hoy", "cuanto antes",
    ],
)  # fmt: skip
_SECRECY = concept(
    "secrecy",
    [
        "confidential", "strictly confidential", "secret", "don't tell", "do not tell",
        "keep this between", "discreet", "discretion", "vertraulich", "geheim", "niemandem",
        "confidentiel", "confidentielle", "n'en parle", "discrétion", "confidencial",
        "secreto", "no se lo digas", "acquisition", "übernahme", "adquisición", "lawyer",
        "anwalt", "avocat", "avocats", "abogado", "abogados",
    ],
)  # fmt: skip

# --- data sent to the wrong person ------------------------------------------------------------

_SENT = concept(
    "sent",
    [
        "sent", "send", "emailed", "forwarded", "shared", "geschickt", "gesendet",
        "verschickt", "weitergeleitet", "envoyé", "transféré", "enviado", "envié", "reenviado",
    ],
)  # fmt: skip
_WRONG_RECIPIENT = concept(
    "to the wrong person",
    [
        "wrong person", "wrong recipient", "wrong address", "wrong email address", "to the wrong",
        "external recipient by mistake", "falschen empfänger", "falsche person",
        "falsche adresse", "falschen adresse", "mauvais destinataire", "mauvaise personne",
        "mauvaise adresse", "destinatario equivocado", "persona equivocada",
        "dirección equivocada",
    ],
)  # fmt: skip
_PERSONAL_DATA = concept(
    "personal or confidential data",
    [
        "salary", "salaries", "payroll", "bank details", "personal data", "customer data",
        "passport*", "gehälter", "gehalt", "gehaltsliste", "personaldaten", "kundendaten",
        "personenbezogen*", "salaires", "données personnelles", "données clients", "salarios",
        "nóminas", "nómina", "datos personales", "datos de clientes", "confidential",
        "vertraulich", "confidentiel", "confidencial", "customer list", "email addresses",
        "contact list", "phone numbers", "personal details", "employee data", "hr data",
        "medical", "kundenliste", "mitarbeiterdaten", "liste clients", "liste des clients",
        "lista de clientes",
    ],
)  # fmt: skip

# --- a device left in a public place ----------------------------------------------------------

_DEVICE = concept(
    "a device",
    [
        "laptop", "notebook", "phone", "iphone", "smartphone", "tablet", "ipad", "macbook",
        "handy", "diensthandy", "firmenhandy", "dienstlaptop", "firmenlaptop", "ordinateur",
        "portable", "téléphone", "portátil", "móvil", "teléfono",
    ],
)  # fmt: skip
_LEFT_BEHIND = concept(
    "left behind",
    [
        "left", "forgot", "liegen lassen", "liegengelassen", "vergessen", "oublié", "laissé",
        "olvidé", "dejé", "nicked", "pinched", "entwendet", "geklaut",
    ],
)  # fmt: skip
_THEFT = concept(
    "stolen",
    [
        "taken from", "broken into", "robbed", "mugged", "nicked", "pinched", "swiped",
        "snatched", "einbruch", "eingebrochen", "aufgebrochen", "geklaut", "entwendet",
        "cambriolage", "cambriolé", "cambriolée", "arraché", "me robaron", "me han robado",
        "atraco", "sustraído",
    ],
    r"(?:\b(?:can'?t|cannot|can\s+not)\s+find\s+my|\bne\s+trouve\s+plus\s+mon"
    r"|\bno\s+encuentro\s+mi|\bfinde\s+mein\w*)\s+(?:\w+\s+)?"
    r"(?:laptop|notebook|phone|iphone|smartphone|tablet|ipad|macbook|handy|diensthandy"
    r"|dienstlaptop|ordinateur|téléphone|portátil|móvil|teléfono)\b(?!\s+(?:number|nummer))",
)  # fmt: skip
_PUBLIC_PLACE = concept(
    "a public place",
    [
        "train", "bus", "taxi", "cab", "uber", "plane", "flight", "airport", "station",
        "bar", "pub", "restaurant", "hotel", "zug", "ice", "bahn", "flughafen", "bahnhof",
        "gare", "avion", "aéroport", "tren", "avión", "aeropuerto", "estación",
    ],
)  # fmt: skip


def _c(reason: str, *parts: Concept) -> Cooccurrence:
    return Cooccurrence(f"security incident: {reason}", parts)


INCIDENTS: tuple[Cooccurrence, ...] = (
    # cheap word concepts first: a class stops at the first concept missing
    _c("ransomware (files renamed, a note demanding payment)", _FILES, _DEMAND, _FILES_ALTERED),
    _c("credentials typed into a lure page", _LURE, _DOUBT, _CREDENTIALS_GIVEN),
    _c("sign-in from an unusual place", _SIGN_IN, _UNUSUAL_PLACE),
    _c("sign-in from an unusual place", _SIGN_IN, _DENIAL),
    _c("second-factor prompts the user did not trigger", _MFA, _DENIAL),
    _c("mail sent in the user's name that they never sent", _NEVER_SENT, _FROM_ME),
    _c("mailbox rule the user did not create", _MAIL_RULE, _NOT_CREATED),
    _c("someone else controlling the computer", _POINTER, _BY_ITSELF),
    _c("remote session given to a stranger", _REMOTE_TOOL, _STRANGER),
    _c("credentials given to a caller", _STRANGER, _CREDENTIALS_GIVEN),
    _c("fake warning with a number to call", _POPUP, _SCARE, _CALL_NUMBER),
    _c("found USB stick plugged in", _USB, _FOUND, _PLUGGED),
    _c("suspicious attachment opened", _RISKY_ATTACHMENT, _OPENED, _AFTER_EFFECT),
    _c("suspicious attachment opened", _RISKY_ATTACHMENT, _OPENED, _UNKNOWN_SENDER),
    _c("suspicious attachment opened", _ATTACHMENT, _OPENED, _UNKNOWN_SENDER),
    _c("payment fraud (bank details changed)", _BANK, _CHANGED, _SUPPLIER_OR_DOUBT),
    _c("payment fraud (gift cards)", _GIFT_CARDS, _BOSS_OR_SECRECY),
    _c("payment fraud (urgent confidential transfer)", _TRANSFER, _URGENT, _SECRECY),
    _c("personal data sent to the wrong person", _SENT, _WRONG_RECIPIENT, _PERSONAL_DATA),
    _c("device left in a public place", _DEVICE, _LEFT_BEHIND, _PUBLIC_PLACE),
    _c("device stolen or missing", _DEVICE, _THEFT),
)


# A forwarded mail that asks for money this way is a fraud attempt the requester reports,
# whatever their own words say.
_PAYMENT_FRAUD = tuple(i for i in INCIDENTS if i.reason.startswith("security incident: payment"))


def forwarded_fraud(forwarded: str) -> str | None:
    """Why a forwarded mail is a payment-fraud attempt (gift cards, changed bank details, an
    urgent secret transfer), or None."""
    if not forwarded.strip():
        return None
    index = TextIndex(forwarded)
    for incident in _PAYMENT_FRAUD:
        if incident.found(index):
            return f"{incident.reason}, in a forwarded mail"
    return None


def incidents(index: TextIndex) -> list[str]:
    """The reasons of every incident class whose symptoms are all in the text, once each."""
    found: list[str] = []
    for incident in INCIDENTS:
        if incident.reason not in found and incident.found(index):
            found.append(incident.reason)
    return found
