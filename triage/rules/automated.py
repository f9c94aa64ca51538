"""Mail written by machines, not people: auto-replies, bounces, loops and bulk mail (RFC 3834).

Such mail is `ignored` with the reason, so the helpdesk never answers a robot. A monitoring
system's alert (Nagios, Zabbix, PRTG...) is machine-written too, but it is a ticket.
"""

from __future__ import annotations

import re

from triage.rules.scope import is_alert_shaped
from triage.ticket import Ticket

# RFC 5321 section 6.3: more than this many Received: fields means the mail is looping.
MAX_HOPS = 30
_DAEMON_SENDER = re.compile(r"^(mailer-daemon|post_?master|mail-daemon|mailerdaemon)@", re.I)
_DAEMON_NAME = re.compile(r"mail(er)?[ -]?(delivery)?[ -]?(daemon|subsystem)|postmaster", re.I)
_AUTOREPLY_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|auto-response|out of (the )?office"
    r"( reply| autoreply)?|abwesenheitsnotiz|automatische antwort|réponse automatique"
    r"|respuesta automática)\s*:",
    re.I,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliverable|undelivered mail returned to sender|delivery status notification"
    r" \((failure|delay)\)|mail delivery failed|returned mail|delivery failure"
    r"|failure notice|unzustellbar|non remis|no se puede entregar)\b",
    re.I,
)


# RFC 2369 / RFC 2919 list headers, RFC 8058 one-click unsubscribe, and the campaign headers
# of the big bulk senders (Google's Feedback-ID, Salesforce Marketing Cloud, SendGrid,
# Mailchimp, Mailgun, Amazon SES, the CSA complaints address).
_LIST_HEADERS = (
    "list-id", "list-unsubscribe", "list-unsubscribe-post", "list-post", "list-help",
    "list-subscribe", "list-archive", "list-owner", "mailing-list", "x-mailing-list",
    "x-beenthere", "x-list-host", "x-listprocessor-version", "x-list",
)  # fmt: skip
_CAMPAIGN_HEADERS = (
    "feedback-id", "x-campaign", "x-campaignid", "x-campaign-id", "x-csa-complaints",
    "x-sfmc-stack", "x-sg-eid", "x-mc-user", "x-mailchimp-campaign", "x-mailgun-tag",
    "x-mailgun-campaign-id", "x-ses-outgoing", "x-marketo-id", "x-mailer-recptid",
    "x-rpcampaign", "x-newsletter", "x-emarsys-identify",
)  # fmt: skip


def bulk_headers(ticket: Ticket) -> str | None:
    """ "bulk mail: <header>" for list and campaign mail, told by its headers; else None."""
    if ticket.format != "mail":
        return None
    names = {name for name, _ in ticket.headers}
    for name in (*_LIST_HEADERS, *_CAMPAIGN_HEADERS):
        if name in names:
            return f"bulk mail: {_CASED.get(name, name)} header"
    precedence = (ticket.header("precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return f"bulk mail: Precedence: {precedence}"
    if ticket.sender and _BULK_SENDER.search(ticket.sender):
        return "bulk mail: a newsletter or list sender address"
    return None


# newsletter@..., mailer@..., ...@lists.example.org, ...@news.example.com
_BULK_WORDS = r"(?:newsletters?|news|mailer|mailings?|lists?|campaigns?|marketing|bounces?)"
_BULK_SENDER = re.compile(rf"^{_BULK_WORDS}@|@(?:[\w-]+\.)*?{_BULK_WORDS}\.", re.IGNORECASE)


_CASED = {
    "list-id": "List-Id",
    "list-unsubscribe": "List-Unsubscribe",
    "feedback-id": "Feedback-ID",
}


def detect_automated(ticket: Ticket, colleague: bool = False) -> str | None:
    """The reason this mail is machine-generated, or None for a person's mail. A colleague's
    mail (`colleague`: from the organisation's own domains) is not taken for bulk mail by its
    list headers alone: a helpdesk address that is itself a group adds them to every mail."""
    if ticket.format != "mail":
        return None
    declared = ticket.header("content-type") or ""
    content_type = declared.split(";")[0].strip().lower() or ticket.content_type
    report_type = _parameter(declared, "report-type")
    if content_type == "multipart/report":
        if report_type == "delivery-status":
            return "bounce: delivery status notification (multipart/report)"
        if report_type == "disposition-notification":
            return "read receipt (disposition-notification)"
        if report_type == "feedback-report":
            return "abuse feedback report (ARF)"
        return f"automatic report (multipart/report; report-type={report_type or '?'})"
    if ticket.sender and _DAEMON_SENDER.match(ticket.sender):
        return f"bounce: sent by {ticket.sender.split('@')[0]}"
    if ticket.sender_name and _DAEMON_NAME.search(ticket.sender_name):
        return "bounce: sent by a mail system"
    if is_alert_shaped(ticket.subject, ticket.body):
        return None  # a monitoring system's alert is machine-written, yet it is a ticket
    auto_submitted = (ticket.header("auto-submitted") or "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"auto-reply: Auto-Submitted: {auto_submitted}"
    for name in ("x-autoreply", "x-autorespond", "x-auto-reply", "x-autoresponder"):
        if ticket.header(name) is not None:
            return f"auto-reply: {name} header"
    precedence = (ticket.header("precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"bulk mail: Precedence: {precedence}"
    if not colleague:
        listed = bulk_headers(ticket)
        if listed:
            return listed
    if len(ticket.header_all("received")) > MAX_HOPS:
        return f"loop: more than {MAX_HOPS} Received: hops"
    if ticket.header("x-loop") is not None:
        return "loop: X-Loop header"
    if _BOUNCE_SUBJECT.match(ticket.subject):
        return "bounce: delivery failure subject"
    if _AUTOREPLY_SUBJECT.match(ticket.subject):
        return "auto-reply: automatic reply subject"
    return_path = ticket.header("return-path")
    if return_path is not None and return_path.strip() in ("<>", ""):
        return "auto-reply: null Return-Path (<>)"
    return None


def _parameter(header: str, name: str) -> str | None:
    match = re.search(rf"{name}\s*=\s*\"?([\w.-]+)", header, re.I)
    return match.group(1).lower() if match else None


def relayed_id(ticket: Ticket) -> str | None:
    """The ticket id in an X-Triage-Id header (what the relay adds to every mail it sends);
    a loop only when that ticket is ours (the pipeline looks it up): anyone can write the
    header, and a forged one must not hide a real ticket."""
    match = _OUR_ID.match(ticket.header("x-triage-id") or "")
    return match.group(1) if match else None


_OUR_ID = re.compile(r"^\s*(t-[0-9a-f]{20})\s*$")
