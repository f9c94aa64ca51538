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
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    name: str  # the finding's kind, e.g. aws_key; several rows may share one
    pattern: re.Pattern[str]
    anchors: tuple[str, ...]  # lower case; the text must hold one of them
    example: str  # a text the shape finds
    near_miss: str = ""  # a text that looks alike and must not be found
    plausible: Callable[[re.Match[str]], bool] | None = None  # a second look at a match


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
    """.split()
)
_PLACEHOLDER_VALUE = re.compile(
    r"(?i)^(?:\*+|x+|\.+|-+|_+|#+|<[^>]*>|\[[^\]]*\]|\$\{[^}]*\}|%[\w]+%|\{\{[^}]*\}\})$"
)
# A typed placeholder left by an earlier redaction ([CREDENTIAL:password], [SECRET], [CARD]):
# scrubbing twice changes nothing.
_REDACTED = re.compile(r"^\[[A-Z]+(?::\w+)?\]")
_STRONG_CONNECTORS = frozenset({":", "=", ":=", "=>", "lautet", "lautete"})
# Short words that mean other things too ("pwd /home/x", "PW 7000X", "PIN 4 of the plug"):
# a password only when a connector follows ("pw: ...", "PIN = ...").
_AMBIGUOUS_WORDS = frozenset({"pw", "pwd", "pin", "mdp", "clave", "parola"})


def secret_span(match: re.Match[str]) -> tuple[int, int]:
    """Where the secret itself is: the `value` group where a shape has one, else the match."""
    return match.span("value") if "value" in match.re.groupindex else match.span()


def _shaped_like_a_password(token: str) -> bool:
    """A digit or symbol in it, or mixed case that is not just a capital first letter."""
    has_digit_or_symbol = bool(re.search(r"[\d\W_]", token))
    mixed_case = token != token.lower() and token != token.upper() and not token.istitle()
    return has_digit_or_symbol or mixed_case


def _password_plausible(match: re.Match[str]) -> bool:
    """'password: hunter2', 'my new password is Summer2024!', 'Kennwort lautet X' yes;
    'password reset', 'Kennwort vergessen', 'password is expired', 'Password: ****' no."""
    token = match.group("value").strip(".,;:!?)")
    connector = " ".join((match.group("connector") or "").lower().split())
    if len(token) < 4 or token.lower() in _NOT_A_PASSWORD or _PLACEHOLDER_VALUE.match(token):
        return False
    if _REDACTED.match(token):
        return False
    if len(set(token)) == 1:
        return False
    if connector in _STRONG_CONNECTORS:
        return True
    if not connector and match.group("word").lower() in _AMBIGUOUS_WORDS:
        return False
    return _shaped_like_a_password(token)


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
    r"|wlan-?schl(?:ü|ue)ssel|wi-?fi\s+(?:key|password)"
)
# "password for SAP", "Passwort für den VPN-Zugang", "mot de passe de ma session"
_QUALIFIER = (
    r"(?:\s+(?:for|für|fuer|pour|para|de|del|of|on|in|zu|zum|im|auf)"
    r"(?:\s+(?:the|my|den|die|das|dem|mein(?:en|em)?|ma|mon|la|le|el|mi|un|une|a))?"
    r"\s+[\w.@/-]{2,40}){0,2}"
)
_CONNECTOR = (
    r"(?P<connector>\s*(?::=|=>|[:=])|\s+(?:is|was|ist|war|lautet|lautete|est|es|era|será"
    r"|is\s+now|ist\s+jetzt|est\s+maintenant|ahora\s+es|now|jetzt|set\s+to|changed\s+to"
    r"|auf|to|à|a)\b)"
)
_SPOKEN_PASSWORD = re.compile(
    rf"(?i)(?<!\w)(?P<word>{_LOGIN_WORDS})\b{_QUALIFIER}{_CONNECTOR}?(?:\s+|(?<=[:=])\s*)"
    r"[\"'“„«]?(?P<value>[^\s\"'”“»<]{4,64})"
)

# key = value, with the key anywhere in an identifier: aws_secret_access_key, ?access_token=,
# "ApiKey": "...", client-secret: ..., X-Api-Key: ...
_KEY_NAMES = (  # names under which a secret is assigned
    r"api[_.-]?key|apikey|api[_.-]?token|secret|token|access[_.-]?key|private[_.-]?key"
    r"|client[_.-]?secret|auth[_.-]?key|credentials?|signing[_.-]?key|encryption[_.-]?key"
    r"|session[_.-]?key|sas[_.-]?token|connection[_.-]?string|webhook[_.-]?url"
)
_ASSIGNED_SECRET = re.compile(
    rf"(?i)(?:{_KEY_NAMES})[\w.-]{{0,20}}[\"'`]?\s*"
    r"(?::=|=>|[:=])\s*[\"'`]?(?P<value>[A-Za-z0-9._~+/=!#$%*@^-]{8,200})"
)

_B64 = r"[A-Za-z0-9+/]"


def _compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


SHAPES: tuple[Shape, ...] = (
    # --- key blocks and tokens with a fixed shape -------------------------------------------
    Shape(
        "private_key",
        _compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?"
            r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
            re.S,
        ),
        ("private key",),
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
        "-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----",
    ),
    Shape(
        "aws_key",
        _compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b"),
        ("akia", "asia", "abia", "acca", "a3t"),
        "aws_access_key_id=AKIAEXAMPLE7KEY0ID12",
        "ASIA is a continent, AKIA1234 is short",
    ),
    Shape(
        "aws_secret",
        _compile(
            r"(?i)\baws[\w.-]{0,30}?(?:secret|session)[\w.-]{0,20}[\"']?\s*(?::=|=>|[:=])\s*"
            r"[\"']?(?P<value>[A-Za-z0-9/+=]{40,})"
        ),
        ("aws",),
        "AWS_SECRET_ACCESS_KEY=UTPsS1av5UExampleSecretKeyPIz7RjXrj+DkVo",
        "aws_secret_access_key = ${AWS_SECRET}",
    ),
    Shape(
        "github_token",
        _compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{20,})"),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        "token ghp_0123456789abcdefABCDEF0123456789abcd",
        "the ghp_ prefix marks a token",
    ),
    Shape(
        "gitlab_token",
        _compile(r"\b(?:glpat|gldt|glrt|glptt|glft|glsoat|glcbt|gloas)-[\w-]{20,}"),
        ("glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glsoat-", "glcbt-", "gloas-"),
        "CI_TOKEN glpat-xYz12AbC34dEf56GhI78j",
        "glpat- tokens expire after a year",
    ),
    Shape(
        "gitlab_runner_token",
        _compile(r"\bGR1348941[\w-]{20,}"),
        ("gr1348941",),
        "runner registration GR1348941aBcDeFgHiJkLmNoPqRsT",
    ),
    Shape(
        "slack_token",
        _compile(r"\bxox[abeoprs]-(?:\d+-)?[A-Za-z0-9-]{10,}"),
        ("xox",),
        "SLACK_BOT_TOKEN=xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp",
        "the xoxb- prefix",
    ),
    Shape(
        "slack_app_token",
        _compile(r"\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{20,}"),
        ("xapp-",),
        "xapp-1-A01BCDEFGHI-1234567890123-abcdef0123456789abcdef0123",
    ),
    Shape(
        "slack_webhook",
        _compile(
            r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+-]{20,}"
        ),
        ("hooks.slack.com",),
        "posting to https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/aBcDeFgHiJkLmNoPqRsTuVwX",
        "see https://hooks.slack.com/ for help",
    ),
    Shape(
        "discord_webhook",
        _compile(r"https?://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w-]{20,}"),
        ("discord",),
        "https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    ),
    Shape(
        "teams_webhook",
        _compile(r"https://[\w.-]+\.webhook\.office\.com/webhookb2/[\w@/-]{40,}"),
        ("webhook.office.com",),
        "https://kestrel.webhook.office.com/webhookb2/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d@"
        "1a2b3c4d-5e6f/IncomingWebhook/abcdef0123456789/0a1b2c3d",
    ),
    Shape(
        "stripe_key",
        _compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
        ("_live_", "_test_"),
        "STRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "we use sk_live_ keys in production",
    ),
    Shape(
        "stripe_webhook_secret",
        _compile(r"\bwhsec_[A-Za-z0-9]{24,}"),
        ("whsec_",),
        "signing secret whsec_AbCdEfGhIjKlMnOpQrStUvWx0123",
    ),
    Shape(
        "google_api_key",
        _compile(r"\bAIza[0-9A-Za-z_-]{35}"),
        ("aiza",),
        "maps key AIzaSyA-EXAMPLE0123456789abcdefghijklmn",
        "AIza is how Google keys start",
    ),
    Shape(
        "google_oauth_token",
        _compile(r"\bya29\.[0-9A-Za-z_-]{20,}"),
        ("ya29.",),
        "access token ya29.a0AfH6SMBexampleexampleEXAMPLE123",
    ),
    Shape(
        "google_client_secret",
        _compile(r"\bGOCSPX-[A-Za-z0-9_-]{20,}"),
        ("gocspx-",),
        "client secret GOCSPX-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    Shape(
        "gcp_service_account_key",
        _compile(r"\"private_key\"\s*:\s*\"(?P<value>[^\"]{20,})\""),
        ('"private_key"',),
        '{"type": "service_account", "private_key": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}',
    ),
    Shape(
        "jwt",
        _compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}"),
        ("eyj",),
        "Authorization: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0bXMifQ.q3L0v7PEmJ1ijEZSfsqw",
        "the payload starts with eyJ",
    ),
    Shape(
        "openai_key",
        _compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}"),
        ("t3blbkfj",),
        "OPENAI_API_KEY sk-proj-AbCdEfGhIjKlMnOpQrStT3BlbkFJAbCdEfGhIjKlMnOpQrSt",
    ),
    Shape(
        "api_key",
        _compile(r"\bsk-(?:ant-)?[A-Za-z0-9_-]{20,}"),
        ("sk-",),
        "key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx",
        "a desk-top sk-8 model",
    ),
    Shape(
        "npm_token",
        _compile(r"\bnpm_[A-Za-z0-9]{36}\b"),
        ("npm_",),
        "//registry.npmjs.org/:_authToken=npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    ),
    Shape(
        "pypi_token",
        _compile(r"\bpypi-AgE[A-Za-z0-9_-]{50,}"),
        ("pypi-age",),
        "password = pypi-AgEIcHlwaS5vcmcCJGFiY2RlZmdoLWlqa2wtbW5vcC1xcnN0LXV2d3h5ejAxMjM0",
    ),
    Shape(
        "sendgrid_key",
        _compile(r"\bSG\.[\w-]{16,32}\.[\w-]{16,64}"),
        ("sg.",),
        "SENDGRID SG.AbCdEfGhIjKlMnOpQrStUv.WxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0",
    ),
    Shape(
        "twilio_key",
        _compile(r"\bSK[0-9a-f]{32}\b"),
        ("sk",),
        "twilio SK0123456789abcdef0123456789abcdef",
    ),
    Shape(
        "mailgun_key",
        _compile(r"\bkey-[0-9a-f]{32}\b"),
        ("key-",),
        "mailgun key-0123456789abcdef0123456789abcdef",
    ),
    Shape(
        "mailchimp_key",
        _compile(r"\b[0-9a-f]{32}-us\d{1,2}\b"),
        ("-us",),
        "mailchimp 0123456789abcdef0123456789abcdef-us21",
    ),
    Shape(
        "shopify_token",
        _compile(r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b"),
        ("shpat_", "shpss_", "shpca_", "shppa_"),
        "shopify shpat_0123456789abcdef0123456789abcdef",
    ),
    Shape(
        "digitalocean_token",
        _compile(r"\bdo[opr]_v1_[a-f0-9]{64}\b"),
        ("_v1_",),
        "DO token dop_v1_" + "0123456789abcdef" * 4,
    ),
    Shape(
        "vault_token",
        _compile(r"\bhv[sb]\.[A-Za-z0-9_-]{24,}"),
        ("hvs.", "hvb."),
        "VAULT_TOKEN=hvs.CAESIAbCdEfGhIjKlMnOpQrStUvWxYz0123",
    ),
    Shape(
        "doppler_token",
        _compile(r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}"),
        ("dp.",),
        "doppler dp.pt.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfG",
    ),
    Shape(
        "atlassian_token",
        _compile(r"\bATATT3[A-Za-z0-9_=-]{60,}"),
        ("atatt3",),
        "jira token ATATT3xFfGF0" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789" * 2,
    ),
    Shape(
        "databricks_token",
        _compile(r"\bdapi[a-f0-9]{32}(?:-\d)?\b"),
        ("dapi",),
        "databricks dapi0123456789abcdef0123456789abcdef",
    ),
    Shape(
        "grafana_token",
        _compile(r"\b(?:glc_[A-Za-z0-9+/]{32,}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})"),
        ("glc_", "glsa_"),
        "grafana glsa_AbCdEfGhIjKlMnOpQrStUvWxYz012345_0a1b2c3d",
    ),
    Shape(
        "postman_key",
        _compile(r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b"),
        ("pmak-",),
        "postman PMAK-0123456789abcdef01234567-0123456789abcdef0123456789abcdef01",
    ),
    Shape(
        "docker_token",
        _compile(r"\bdckr_(?:pat|oat)_[\w-]{20,}"),
        ("dckr_",),
        "docker login -p dckr_pat_AbCdEfGhIjKlMnOpQrStUvWxYz0",
    ),
    Shape(
        "huggingface_token",
        _compile(r"\bhf_[A-Za-z]{34}\b"),
        ("hf_",),
        "HF_TOKEN hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
    ),
    Shape(
        "telegram_bot_token",
        _compile(r"\b\d{8,10}:AA[\w-]{33}\b"),
        (":aa",),
        "bot 123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-9A",
    ),
    Shape(
        "square_token",
        _compile(r"\b(?:sq0atp|sq0csp|EAAA)[\w-]{22,}"),
        ("sq0atp", "sq0csp", "eaaa"),
        "square sq0atp-AbCdEfGhIjKlMnOpQrStUv",
    ),
    Shape(
        "braintree_token",
        _compile(r"access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32}"),
        ("$production$",),
        "access_token$production$abcd1234efgh5678$0123456789abcdef0123456789abcdef",
    ),
    Shape(
        "linear_key",
        _compile(r"\blin_api_[A-Za-z0-9]{40}\b"),
        ("lin_api_",),
        "linear lin_api_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCd",
    ),
    Shape(
        "sentry_token",
        _compile(r"\b(?:sntrys_eyJ[A-Za-z0-9+/=_-]{40,}|sntryu_[a-f0-9]{64})"),
        ("sntrys_", "sntryu_"),
        "sentry sntryu_" + "0123456789abcdef" * 4,
    ),
    Shape(
        "onepassword_key",
        _compile(r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})(?:-[A-Z0-9]{5}){3}\b"),
        ("a3-",),
        "secret key A3-ABCDEF-GHIJKLMNOPQ-RSTUV-WXYZ0-12345",
    ),
    Shape(
        "age_key",
        _compile(r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b"),
        ("age-secret-key-",),
        "AGE-SECRET-KEY-1" + ("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L" * 2)[:58],
    ),
    Shape(
        "azure_client_secret",
        _compile(r"(?<![\w~.-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![\w~.-])"),
        ("q~",),
        "client secret abc8Q~AbCdEfGhIjKlMnOpQrStUvWxYz0123456",
    ),
    # --- connection strings, URLs and headers ------------------------------------------------
    Shape(
        "azure_account_key",
        _compile(
            r"(?i)\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|PrimaryKey)\s*=\s*"
            rf"(?P<value>{_B64}{{20,}}={{0,2}})"
        ),
        ("accountkey", "sharedaccess", "primarykey"),
        "DefaultEndpointsProtocol=https;AccountName=kestrel;AccountKey="
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;",
        "AccountKey= (ask the storage team)",
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
        _compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:(?P<value>[^@\s/]+)@"),
        ("://",),
        "db at postgres://app:s3cret@db.example.com/x",
        "see https://intranet.example.com:8443/help",
    ),
    Shape(
        "bearer_token",
        _compile(r"\b(?i:bearer)\s+(?P<value>[A-Za-z0-9._~+/-]{16,}=*)"),
        ("bearer",),
        "Authorization: Bearer abcdefghijklmnopqrstuvwx",
        "the bearer of this letter",
    ),
    Shape(
        "basic_auth",
        _compile(
            r"(?i)\b(?:Authorization|Proxy-Authorization):\s*Basic\s+(?P<value>[A-Za-z0-9+/]{8,}={0,2})"
        ),
        ("basic",),
        "Authorization: Basic a2VzdHJlbDpTM2NyZXQh",
        "basic authentication is off",
    ),
    Shape(
        "connection_string_password",
        _compile(
            r"(?i)(?:^|[;\s\"'])(?P<word>password|pwd)\s*(?P<connector>=)\s*"
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
            r"(?i)<input\b(?=[^>]*\btype\s*=\s*[\"']?password)[^>]*?\bvalue\s*=\s*"
            r"[\"']?(?P<value>[^\"'\s>]+)"
        ),
        ("<input",),
        '<input type="password" name="pw" value="Sommer2025!">',
        '<input type="password" name="pw">',
    ),
    # --- keyword = value, and a password written out in words ----------------------------------
    Shape(
        "secret",
        _ASSIGNED_SECRET,
        ("key", "secret", "token", "credential", "connection", "webhook"),
        "https://api.example.com/v1/items?access_token=9f8e7d6c5b4a3928&page=2",
        "token: expired",
        plausible=_value_plausible,
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
        ),
        "My new password is Liverpool2025! - can you set it?",
        "I need a password reset",
        plausible=_password_plausible,
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
)
