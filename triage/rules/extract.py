"""Regular-expression extraction of the facts a technician looks for first."""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from triage.rules.starts import Starts
from triage.rules.text import Terms, TextIndex

MAX_PER_FIELD = 20

_FILE_SUFFIXES = frozenset(
    [
        "txt",
        "log",
        "exe",
        "dll",
        "msi",
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "zip",
        "rar",
        "7z",
        "py",
        "json",
        "xml",
        "html",
        "htm",
        "eml",
        "csv",
        "ini",
        "cfg",
        "conf",
        "sh",
        "bat",
        "ps1",
        "tmp",
        "dat",
        "bak",
        "jar",
        "js",
        "css",
        "md",
        "vbs",
        "lnk",
        "iso",
        "img",
    ]
)
# Word boundaries are checked in Python (_standalone). A name starts at a label's start, never
# inside a run of letters, so a long run is read once, not once per letter.
_FQDN = re.compile(r"(?<![a-z0-9])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}", re.I)
_TOKEN_SPLIT = re.compile(r"[()<>\[\]{},;'\"`|=]+")
_UNC = re.compile(r"\\\\([A-Za-z0-9][\w.-]{0,62})\\")
_NAMED_HOST = re.compile(
    r"(?:host(?:name)?|server|computer|machine|rechner|serveur|servidor)\s*+(?:[:=]\s*+)?"
    r"([A-Za-z][A-Za-z0-9-]{2,62})\b",
    re.I,
)
_NAMED_HOST_STARTS = Starts(_NAMED_HOST, ("host", "serv", "comput", "machin", "rechn"))
_IPV4 = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
_IPV6 = re.compile(r"[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}", re.I)
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")  # what [0-9a-f] reads with re.I
_CODE_AFTER_WORD = re.compile(
    r"(?i)(?:error|fehler|erreur|code)(?:\s++code)?\s*+(?:[:#]\s*+)?(-?\d{3,6})\b"
)
_HTTP_STATUS = re.compile(r"(?i)HTTP(?:/\d(?:\.\d)?)?\s++(?:status\s++)?([45]\d\d)\b")
# (pattern, what the text must contain for the pattern to be worth running)
_ERROR_CODES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"\b0x[0-9A-Fa-f]{4,8}\b"), ("0x",)),
    (re.compile(r"\bAADSTS\d{4,8}\b"), ("AADSTS",)),
    (
        re.compile(r"\b(?:ORA|TNS|SQL|ERR|NET|KB)-?\d{3,7}\b"),
        ("ORA", "TNS", "SQL", "ERR", "NET", "KB"),
    ),
    (re.compile(r"\bERR_[A-Z0-9_]{3,40}\b"), ("ERR_",)),
    (re.compile(r"\b[A-Z]{2,}(?:_[A-Z0-9]+){2,}\b"), ("_",)),  # DRIVER_IRQL_NOT_LESS_OR_EQUAL
    (_CODE_AFTER_WORD, ("rror", "RROR", "ehler", "rreur", "ode")),
    (_HTTP_STATUS, ("HTTP", "http")),
)
_APPLICATIONS = {
    # name as written: case-insensitive unless it is also an everyday word
    "Outlook": False,
    "Excel": False,
    "PowerPoint": False,
    "OneDrive": False,
    "SharePoint": False,
    "Exchange": True,
    "Zoom": True,
    "Webex": False,
    "Slack": True,
    "SAP": True,
    "Salesforce": False,
    "Jira": False,
    "Confluence": True,
    "Chrome": False,
    "Firefox": False,
    "Safari": False,
    "Acrobat": False,
    "AnyConnect": False,
    "GlobalProtect": False,
    "FortiClient": False,
    "OpenVPN": False,
    "WireGuard": False,
    "Citrix": False,
    "VMware": False,
    "Thunderbird": False,
    "Dropbox": False,
    "Okta": False,
    "Active Directory": False,
    "Azure AD": False,
    "Entra ID": False,
    "GitLab": False,
    "GitHub": False,
    "Docker": False,
    "PuTTY": False,
    "Remote Desktop": False,
    "Word": True,
    "Teams": True,
    "Edge": True,
    "Office 365": False,
    "Microsoft 365": False,
    "Windows": True,
    "macOS": False,
    "Visual Studio": False,
    "Photoshop": False,
    "Skype": False,
}
_APPS_ANY_CASE = Terms([name for name, cased in _APPLICATIONS.items() if not cased])
_APPS_CASED = Terms([name for name, cased in _APPLICATIONS.items() if cased], case_sensitive=True)
_ASSET_TAG = re.compile(r"\b(?:ASSET|INV|PC|LT|NB|WS|DT|TAG)[-_#:]?\s?\d{3,10}\b", re.I)
_MODELS = (
    "ThinkPad",
    "Latitude",
    "EliteBook",
    "ProBook",
    "MacBook",
    "iMac",
    "Surface",
    "iPhone",
    "iPad",
    "Galaxy",
    "Pixel",
    "OptiPlex",
    "XPS",
    "Precision",
    "ZBook",
    "LaserJet",
    "OfficeJet",
    "DeskJet",
    "imageRUNNER",
    "WorkCentre",
    "IdeaPad",
    "ThinkCentre",
    "Yubikey",
)
_MODEL = re.compile(
    r"\b(?:"
    + "|".join(_MODELS)
    .replace("MacBook", "MacBook(?: Pro| Air)?")
    .replace("Surface", "Surface(?: Pro| Laptop)?")
    + r")(?:\s+[A-Z]?\d[\w-]{0,10})?\b"
)
_DEVICES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        _ASSET_TAG,
        (
            "asset",
            "inv",
            "pc",
            "lt",
            "nb",
            "ws",
            "dt",
            "tag",
            "ASSET",
            "INV",
            "PC",
            "LT",
            "NB",
            "WS",
            "DT",
            "TAG",
            "Asset",
            "Inv",
            "Tag",
        ),
    ),
    (
        _MODEL,
        (
            "Think",
            "Latitude",
            "Book",
            "iMac",
            "Surface",
            "iPhone",
            "iPad",
            "Galaxy",
            "Pixel",
            "OptiPlex",
            "XPS",
            "Precision",
            "Jet",
            "imageRUNNER",
            "WorkCentre",
            "IdeaPad",
            "Yubikey",
        ),
    ),
    (
        re.compile(
            r"(?i)\b(?:serial(?:\s++(?:number|no\.?))?|S/N)\s*+(?:[:#]\s*+)?([A-Z0-9][A-Z0-9-]{4,19})\b"
        ),
        ("serial", "Serial", "SERIAL", "S/N", "s/n"),
    ),
)

# Where the case-insensitive patterns above can begin (each match begins with one of these
# words): they are tried there only.
_STARTS = {
    _CODE_AFTER_WORD: Starts(_CODE_AFTER_WORD, ("error", "fehler", "erreur", "code")),
    _HTTP_STATUS: Starts(_HTTP_STATUS, ("http",)),
    _ASSET_TAG: Starts(_ASSET_TAG, ("asset", "inv", "pc", "lt", "nb", "ws", "dt", "tag")),
    _MODEL: Starts(_MODEL, _MODELS, case_sensitive=True),
}


@dataclass(frozen=True)
class Fields:
    requester: str | None = None
    hosts: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    error_codes: tuple[str, ...] = ()
    applications: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()


def extract_fields(
    texts: Iterable[str], requester: str | None, index: TextIndex | None = None
) -> Fields:
    """`index`, where the caller has one, is the TextIndex of the texts joined by newlines
    (TextIndex.combined of theirs): their words are then not split a second time."""
    joined = "\n".join(texts)
    if index is None or index.text != joined:
        index = TextIndex(joined)
    lower = joined.lower()
    return Fields(
        requester=requester,
        hosts=_unique(_hosts(joined, lower)),
        ips=_unique(_ips(joined)),
        error_codes=_unique(_groups(_ERROR_CODES, joined, lower)),
        applications=_unique([*_APPS_ANY_CASE.find(index), *_APPS_CASED.find(index)]),
        devices=_unique(_groups(_DEVICES, joined, lower)),
    )


def _hosts(text: str, lower: str) -> Iterable[str]:
    # Host names are whitespace-separated tokens with a dot: splitting first is far cheaper
    # than scanning the whole text with the host pattern (and a list comprehension keeps the
    # tokens with a dot at C speed).
    for token in [token for token in text.split() if "." in token]:
        if "@" in token:
            continue  # an e-mail address
        if "://" in token:
            token = token.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
        for piece in _TOKEN_SPLIT.split(token):
            host = piece.strip(".:!?*_-/\\").lower()
            if (
                "." in host
                and _FQDN.fullmatch(host)
                and host.rsplit(".", 1)[1] not in _FILE_SUFFIXES
            ):
                yield host
    if "\\\\" in text:
        yield from (match.group(1).lower() for match in _UNC.finditer(text))
    for match in _NAMED_HOST_STARTS.finditer(text, lower):
        host = match.group(1)
        if any(char.isdigit() or char == "-" for char in host):
            yield host.lower()


def _ips(text: str) -> Iterable[str]:
    seen: set[str] = set()
    candidates: Iterator[re.Match[str]] = (
        m for m in _ipv4_matches(text) if _standalone(text, m, before=".", after=".")
    )
    if "::" in text or text.count(":") >= 7:
        candidates = itertools.chain(
            candidates, (m for m in _ipv6_matches(text) if m.group().count(":") >= 2)
        )
    for match in candidates:
        if match.group() in seen:
            continue
        seen.add(match.group())
        try:
            yield str(ipaddress.ip_address(match.group()))
        except ValueError:
            continue


def _ipv4_matches(text: str) -> Iterator[re.Match[str]]:
    """The same matches as `_IPV4.finditer(text)`, tried only where they can begin: after the
    digits (up to three) right before a dot, as _ipv6_matches does before a colon."""
    end = 0
    dot = text.find(".")
    while dot >= 0:
        start = dot
        while start > max(dot - 3, end) and text[start - 1].isdecimal():
            start -= 1
        match = _IPV4.match(text, start) if start < dot else None
        if match is not None:
            end = match.end()
            yield match
        dot = text.find(".", max(dot + 1, end))


def _ipv6_matches(text: str) -> Iterator[re.Match[str]]:
    """The same matches as `_IPV6.finditer(text)`, tried only where they can begin.

    A match begins with at most four hex digits and a colon, so each colon has one place to
    try: after the hex digits (up to four) right before it. Trying the pattern elsewhere
    finds nothing, and trying there finds what a search would (the text from the colon on
    decides)."""
    end = 0
    colon = text.find(":")
    while colon >= 0:
        start = colon
        while start > max(colon - 4, end) and text[start - 1] in _HEX_DIGITS:
            start -= 1
        match = _IPV6.match(text, start)
        if match is not None:
            end = match.end()
            yield match
        colon = text.find(":", max(colon + 1, end))


def _standalone(text: str, match: re.Match[str], before: str, after: str) -> bool:
    """Not glued to a word (or to the given characters) on either side."""
    start, end = match.span()
    if start and (text[start - 1].isalnum() or text[start - 1] in before + "_"):
        return False
    if end < len(text) and (text[end].isalnum() or text[end] in "_" + after):
        return False
    return not (
        after == "." and end + 1 < len(text) and text[end] == "." and text[end + 1].isdigit()
    )


def _groups(
    patterns: Iterable[tuple[re.Pattern[str], tuple[str, ...]]], text: str, lower: str
) -> Iterable[str]:
    for pattern, anchors in patterns:
        if not any(anchor in text for anchor in anchors):
            continue
        starts = _STARTS.get(pattern)
        matches = pattern.finditer(text) if starts is None else starts.finditer(text, lower)
        for match in matches:
            yield (match.group(1) if pattern.groups else match.group()).strip()


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
            if len(seen) >= MAX_PER_FIELD:
                break
    return tuple(seen)
