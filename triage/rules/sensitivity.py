"""Find credentials and personal data in a ticket, and say where, so later tiers can redact.

A credential or a card number makes the ticket `restricted`: it never leaves the machine as
written. Findings carry positions, never the values themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from triage.rules.credentials import SHAPES
from triage.rules.phones import PHONE_DIGITS, find_phones
from triage.rules.shapes import Shape, secret_span
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


_CARD = re.compile(r"\d(?:[ -]?\d){12,18}")
_IBAN = re.compile(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?")
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


# anchor -> the table's rows that need it, so that a text is checked for each anchor once
_ROWS_BY_ANCHOR: dict[str, list[int]] = {}
for _row, _shape in enumerate(SHAPES):
    for _anchor in _shape.anchors:
        _ROWS_BY_ANCHOR.setdefault(_anchor, []).append(_row)

# Letters from the rarest to the commonest in running text (English letter frequencies).
_LETTERS_BY_RARITY = "qjzxkvbpygfwmucldrhsnioate"


def _gate(anchor: str) -> str:
    """The character of an anchor least likely to be in a text: a sign or digit before any
    letter, a letter outside ASCII before one inside, then by rarity."""
    return min(
        anchor,
        key=lambda char: (char.isalpha(), _LETTERS_BY_RARITY.find(char)),
    )


# gate character -> the anchors that hold it (with their rows): a text without the character
# holds none of them, so one test spares a dozen ("_" gates every "ghp_", "sk_live_" ...).
_ANCHORS_BY_GATE: dict[str, list[tuple[str, list[int]]]] = {}
for _anchor, _rows in _ROWS_BY_ANCHOR.items():
    _ANCHORS_BY_GATE.setdefault(_gate(_anchor), []).append((_anchor, _rows))


def shapes_in(lower: str) -> list[Shape]:
    """The table's rows worth trying on a lower-cased text, in table order."""
    rows = {
        row
        for gate, anchors in _ANCHORS_BY_GATE.items()
        if gate in lower
        for anchor, wanted in anchors
        if anchor in lower
        for row in wanted
    }
    return [SHAPES[row] for row in sorted(rows)]


_CARD_DIGITS = 13  # the fewest digits _CARD reads


def may_hold_digits(text: str, count: int) -> bool:
    """False where the text has fewer than `count` digits (counted without a regular
    expression; a text with other than ASCII characters may hold other digits: True)."""
    return not text.isascii() or sum(map(text.count, "0123456789")) >= count


# "pw:abcd": no text shorter holds a finding (a card or an IBAN needs 13 digits or more)
_SHORTEST_FINDING = 7


def scan_text(text: str, field: str) -> list[Finding]:
    if len(text) < _SHORTEST_FINDING:
        return []
    found: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def add(tag: str, kind: str, start: int, end: int) -> None:
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            return  # already inside an earlier, more specific finding
        taken.append((start, end))
        found.append(Finding(tag, kind, field, start, end))

    lower = text.lower()
    for shape in shapes_in(lower):
        for match in shape.found(text, lower):
            start, end = secret_span(match)
            add(CREDENTIAL, shape.name, start, end)
    for match in _CARD.finditer(text) if may_hold_digits(text, _CARD_DIGITS) else ():
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
    for start, end in find_phones(text) if may_hold_digits(text, PHONE_DIGITS) else ():
        add(PHONE, PHONE, start, end)
    return sorted(found, key=lambda finding: finding.start)


# How far past a cap a secret that straddles it is looked for (a key block runs to the end),
# and how far before it such a secret can begin: only that window is scanned, so a cut costs
# the same however long the text.
_CUT_LOOKAHEAD = 4096
_CUT_LOOKBEHIND = 8192


def keep_whole(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, or a little further where a secret (a credential, a
    card number, an IBAN...) straddles the cap: scanned before it is cut, so what is kept holds
    the whole secret, which the scan of the kept text finds and masks, never a part that no
    shape recognises any more."""
    if len(text) <= limit:
        return text
    offset = max(0, limit - _CUT_LOOKBEHIND)
    for finding in scan_text(text[offset : limit + _CUT_LOOKAHEAD], "text"):
        if offset + finding.start < limit < offset + finding.end:
            return text[: offset + finding.end]
    return text[:limit]


def _isolated(text: str, start: int, end: int, glue: str) -> bool:
    """No letter, digit (or glue character) directly before or after."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or before in glue or after.isalnum() or after in glue)


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
