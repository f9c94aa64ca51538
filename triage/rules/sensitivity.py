"""Find credentials and personal data in a ticket, and say where, so later tiers can redact.

A credential or a card number makes the ticket `restricted`: it never leaves the machine as
written. Findings carry positions, never the values themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from triage.ticket import Level

CREDENTIAL = "credential"
CARD = "pii.card"
IBAN = "pii.iban"
PHONE = "pii.phone"
EMAIL = "pii.email"
RESTRICTING = frozenset({CREDENTIAL, CARD})


@dataclass(frozen=True)
class Finding:
    tag: str  # credential, pii.card, pii.iban, pii.phone, pii.email
    kind: str  # e.g. password, aws_key, private_key; the tag again for PII
    field: str  # subject, body, log_slice
    start: int
    end: int


@dataclass(frozen=True)
class Sensitivity:
    level: Level
    tags: tuple[str, ...]
    findings: tuple[Finding, ...]


# (kind, pattern, group holding the secret); _ANCHORS says what text must hold to be worth a scan
_CREDENTIALS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    (
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----.*?"
            r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\Z)",
            re.S,
        ),
        0,
    ),
    ("aws_key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), 0),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{20,})"), 0),
    ("slack_token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), 0),
    ("api_key", re.compile(r"\bsk-(?:ant-)?[A-Za-z0-9_-]{20,}"), 0),
    ("google_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), 0),
    ("jwt", re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}"), 0),
    ("bearer_token", re.compile(r"\bBearer\s+([A-Za-z0-9._~+/-]{16,}=*)"), 1),
    ("url_password", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:([^@\s/]+)@"), 1),
    (
        "password",
        re.compile(
            r"(?i)\b(?:password|passwd|pwd|passcode|passwort|kennwort|mot de passe|contraseña"
            r"|pin)\b(\s+(?:is|ist|est|es|was|war|to|auf|now)\b|\s*[:=])?\s*[\"'“]?"
            r"([^\s\"'”]{4,})"
        ),
        2,
    ),
    (
        "secret",
        re.compile(
            r"(?i)\b(?:api[_-]?key|secret(?:[_-]?key)?|access[_-]?key|client[_-]?secret"
            r"|auth[_-]?token|token)\b\s*[:=]\s*[\"']?([A-Za-z0-9._~+/=-]{8,})"
        ),
        1,
    ),
)
_ANCHORS: dict[str, tuple[str, ...]] = {
    "private_key": ("PRIVATE KEY-----",),
    "aws_key": ("AKIA", "ASIA"),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "slack_token": ("xox",),
    "api_key": ("sk-",),
    "google_key": ("AIza",),
    "jwt": ("eyJ",),
    "bearer_token": ("Bearer",),
    "url_password": ("://",),
}
_LOWER_ANCHORS: dict[str, tuple[str, ...]] = {
    "password": ("pass", "pwd", "pin", "kennwort", "mot de passe", "contraseña"),
    "secret": ("key", "secret", "token"),
}
_PASSWORD_WORDS = frozenset(
    [
        "reset",
        "expired",
        "expires",
        "change",
        "changed",
        "changes",
        "forgot",
        "forgotten",
        "locked",
        "lock",
        "does",
        "doesn't",
        "did",
        "didn't",
        "not",
        "no",
        "is",
        "has",
        "have",
        "was",
        "will",
        "for",
        "policy",
        "manager",
        "field",
        "prompt",
        "again",
        "every",
        "sync",
        "works",
        "work",
        "working",
        "incorrect",
        "wrong",
        "invalid",
        "request",
        "required",
        "please",
    ]
)
_CARD = re.compile(r"\d(?:[ -]?\d){12,18}")
_IBAN = re.compile(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?")
_PHONE = re.compile(
    r"(?:(?<=[\s:(])|^)(\+\d{1,3}[\s.-]?)?\(?\d{2,5}\)?(?:[\s.-]?\d{2,5}){1,4}(?!\w|\.\d)"
)
_PHONE_CONTEXT = re.compile(
    r"(?i)(phone|tel|mobile|cell|call me|reach me|telefon|handy|mobil|téléphone|portable"
    r"|teléfono|móvil|celular)\W{0,20}$"
)
_PHONE_WORDS = re.compile(
    r"phone|tel|mobil|cell|call me|reach me|handy|portable|teléfono|móvil|celular"
)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,24}\b")
_PLACEHOLDERS = {CARD: "[CARD]", IBAN: "[IBAN]", PHONE: "[PHONE]", EMAIL: "[EMAIL]"}


def scan(texts: Mapping[str, str]) -> Sensitivity:
    """Scan each named text (subject, body, log_slice) and grade the whole."""
    findings = tuple(finding for field, text in texts.items() for finding in scan_text(text, field))
    tags = tuple(sorted({finding.tag for finding in findings}))
    level: Level = (
        "restricted" if RESTRICTING.intersection(tags) else "internal" if tags else "public"
    )
    return Sensitivity(level, tags, findings)


def scan_text(text: str, field: str) -> list[Finding]:
    found: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def add(tag: str, kind: str, start: int, end: int) -> None:
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            return  # already inside an earlier, more specific finding
        taken.append((start, end))
        found.append(Finding(tag, kind, field, start, end))

    lower = text.lower()
    for kind, pattern, group in _CREDENTIALS:
        if kind in _ANCHORS and not any(anchor in text for anchor in _ANCHORS[kind]):
            continue
        if kind in _LOWER_ANCHORS and not any(a in lower for a in _LOWER_ANCHORS[kind]):
            continue
        for match in pattern.finditer(text):
            if kind == "password" and not _looks_like_password(match.group(1), match.group(2)):
                continue
            add(CREDENTIAL, kind, match.start(group), match.end(group))
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if (
            _isolated(text, match.start(), match.end(), "-")
            and luhn_valid(digits)
            and len(set(digits)) > 1
        ):
            add(CARD, CARD, match.start(), match.end())
    for match in _IBAN.finditer(text):
        if _isolated(text, match.start(), match.end(), "") and iban_valid(match.group()):
            add(IBAN, IBAN, match.start(), match.end())
    for match in _EMAIL.finditer(text) if "@" in text else ():
        add(EMAIL, EMAIL, match.start(), match.end())
    for match in _PHONE.finditer(text) if "+" in text or _PHONE_WORDS.search(lower) else ():
        digits = re.sub(r"\D", "", match.group())
        context = _PHONE_CONTEXT.search(text[max(0, match.start() - 40) : match.start()])
        if 8 <= len(digits) <= 15 and (match.group().startswith("+") or context):
            add(PHONE, PHONE, match.start(), match.end())
    return sorted(found, key=lambda finding: finding.start)


def _isolated(text: str, start: int, end: int, glue: str) -> bool:
    """No letter, digit (or glue character) directly before or after."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or before in glue or after.isalnum() or after in glue)


def _looks_like_password(connector: str | None, token: str) -> bool:
    """'password: hunter2' or 'password is Summer2024!' yes; 'password reset' no."""
    if token.lower().strip(".,;:!?") in _PASSWORD_WORDS:
        return False
    if connector:
        return True
    has_digit_or_symbol = bool(re.search(r"[\d\W_]", token.strip(".,;:!?")))
    mixed_case = token != token.lower() and token != token.upper() and not token.istitle()
    return has_digit_or_symbol or mixed_case


def redact(text: str, findings: Iterable[Finding]) -> str:
    """Replace each finding by a typed placeholder such as [CREDENTIAL:password] or [CARD]."""
    result = text
    for finding in sorted(findings, key=lambda f: f.start, reverse=True):
        placeholder = _PLACEHOLDERS.get(finding.tag, f"[CREDENTIAL:{finding.kind}]")
        result = result[: finding.start] + placeholder + result[finding.end :]
    return result


def scrub(text: str, tags: Iterable[str]) -> str:
    """Scan a text afresh and replace what is found under `tags` (credentials always)."""
    wanted = {CREDENTIAL, *tags}
    return redact(text, [f for f in scan_text(text, "text") if f.tag in wanted])


def findings_in(findings: Iterable[Finding], field: str) -> Iterator[Finding]:
    return (finding for finding in findings if finding.field == field)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1
