"""Phone numbers in ticket text, in the shapes people write them in signatures and call-back
requests, in the four languages: +49 170 1234567, 0049 40 123456, (312) 555-0148,
Tél. +33 4 72 41 18 90, 04.72.41.18.90, Rückruf 040 3290 1183, M: 07700 900731.

A number's shape alone is enough when it is international (+ or 00), North American, or a
national number with a leading trunk 0 written in groups; any other digit run counts only
after a word that says phone ("tel", "Handy", "llámame"...). Dates, times, IP addresses,
order numbers and short extensions are not phone numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Groups of digits joined by one separator; a group may be an area code in brackets, which
# needs no separator before it ("+49(0)40 123456"). The first group may be long (no
# separators at all), so a digit run has one reading only.
_GROUP = r"(?:\(\d{1,5}\)\d{0,15}|\d{1,15})"
_SEPARATOR = r"(?:[ .\-/]|\s-\s|\s/\s)"
_CANDIDATE = re.compile(
    rf"(?:(?<=:)\+|(?<![\w+.,/=:-])(?:\+\s?|\b|(?=\()))(?:{_GROUP})"
    rf"(?:{_SEPARATOR}?(?=\(){_GROUP}|{_SEPARATOR}{_GROUP}){{0,7}}(?![\w]|[.,/-]?\d)"
)
# Room for 8 digits, or no phone: [+(]?\d[\d ().\-/]{6,}, written to open with one character
# class (a + or bracket must be followed by a digit) so the engine skips to where it can begin.
_RUN = re.compile(r"[+(\d](?:(?<=\d)|\d)[\d ().\-/]{6,}")
_NORTH_AMERICAN = re.compile(r"(?:\+?1[ .-]?)?\(\d{3}\)\s?\d{3}[ .-]\d{4}|\d{3}-\d{3}-\d{4}")
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})\b")
_YEAR_MONTH_DAY = re.compile(r"\b\d{4}[./-](\d{1,2})[./-](\d{1,2})\b")
# The word right before a number that makes it an identifier, not a phone number.
_IDENTIFIER_WORD = re.compile(
    r"(?i)\b(?:po|order|invoice|ticket|id|ref|nr|no|number|nummer|n[uú]mero|contract|vertrag"
    r"|account|konto|customer|kunden\w*|employee|personal\w*|serial|sn|asset|inc|case"
    r"|bestell\w*|rechnung\w*|auftrag\w*|facture|pedido|factura)\W{0,3}$"
)
_CONTEXT = re.compile(
    r"(?i)(?:phone|tel|tél|fon|mobile?|mobil|mob|cell|handy|portable|fax|whatsapp|signal"
    r"|call|ring|reach|text\s+me|rückruf|zurückruf|anruf|erreichbar|durchwahl|melden"
    r"|téléphone|appel\w*|joindre|joignable|rappel\w*|teléfono|móvil|celular|ll[aá]m\w*"
    r"|contacto)\W{0,20}(?:\w+\W{1,3}){0,2}$"
)

PHONE_DIGITS = 8  # the fewest digits of a phone number: a text with fewer holds none


def find_phones(text: str) -> Iterator[tuple[int, int]]:
    """Where each phone number is (start, end)."""
    end = 0
    # The candidate pattern opens with a look-behind, slow to search with: it is tried only
    # where a run of digits (or a + or a bracket before one) begins.
    for run in _RUN.finditer(text):
        first_digit = run.start() + (run.group()[0] in "+(")
        for start in dict.fromkeys((run.start(), first_digit)):
            match = _CANDIDATE.match(text, start) if start >= end else None
            if match is None:
                continue
            end = match.end()
            if _is_phone(match.group(), text[max(0, start - 40) : start]):
                yield start, end
            break


def _is_phone(number: str, before: str) -> bool:
    digits = re.sub(r"\D", "", number)
    if not PHONE_DIGITS <= len(digits) <= 15 or _holds_a_date(number):
        return False
    if number.startswith("+"):
        return True  # international, whatever word comes before it
    if _IDENTIFIER_WORD.search(before):
        return False
    if number.startswith("00") and len(digits) >= 10:
        return True
    if _NORTH_AMERICAN.fullmatch(number):
        return True
    grouped = bool(re.search(r"[ /-]", number))
    if number.startswith("0") and grouped and 9 <= len(digits) <= 13:
        return True  # a national number with its trunk 0, written in groups
    if number.count(".") >= 3 and not re.search(r"[ /-]", number):
        return number.startswith("0") and len(digits) == 10  # 04.72.41.18.90, not an IP
    return bool(_CONTEXT.search(before))


def _holds_a_date(number: str) -> bool:
    """03.03.2025, 2025-03-12, 12/03/25: a day and a month that can be one."""
    for match in _DAY_MONTH_YEAR.finditer(number):
        first, second = int(match.group(1)), int(match.group(2))
        if min(first, second) >= 1 and min(first, second) <= 12 and max(first, second) <= 31:
            return True  # day.month or month/day
    return any(
        1 <= int(m.group(1)) <= 12 and 1 <= int(m.group(2)) <= 31
        for m in _YEAR_MONTH_DAY.finditer(number)
    )
