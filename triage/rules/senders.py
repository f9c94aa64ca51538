"""Who sent a mail: a colleague (the organisation's own domains) or a stranger, and what the
receiving mail system already said about it (spam scores, failed authentication).

The mail system's verdicts are headers, and a sender can write any header: they are read only
to raise suspicion, never to lower it (an `X-Spam-Flag: NO` or a forged
`Authentication-Results: ... pass` clears nothing). Pure functions of the ticket.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from triage.rules.lure import domain_of, org_name
from triage.ticket import Ticket

SPAM_SCORE = 5.0  # SpamAssassin's default required score
MS_SPAM_SCL = 5  # Microsoft: SCL 5-6 spam, 7-9 high-confidence spam
# The domain of an address in a header: a@b.example, <a@b.example> (not "a@b@c").
_DOMAIN = re.compile(r"(?<![@\w.+-])[\w.+-]+@([\w-]+(?:\.[\w-]+)+)(?![\w@-])")
_AUTH = re.compile(r"\b(spf|dkim|dmarc|compauth)\s*=\s*([a-z]+)", re.IGNORECASE)
_FOREFRONT = re.compile(r"\b(SCL|SFV|CAT)\s*:\s*([A-Za-z0-9-]+)", re.IGNORECASE)
_PHISH_CATEGORIES = ("PHSH", "HPHSH", "HPHISH", "GIMP", "UIMP", "DIMP", "SPOOF")
_SPAM_CATEGORIES = ("SPM", "HSPM", "BULK", "MALW", "AMP")


def own_names(ticket: Ticket, own_domains: Iterable[str]) -> frozenset[str]:
    """The organisation's names: from the configured domains, else from where the mail was
    sent to (the helpdesk's own address) when none are configured."""
    names = {org_name(domain) for domain in own_domains if domain}
    if not names:
        for name in ("to", "cc", "delivered-to"):
            for value in ticket.header_all(name):
                names.update(org_name(domain) for domain in _DOMAIN.findall(value[:2000]))
    return frozenset(name for name in names if name)


def is_colleague(
    ticket: Ticket, own_domains: Iterable[str], names: frozenset[str] | None = None
) -> bool:
    """From the organisation's own domains, and not a forgery (SPF/DMARC not failed).
    `names`: own_names(ticket, own_domains), when the caller has them already."""
    domain = domain_of(ticket.sender)
    if names is None:
        names = own_names(ticket, own_domains)
    if not domain or org_name(domain) not in names:
        return False
    failed = failed_authentication(ticket)
    return not any(check.startswith(("dmarc=", "compauth=", "spf=fail")) for check in failed)


def failed_authentication(ticket: Ticket) -> tuple[str, ...]:
    """The checks the receiving servers recorded as failed (spf, dkim, dmarc, compauth)."""
    failed: list[str] = []
    for value in ticket.header_all("authentication-results"):
        for method, result in _AUTH.findall(value):
            method, result = method.lower(), result.lower()
            if (result in ("fail", "softfail") and method != "dkim") or result == "fail":
                entry = f"{method}={result}"
                if entry not in failed:
                    failed.append(entry)
    return tuple(failed)


def spam_verdicts(ticket: Ticket) -> tuple[str | None, tuple[str, ...]]:
    """("phishing" | "spam" | None, the verdicts in words) from the spam filters' headers."""
    found: dict[str, str] = {}  # verdict in words -> "phishing" | "spam"
    if (ticket.header("x-spam-flag") or "").strip().lower().startswith("yes"):
        found["X-Spam-Flag: YES"] = "spam"
    if (ticket.header("x-spam-status") or "").strip().lower().startswith("yes"):
        found["X-Spam-Status: Yes"] = "spam"
    score = _number(ticket.header("x-spam-score"))
    if score is not None and score >= SPAM_SCORE:
        found[f"X-Spam-Score {score:g}"] = "spam"
    action = (ticket.header("x-rspamd-action") or "").strip().lower()
    if action in ("reject", "add header", "rewrite subject", "soft reject"):
        found[f"Rspamd: {action}"] = "spam"
    scl = _number(ticket.header("x-ms-exchange-organization-scl"))
    if scl is not None and scl >= MS_SPAM_SCL:
        found[f"Microsoft SCL {scl:g}"] = "spam"
    for name in ("x-forefront-antispam-report", "x-forefront-antispam-report-untrusted"):
        fields = {k.upper(): v.upper() for k, v in _FOREFRONT.findall(ticket.header(name) or "")}
        category = fields.get("CAT", "")
        if category in _PHISH_CATEGORIES:
            found[f"Microsoft category {category}"] = "phishing"
        elif category in _SPAM_CATEGORIES or fields.get("SFV") in ("SPM", "BLK"):
            found[f"Microsoft verdict {category or fields.get('SFV')}"] = "spam"
        report_scl = _number(fields.get("SCL"))
        if report_scl is not None and report_scl >= MS_SPAM_SCL:
            found[f"Microsoft SCL {report_scl:g}"] = "spam"
    if not found:
        return None, ()
    kind = "phishing" if "phishing" in found.values() else "spam"
    return kind, tuple(found)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    match = re.match(r"(?<!\s)\s*+(-?\d++(?:\.\d++)?)", value)
    return float(match.group(1)) if match else None
