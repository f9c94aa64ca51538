"""Regular-expression extraction of the facts a technician looks for first."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_PER_FIELD = 20

_FILE_SUFFIXES = frozenset(
    "txt log exe dll msi pdf doc docx xls xlsx ppt pptx png jpg jpeg gif zip rar 7z py json xml "
    "html htm eml csv ini cfg conf sh bat ps1 tmp dat bak jar js css md vbs lnk iso img".split()
)
_FQDN = re.compile(
    r"(?<![\w@.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(?![\w-]|\.\w)",
    re.I,
)
_UNC = re.compile(r"\\\\([A-Za-z0-9][\w.-]{0,62})\\")
_NAMED_HOST = re.compile(
    r"\b(?:host(?:name)?|server|computer|machine|rechner|serveur|servidor)\s*[:=]?\s*"
    r"([A-Za-z][A-Za-z0-9-]{2,62})\b",
    re.I,
)
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-f]{1,4}:){2,7}(?::|[0-9a-f]{1,4})(?![\w:])", re.I)
_ERROR_CODES = (
    re.compile(r"\b0x[0-9A-Fa-f]{4,8}\b"),
    re.compile(r"\bAADSTS\d{4,8}\b"),
    re.compile(r"\b(?:ORA|TNS|SQL|ERR|NET|KB)-?\d{3,7}\b"),
    re.compile(r"\bERR_[A-Z0-9_]{3,40}\b"),
    re.compile(r"\b[A-Z]{2,}(?:_[A-Z0-9]+){2,}\b"),  # DRIVER_IRQL_NOT_LESS_OR_EQUAL
    re.compile(r"(?i)\b(?:error|fehler|erreur|code)(?:\s+code)?\s*[:#]?\s*(-?\d{3,6})\b"),
    re.compile(r"(?i)\bHTTP(?:/\d(?:\.\d)?)?\s+(?:status\s+)?([45]\d\d)\b"),
)
_APPLICATIONS = {
    # name as written: case-insensitive unless it is also an everyday word
    "Outlook": False, "Excel": False, "PowerPoint": False, "OneDrive": False,
    "SharePoint": False, "Exchange": True, "Zoom": True, "Webex": False, "Slack": True,
    "SAP": True, "Salesforce": False, "Jira": False, "Confluence": True, "Chrome": False,
    "Firefox": False, "Safari": False, "Acrobat": False, "AnyConnect": False,
    "GlobalProtect": False, "FortiClient": False, "OpenVPN": False, "WireGuard": False,
    "Citrix": False, "VMware": False, "Thunderbird": False, "Dropbox": False, "Okta": False,
    "Active Directory": False, "Azure AD": False, "Entra ID": False, "GitLab": False,
    "GitHub": False, "Docker": False, "PuTTY": False, "Remote Desktop": False, "Word": True,
    "Teams": True, "Edge": True, "Office 365": False, "Microsoft 365": False, "Windows": True,
    "macOS": False, "Visual Studio": False, "Photoshop": False, "Skype": False,
}
_APP_PATTERN = re.compile(
    "|".join(
        rf"(?P<a{index}>(?<!\w){'' if case else '(?i:'}{re.escape(name)}{'' if case else ')'}(?!\w))"
        for index, (name, case) in enumerate(_APPLICATIONS.items())
    )
)
_APP_NAMES = list(_APPLICATIONS)
_DEVICES = (
    re.compile(r"\b(?:ASSET|INV|PC|LT|NB|WS|DT|TAG)[-_#:]?\s?\d{3,10}\b", re.I),
    re.compile(
        r"\b(?:ThinkPad|Latitude|EliteBook|ProBook|MacBook(?: Pro| Air)?|iMac|Surface(?: Pro| Laptop)?"
        r"|iPhone|iPad|Galaxy|Pixel|OptiPlex|XPS|Precision|ZBook|LaserJet|OfficeJet|DeskJet"
        r"|imageRUNNER|WorkCentre|IdeaPad|ThinkCentre|Yubikey)(?:\s+[A-Z]?\d[\w-]{0,10})?\b"
    ),
    re.compile(r"(?i)\b(?:serial(?:\s+(?:number|no\.?))?|S/N)\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{4,19})\b"),
)


@dataclass(frozen=True)
class Fields:
    requester: str | None = None
    hosts: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    error_codes: tuple[str, ...] = ()
    applications: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()


def extract_fields(texts: Iterable[str], requester: str | None) -> Fields:
    joined = "\n".join(texts)
    return Fields(
        requester=requester,
        hosts=_unique(_hosts(joined)),
        ips=_unique(_ips(joined)),
        error_codes=_unique(_groups(_ERROR_CODES, joined)),
        applications=_unique(
            _APP_NAMES[int(str(m.lastgroup)[1:])] for m in _APP_PATTERN.finditer(joined)
        ),
        devices=_unique(_groups(_DEVICES, joined)),
    )


def _hosts(text: str) -> Iterable[str]:
    for match in _FQDN.finditer(text):
        host = match.group(1).lower()
        if host.rsplit(".", 1)[1] not in _FILE_SUFFIXES and not host.replace(".", "").isdigit():
            yield host
    for pattern in (_UNC, _NAMED_HOST):
        for match in pattern.finditer(text):
            host = match.group(1)
            if pattern is _UNC or any(char.isdigit() or char == "-" for char in host):
                yield host.lower()


def _ips(text: str) -> Iterable[str]:
    for pattern in (_IPV4, _IPV6):
        for match in pattern.finditer(text):
            try:
                yield str(ipaddress.ip_address(match.group()))
            except ValueError:
                continue


def _groups(patterns: Iterable[re.Pattern[str]], text: str) -> Iterable[str]:
    for pattern in patterns:
        for match in pattern.finditer(text):
            yield (match.group(1) if pattern.groups else match.group()).strip()


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
            if len(seen) >= MAX_PER_FIELD:
                break
    return tuple(seen)
