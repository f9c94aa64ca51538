"""The credential shapes the sensitivity scan looks for, as data: one row per shape, each
with the text that proves it is found and, where a shape is easy to over-read, a text that
must not be.

The shapes follow the public gitleaks rule set as a guide (fixed prefixes of the big
providers' tokens, key blocks, keyword = value assignments), written here in our own words,
plus the ways people write a password into a helpdesk mail in English, German, French and
Spanish. A row's `anchors` (lower case) are cheap substrings one of which a text must hold
before the pattern is tried: most tickets hold none of them.
"""

from __future__ import annotations

import re

from triage.rules.fixed_shapes import FIXED_SHAPES
from triage.rules.shapes import Shape, secret_span
from triage.rules.shapes import compiled as _compile

__all__ = ["NEAR_MISSES", "SHAPES", "SPOKEN_EXAMPLES", "Shape", "secret_span"]


# Words that follow "password" in ordinary helpdesk talk, in the four languages: after one of
# them, what follows is not a password ("password reset", "Kennwort vergessen").
_NOT_A_PASSWORD = frozenset(
    """
    reset resets expired expires expiry expire change changed changes changing forgot forgotten
    locked lock lockout does doesn't did didn't do not no is has have was were will would for
    policy policies manager field prompt prompts again every sync synced works work working
    incorrect wrong invalid request requested required please the a an and or to of on in
    my your our his her their new old same it this that hint hints history rules complexity
    length requirements update updated updating protected protection entry screen page box
    dialog window window. recovery self-service sspr vault safe
    vergessen abgelaufen läuft falsch falsches zurücksetzen zurückgesetzt geändert ändern
    änderung gesperrt neu neues neue nicht funktioniert geht bitte und oder ist war wird
    wurde mein meine dein das der die ein eine richtlinie eingeben eingegeben vergeben
    oublié oubliée expiré expirée incorrect incorrecte changer changé réinitialiser
    réinitialisé bloqué bloquée est et ou mon ma le la les un une ne pas nouveau
    olvidé olvidado olvidada caducado caducada incorrecta cambiar cambiado restablecer
    bloqueada bloqueado es y o mi el los una no nueva nuevo
    done ok okay yes none null true false optional unset empty blank sent n/a tbd erledigt
    lautet lautete jetzt now maintenant ahora same gleich pareil igual
    thanks thank thx cheers regards best hi hello danke gruß grüße merci cordialement bonjour
    gracias saludos hola
    """.split()
)
_PLACEHOLDER_VALUE = re.compile(
    r"(?i)^(?:\*+|x+|\.+|-+|_+|#+|<[^>]*>|\[[^\]]*\]|\$\{[^}]*\}|%[\w]+%|\{\{[^}]*\}\})$"
)
# A typed placeholder left by an earlier redaction ([CREDENTIAL:password], [SECRET], [CARD]):
# scrubbing twice changes nothing.
_REDACTED = re.compile(r"^\[[A-Z]+(?::\w+)?\]")
_CMDLET = re.compile(r"^[A-Z][A-Za-z]+-[A-Z][A-Za-z]+$")  # $pw = Read-Host, ConvertTo-SecureString
_STRONG_CONNECTORS = frozenset({":", "=", ":=", "=>", "lautet", "lautete"})
# Short words that mean other things too ("pwd /home/x", "PW 7000X", "PIN 4 of the plug"):
# a password only when a connector follows ("pw: ...", "PIN = ...").
_AMBIGUOUS_WORDS = frozenset({"pw", "pwd", "pin", "mdp", "clave", "parola", "pass", "psk"})


def _shaped_like_a_password(token: str) -> bool:
    """A digit or symbol in it, or mixed case that is not just a capital first letter."""
    has_digit_or_symbol = bool(re.search(r"[\d\W_]", token))
    mixed_case = token != token.lower() and token != token.upper() and not token.istitle()
    return has_digit_or_symbol or mixed_case


def _alone_on_its_line(match: re.Match[str]) -> bool:
    """The value is the whole line it sits on ("is below:" / "Xk9#mQ2!" / ...)."""
    text, start, end = match.string, match.start("value"), match.end("value")
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : len(text) if line_end < 0 else line_end]
    return line.strip().strip("\"'“”„«»") == match.group("value").strip("\"'“”„«»")


def _password_plausible(match: re.Match[str]) -> bool:
    """'password: hunter2', 'my new password is Summer2024!', 'Kennwort lautet X' yes;
    'password reset', 'Kennwort vergessen', 'password is expired', 'Password: ****' no."""
    value = match.group("value")
    if value.endswith(":") or value.startswith("(") or _CMDLET.match(value):
        return False  # a label ("Password: Username:"), a remark "(siehe Brief)", a cmdlet
    token = match.group("value").strip(".,;!?)")
    connector = " ".join((match.group("connector") or "").lower().split()).lstrip("\"'`")
    connector = connector.rstrip(": ") or connector
    if len(token) < 4 or token.lower() in _NOT_A_PASSWORD or _PLACEHOLDER_VALUE.match(token):
        return False
    if _REDACTED.match(token):
        return False
    if len(set(token)) == 1:
        return False
    if connector in _STRONG_CONNECTORS or (match.group("pointer") and _alone_on_its_line(match)):
        return True
    if not connector and match.group("word").lower().split()[0] in _AMBIGUOUS_WORDS:
        return False
    return _shaped_like_a_password(token)


_IDENTIFIER_PARTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_PASSWORD_PARTS = frozenset({"password", "passwort", "passwd", "pwd", "pass", "passphrase"})


def _assigned_password_plausible(match: re.Match[str]) -> bool:
    """DB_PASSWORD=..., smtp.password: ..., dbPassword = ...: a password named in an
    identifier. A bare 'password:' is the written-out shape's; 'passenger_count=' is no
    password."""
    ident = match.group("ident")
    parts = {part.lower() for part in _IDENTIFIER_PARTS.findall(ident)}
    if ident.lower().lstrip("-.") in _PASSWORD_PARTS or not parts & _PASSWORD_PARTS:
        return False
    return _password_plausible(match)


def _long_value_plausible(match: re.Match[str]) -> bool:
    """A long value named a key or token without an operator: letters and digits mixed,
    as a generated key is ('token 7c4a8d09ca3762af61e5' yes; 'token refresh-interval...' no)."""
    value = match.group("value").strip(".,;:)")
    return (
        len(value) >= 20
        and not value.startswith(("/", "."))  # a path: "token /var/lib/app/token-2025.json"
        and bool(re.search(r"\d", value))
        and bool(re.search(r"[A-Za-z]", value))
        and len(set(value)) >= 8
        and not _REDACTED.match(value)
    )


def _value_plausible(match: re.Match[str]) -> bool:
    """A key = value assignment holds a secret when the value is not a word or a placeholder:
    'api_key = 9f8e7d6c5b4a' yes; 'token: expired', 'secret = ${SECRET}' no."""
    value = match.group("value").strip(".,;:)")
    if len(value) < 8 or _PLACEHOLDER_VALUE.match(value) or len(set(value)) < 4:
        return False
    if _REDACTED.match(value):
        return False
    if value.lower() in _NOT_A_PASSWORD or re.fullmatch(r"[a-z]+(?:[-_][a-z]+)*", value):
        return False  # a plain lower-case word ("token = refreshed", "secret: none-given")
    return bool(re.search(r"\d", value)) or _shaped_like_a_password(value) or len(value) >= 20


_LOGIN_WORDS = (  # the words for a password
    r"passwor[dt]|passwd|pass-?phrase|pass-?code|pwd|pw|kennwort|mot\s+de\s+passe|mdp"
    r"|contrase(?:ñ|n)a|clave(?:\s+de\s+acceso)?|senha|wachtwoord|parola|has(?:ł|l)o|pin"
    r"|wlan-?schl(?:ü|ue)ssel|wi-?fi\s+(?:key|password)|netzwerkschl(?:ü|ue)ssel|pass|psk"
    r"|pre-?shared\s+key|wpa2?\s+key|network\s+key|cl[ée]\s+(?:wi-?fi|wpa|r[ée]seau)"
)
# "new password", "Kennwort neu", "contraseña nueva", "mot de passe temporaire"
_ADJECTIVE = (
    r"(?:\s++(?:new|neu(?:es|e)?|nouveau|nueva|nuevo|actual|temporal|temporaire|provisoire"
    r"|temporary|tempor(?:ä|ae)res|initial(?:es)?|inicial))?"
)
# "password for SAP", "Passwort für den VPN-Zugang", "mot de passe de ma session"
_QUALIFIER = (
    r"(?:\s++(?:for|für|fuer|pour|para|de|del|of|on|in|zu|zum|im|auf)"
    r"(?:\s++(?:the|my|den|die|das|dem|mein(?:en|em)?|ma|mon|la|le|el|mi|un|une|a))?"
    r"\s++[\w.@/-]{2,40}){0,2}"
)
_CONNECTOR = (
    r"(?P<connector>[\"'`]?\s*+(?::=|=>|[:=])|\s++[-–](?=\s)|\s++(?:"
    # "was changed to", "wurde geändert auf", "a été changé en", "fue cambiada a"
    r"(?:(?:is|was|has\s++been|ist|wurde|a\s++été|est|fue|ha\s++sido)\s++)?(?:now\s++|jetzt\s++)?"
    r"(?:changed|set|reset|updated|ge(?:ä|ae)ndert|gesetzt|zur(?:ü|ue)ckgesetzt|chang[ée]e?"
    r"|modifi[ée]e?|r[ée]initialis[ée]e?|cambiad[oa]|restablecid[oa]|puesto)\s++(?:to|auf|en|à|a)"
    r"|is|was|ist|war|lautet|lautete|est|es|era|será|is\s+now|ist\s+jetzt|est\s+maintenant"
    r"|steht|está|esta|se\s+trouve|comes|follows|folgt|sigue|suit"
    r"|ahora\s+es|now|jetzt|auf|to|à|a)\b(?:\s*+:)?)"
)
# "my password for the VPN is below" / newline / the password: a pointer to the next line
# (no line-break may follow the pointer on its own line but blanks and a colon).
_POINTER = (
    r"(?:\s++(?P<pointer>below|underneath|as\s+follows|the\s+following|(?:on|in)\s+the\s+next"
    r"\s+line|here|unten|darunter|hier|wie\s+folgt|folgendes|im\s+n(?:ä|ae)chsten\s+absatz"
    r"|ci-dessous|ci-apr(?:è|e)s|suivant|ici|abajo|a\s+continuaci(?:ó|o)n|(?:el|la|lo)\s+siguiente"
    r"|aqu(?:í|i))"
    r"\b(?:[^\S\n]*+[:.])?(?=[^\S\n]*+\r?\n))?"
)
_SPOKEN_STARTS = re.compile(rf"(?<!\w)(?:{_LOGIN_WORDS})\b")
_SPOKEN_PASSWORD = re.compile(
    rf"(?i)(?<!\w)(?P<word>{_LOGIN_WORDS})\b{_ADJECTIVE}{_QUALIFIER}{_CONNECTOR}?{_POINTER}(?:\s++|(?<=[:=])\s*+)"
    r"[\"'“„«]?(?P<value>[^\s\"'”“»<]{4,64})"
)

# key = value, with the key anywhere in an identifier: aws_secret_access_key, ?access_token=,
# "ApiKey": "...", client-secret: ..., X-Api-Key: ...
_KEY_NAMES = (  # names under which a secret is assigned
    r"api[_.-]?key|apikey|api[_.-]?token|secret|token|access[_.-]?key|private[_.-]?key"
    r"|client[_.-]?secret|auth[_.-]?key|credentials?|signing[_.-]?key|encryption[_.-]?key"
    r"|session[_.-]?key|sas[_.-]?token|connection[_.-]?string|webhook[_.-]?url"
)
_SECRET_STARTS = re.compile(_KEY_NAMES)
# "the API key 7c4a8d09ca37...", "token abc123...": named, without an = or a colon
_NAMED_KEY_WORDS = (
    r"api[ _-]?key|access[ _-]?key|secret[ _-]?key|api[ _-]?token|access[ _-]?token"
    r"|auth[ _-]?token|bearer[ _-]?token|client[ _-]?secret|token|secret"
)
_NAMED_KEY_STARTS = re.compile(rf"\b(?:{_NAMED_KEY_WORDS})\b")
_NAMED_KEY = re.compile(
    rf"(?i)\b(?:{_NAMED_KEY_WORDS})\b\s++(?:(?:is|was|ist|war|est|es)\s++)?[\"'`]?"
    r"(?P<value>[A-Za-z0-9_\-+/=.~]{20,200})"
)
_ASSIGNED_SECRET = re.compile(
    rf"(?i)(?:{_KEY_NAMES})[\w.-]{{0,20}}[\"'`]?\s*+"
    r"(?::=|=>|[:=])\s*+[\"'`]?(?P<value>[A-Za-z0-9._~+/=!#$%*@^-]{8,200})"
)

_B64 = r"[A-Za-z0-9+/]"


SHAPES: tuple[Shape, ...] = (
    *FIXED_SHAPES,
    # --- connection strings, URLs and headers ------------------------------------------------
    Shape(
        "azure_account_key",
        _compile(
            r"(?i)\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|PrimaryKey)\s*+=\s*+"
            rf"(?P<value>{_B64}{{20,}}={{0,2}})"
        ),
        ("accountkey", "sharedaccess", "primarykey"),
        "DefaultEndpointsProtocol=https;AccountName=kestrel;AccountKey="
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;",
        "AccountKey= (ask the storage team)",
        leads=True,
    ),
    Shape(
        "azure_sas_signature",
        _compile(r"[?&]sig=(?P<value>[A-Za-z0-9%+/=]{20,})"),
        ("sig=",),
        "https://kestrel.blob.core.windows.net/docs?sv=2022-11-02&se=2025-03-10"
        "&sp=r&sig=AbCdEfGhIjKlMnOp%2BQrStUvWxYz0123456789%3D",
        "add ?sig= to the link",
    ),
    Shape(
        "url_password",
        _compile(r"://[^/\s:@]++:(?P<value>[^@\s/]++)@"),  # from "://": a fast search
        ("://",),
        "db at postgres://app:s3cret@db.example.com/x",
        "see https://intranet.example.com:8443/help",
    ),
    Shape(
        "bearer_token",
        _compile(r"\b(?i:bearer)\s++(?P<value>[A-Za-z0-9._~+/-]{16,}=*)"),
        ("bearer",),
        "Authorization: Bearer abcdefghijklmnopqrstuvwx",
        "the bearer of this letter",
        leads=True,
    ),
    Shape(
        "basic_auth",
        _compile(
            r"(?i)\b(?:Authorization|Proxy-Authorization):\s*+Basic\s++(?P<value>[A-Za-z0-9+/]{8,}={0,2})"
        ),
        ("authorization:", "proxy-authorization:"),
        "Authorization: Basic a2VzdHJlbDpTM2NyZXQh",
        "basic authentication is off",
        leads=True,
    ),
    Shape(
        "connection_string_password",
        _compile(
            r"(?i)(?:^|[;\s\"'])(?P<word>password|pwd)\s*+(?P<connector>=)\s*+"
            r"(?P<value>[^;\s\"']{3,})"
        ),
        ("password=", "pwd=", "password =", "pwd ="),
        "Server=sql01;Database=DW;User Id=svc;Password=Kx!9vQ2#mRt7Lp;Encrypt=True",
        "the string needs Password= and User Id=",
        plausible=_password_plausible,
    ),
    Shape(
        "html_password_value",
        _compile(
            r"(?i)<input\b(?=[^>]{0,500}?\btype\s*+=\s*+[\"']?password)[^>]{0,500}?\bvalue\s*+=\s*+"
            r"[\"']?(?P<value>[^\"'\s>]+)"
        ),
        ("<input",),
        '<input type="password" name="pw" value="Sommer2025!">',
        '<input type="password" name="pw">',
        leads=True,
    ),
    # --- command lines that carry a password ----------------------------------------------------
    Shape(
        "powershell_plaintext",
        _compile(
            r"(?i)ConvertTo-SecureString\s++(?:-String\s++)?[\"'](?P<value>[^\"']{3,200})[\"']"
        ),
        ("convertto-securestring",),
        '$pw = ConvertTo-SecureString "Sommer2025!" -AsPlainText -Force',
        "$pw = Read-Host -AsSecureString | ConvertTo-SecureString",
        leads=True,
    ),
    Shape(
        "net_user_password",
        _compile(r"(?i)\bnet\s++user\s++[^\s/]++\s++(?P<value>[^\s/*]\S{3,200})(?=\s+/|\s*$)"),
        ("net user",),
        "net user svc_backup Backup#2025 /add /domain",
        "net user svc_backup /domain",
        leads=True,
    ),
    Shape(
        "mysql_password",
        _compile(r"(?i)\bmysql(?:dump|admin)?\b[^\n]{0,80}?\s(?-i:-p)(?P<value>[^\s-]\S{2,})"),
        ("mysql",),
        "mysqldump -u backup -pS3cr3tDump! erp > erp.sql",
        "mysql -u root -p erp",
        leads=True,
    ),
    Shape(
        "sshpass_password",
        _compile(r"\bsshpass\s++-p\s*+[\"']?(?P<value>[^\s\"']{3,})"),
        ("sshpass",),
        "sshpass -p 'Zugang#2025' ssh admin@10.0.0.5",
        leads=True,
    ),
    Shape(
        "curl_user_password",
        _compile(
            r"(?i)\bcurl\b[^\n]{0,200}?\s(?:-u|--user)\s*+[\"']?[^\s:\"']++:"
            r"(?P<value>[^\s\"'@]{3,})"
        ),
        ("curl",),
        "curl -u api_user:Xk9#pLm2 https://erp.example.com/api",
        "curl -u api_user https://erp.example.com/api",
        leads=True,
    ),
    Shape(
        "session_cookie",
        _compile(
            r"(?i)\b(?:session[_-]?id|sessionid|jsessionid|phpsessid|asp\.net_sessionid"
            r"|connect\.sid|_session)=(?P<value>[A-Za-z0-9%._~+/=-]{16,})"
        ),
        (
            "sessionid",
            "session_id",
            "session-id",
            "jsessionid",
            "phpsessid",
            "asp.net_sessionid",
            "connect.sid",
            "_session=",
        ),
        "Cookie: JSESSIONID=3F2A9C1B7D4E8F6A0B1C2D3E4F5A6B7C; lang=de",
        "the session id is shown on the error page",
        leads=True,
    ),
    Shape(
        "xml_secret",
        _compile(
            r"(?i)<(?P<tag>password|passwd|pwd|secret|api[_-]?key|token|client[_-]?secret)>"
            r"(?P<value>[^<\s]{4,})</(?P=tag)>"
        ),
        ("<password", "<passwd", "<pwd", "<secret", "<api", "<token", "<client"),
        "<connection><user>svc</user><password>Kx!9vQ2#m</password></connection>",
        "<password></password>",
        leads=True,
    ),
    # --- keyword = value, and a password written out in words ----------------------------------
    Shape(
        "assigned_password",
        _compile(
            r"(?i)(?<![\w.-])(?P<ident>[\w.-]{0,40}?(?:passw(?:or)?[dt]|passwd|pwd|pass)"
            r"[\w.-]{0,30})[\"'`]?\s*+(?P<connector>:=|=>|[:=])\s*+[\"'`]?"
            r"(?P<value>[^\s\"'`,;<>]{3,64})"
        ),
        ("pass", "pwd"),
        "export DB_PASSWORD=Hamburg2025",
        "passenger_count=12345678",
        plausible=_assigned_password_plausible,
    ),
    Shape(
        "named_key",
        _NAMED_KEY,
        ("key", "token", "secret"),
        "the API key 7c4a8d09ca3762af61e59520943dc26494f8941b was in the public repo",
        "the access token expired yesterday at midnight",
        plausible=_long_value_plausible,
        starts=_NAMED_KEY_STARTS,
    ),
    Shape(
        "secret",
        _ASSIGNED_SECRET,
        ("key", "secret", "token", "credential", "connection", "webhook"),
        "https://api.example.com/v1/items?access_token=9f8e7d6c5b4a3928&page=2",
        "token: expired",
        plausible=_value_plausible,
        starts=_SECRET_STARTS,
    ),
    Shape(
        "password",
        _SPOKEN_PASSWORD,
        (
            "pass",
            "pwd",
            "pw",
            "kennwort",
            "mdp",
            "contrase",
            "clave",
            "senha",
            "wachtwoord",
            "parola",
            "hasło",
            "haslo",
            "pin",
            "schl",
            "wi-fi",
            "wifi",
            "psk",
            "shared",
            "wpa",
            "network key",
            "clé",
        ),
        "My new password is Liverpool2025! - can you set it?",
        "I need a password reset",
        plausible=_password_plausible,
        starts=_SPOKEN_STARTS,
    ),
)


# Texts for the table, beyond each shape's own example: the ways people write it down.
SPOKEN_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("password", "user: lbrandt\npw: Tr0mbone#77"),
    ("password", "Mein Kennwort lautet Sommer2025! – das habe ich geändert"),
    ("password", "Passwort: Hamburg#2025"),
    ("password", "mon mot de passe : Azerty123!"),
    ("password", "mi contraseña: Madrid2025$"),
    ("password", "la contraseña es Sevilla#99"),
    ("password", "my password for SAP is Winter2024!"),
    ("password", "passwd=Sup3rS3cret"),
    ("password", "COMMAND=/usr/bin/mysql -u root --password=Winter2026!"),
    ("password", "PIN: 4711"),
    ("password", "WLAN-Schlüssel: Kestrel-Gast-2025"),
    ("password", "Kennwort lautet: Sommer2025!"),
    ("password", "my password was changed to Autumn2025!"),
    ("password", "mi contraseña nueva es Toledo#2025"),
    ("password", "Mot de passe temporaire : Lyon-2025"),
    ("password", '{"username": "svc_tms", "password": "Tms-Sync-2025"}'),
    ("password", "WPA2 key: KestrelGuest2025"),
    ("password", "pass: Tr0mbone#77"),
    ("password", "Password – Sommer2025!"),
    ("assigned_password", "spring.datasource.password=Kx9vQ2mRt7"),
    ("assigned_password", "$dbPassword = 'Ub00t#2025'"),
    ("aws_secret", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("secret", '"ApiKey": "kl_live_fbdd2b1437048a2b1d6058beb5ce94c1"'),
    ("secret", "X-Api-Key: 7c4a8d09ca3762af61e59520943dc26494f8941b"),
    ("secret", "client_secret=Zq8~uT1vW2xY3zA4bC5dE6f"),
)
NEAR_MISSES: tuple[str, ...] = (
    "Kennwort vergessen, bitte zurücksetzen",
    "I need a password reset",
    "My password expired yesterday",
    "The password manager does not open",
    "Passwort ist abgelaufen",
    "mot de passe oublié",
    "olvidé mi contraseña",
    "Password: ********",
    "the token is expired",
    "please reset the PIN on my phone",
    "api_key = ${API_KEY}",
    "Name oder Kennwort nicht korrekt (bitte Anmeldung wiederholen)",
    "the secret santa list is attached",
    "My password is not working",
    "Password: Username: (both fields are empty)",
    "the password was changed to comply with the policy",
    "bypass_mode=enabled",
    "compass_heading: 270 degrees",
    "Kennwort lautet: (siehe Brief)",
    "the token /var/lib/app/token-2025.json is read at start",
    "Password - see the sheet I gave you",
)
