"""The acknowledgement to the requester ([ack]): whether a ticket gets one, and its bytes.

An auto-reply in the sense of RFC 3834: `Auto-Submitted: auto-replied`, `In-Reply-To` and
`References` of the original, a "Re:" subject, sent with the null envelope sender (section
3.3, `MAIL FROM:<>`: nothing bounces back to the mailbox), never to mail that is itself
automatic (section 2), never quoting the ticket. Pure: decided from the result, the mail as
the rules read it (`Inbound`) and the settings; the delivery service adds the per-address
limit, a count from the store."""

from __future__ import annotations

import quopri
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, formataddr
from fnmatch import fnmatchcase

from triage.config.delivery import AckConfig, AckTextConfig, RelayConfig
from triage.delivery.headers import ID_HEADER, address, encode_fields, one_line
from triage.delivery.mail import CRLF, folded_header, on_the_wire
from triage.records import ACK_DESTINATION, Delivery, Inbound
from triage.redaction import RESULT_TAGS
from triage.result import Result
from triage.rules.automated import detect_automated, relayed_id
from triage.rules.forward import SPAM_REPORTED
from triage.rules.scope import is_alert_shaped
from triage.rules.senders import failed_authentication, is_colleague, spam_verdicts
from triage.rules.sensitivity import EMAIL, PHONE, scrub
from triage.rules.unsolicited import PHISHING, SPAM_REASON
from triage.ticket import Ticket

# The risk reasons (triage.rules) of a report of phishing: a forwarded lure, a phishing mail
# the user describes, a click on one, a forwarded spam.
PHISHING_REPORTS = (
    "security incident: phishing",
    "security incident: the user interacted with a forwarded",
    SPAM_REPORTED,
)
# Addresses no person reads (RFC 3834 section 2 names some): no-reply, mail systems, list
# managers, bounce handlers, notification senders.
_MACHINE_ADDRESS = re.compile(
    r"^(?:[^@]*[-_.])?(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_]?daemon|mail[-_]?daemon"
    r"|post_?master|bounces?|listserv|majordomo|auto[-_.]?(?:reply|responder|mailer)"
    r"|notifications?|alerts?|newsletters?)(?:[-_.+][^@]*)?@"
    r"|^owner-|-(?:request|owner|bounces?)(?:\+[^@]*)?@",
    re.IGNORECASE,
)
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|antw|rif|r)\s*:\s*)+", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s@]{1,200}@[^<>\s@]{1,200}>")
_KEPT_REFERENCES = 10  # the oldest (the thread's root) and the newest ones
_SUBJECT_CHARS = 200


@dataclass(frozen=True)
class AckPolicy:
    """[ack] with what it is checked against: our own addresses (never answered) and the
    organisation's domains (who is a colleague)."""

    config: AckConfig
    own_addresses: frozenset[str]  # lower-cased
    own_domains: tuple[str, ...] = ()  # [senders] own_domains, else the domain of `from`

    @classmethod
    def of(
        cls,
        config: AckConfig,
        relay: RelayConfig,
        own_domains: Sequence[str] = (),
        logins: Sequence[str] = (),
    ) -> AckPolicy:
        """`logins`: the mailboxes triage reads (IMAP usernames that are addresses)."""
        own = {
            config.sender,
            relay.sender,
            *relay.default_to,
            *(to for route in relay.routes for to in route.to),
            *logins,
        }
        # Without own_domains the rules take the domains a mail was sent to, which its
        # sender writes (a Cc to their own domain); an answer is decided on ours alone.
        ours = tuple(own_domains) or (config.sender.rpartition("@")[2],)
        return cls(
            config,
            frozenset(a.strip().lower() for a in own if "@" in a),
            tuple(domain for domain in ours if domain),
        )

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    @property
    def domain(self) -> str:
        return self.config.sender.rpartition("@")[2] or "triage.invalid"


def ack_problem(config: AckConfig, relay: RelayConfig) -> str | None:
    """What keeps an enabled [ack] from sending, in words that say what to fix; else None."""
    if not config.enabled:
        return None
    if not config.sender:
        return "[ack] from is empty: set it to the helpdesk's address (the From of the replies)"
    if not relay.host.strip():
        return (
            "[relay] host is empty: acknowledgements are sent through the relay's SMTP server;"
            " set [relay] host, port, tls (and username/password)"
        )
    return None


@dataclass(frozen=True)
class AckDecision:
    """To whom an acknowledgement goes and with which text, or why none does."""

    to: str | None
    phishing: bool = False
    skipped: str = ""  # the reason, when `to` is None

    @classmethod
    def none(cls, reason: str) -> AckDecision:
        return cls(None, skipped=reason)


def decide(
    result: Result, inbound: Inbound | None, policy: AckPolicy, now: datetime
) -> AckDecision:
    """Whether this ticket's requester gets an acknowledgement (before the per-address
    limit, which the caller counts in the store)."""
    config = policy.config
    if not config.enabled:
        return AckDecision.none("disabled")
    if result.status != "triaged":
        return AckDecision.none(f"not triaged: {result.status}")
    if not any(fnmatchcase(result.source, pattern) for pattern in config.sources):
        return AckDecision.none("its source is not in [ack] sources")
    if inbound is None:
        return AckDecision.none("the input could not be read")
    if now - result.received_at > timedelta(hours=config.max_age_hours):
        return AckDecision.none("it arrived more than max_age_hours ago")
    to = address(result.sender)
    if to is None or not to.isascii():
        return AckDecision.none("no single plain sender address")
    lowered = to.lower()
    if lowered in policy.own_addresses:
        return AckDecision.none("the sender is one of our own addresses")
    if any(fnmatchcase(lowered, pattern.lower()) for pattern in config.never_to):
        return AckDecision.none("the sender is listed in [ack] never_to")
    if _MACHINE_ADDRESS.search(lowered):
        return AckDecision.none("the sender is a no-reply or mail-system address")
    ticket = inbound.ticket
    colleague = is_colleague(ticket, policy.own_domains)
    automatic = automatic_reason(ticket, colleague, policy.domain)
    if automatic is not None:
        return AckDecision.none(automatic)
    reasons = result.risk_reasons
    if inbound.unsolicited is not None or any(
        reason.startswith((f"{PHISHING}:", f"{SPAM_REASON}:")) for reason in reasons
    ):
        return AckDecision.none("phishing or spam from outside")
    report = any(reason.startswith(PHISHING_REPORTS) for reason in reasons)
    if report and not colleague:
        # It may be the lure itself: an answer would tell its sender the address is read.
        return AckDecision.none("mail about phishing from outside the organisation")
    return AckDecision(to, phishing=report)


def automatic_reason(ticket: Ticket, colleague: bool, domain: str) -> str | None:
    """Why no person would want an answer to this mail (RFC 3834 section 2), or None: what
    the automated stage ignores, and what it lets through as a ticket yet must not be
    answered (a monitoring alert, a reply to our own acknowledgement, a sender that failed
    authentication or a spam filter)."""
    if ticket.format != "mail":
        return None
    found = detect_automated(ticket, colleague)
    if found is not None:
        return found
    submitted = (ticket.header("auto-submitted") or "").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    suppress = (ticket.header("x-auto-response-suppress") or "").lower()
    if any(value in suppress for value in ("all", "autoreply", "oof")):
        return "X-Auto-Response-Suppress asks for no automatic answer"
    if is_alert_shaped(ticket.subject, ticket.body):
        return "a monitoring system's alert"
    if relayed_id(ticket) is not None:
        return "it carries X-Triage-Id: mail of ours come back"
    ours = re.compile(rf"<t-[0-9a-f]{{20}}\.ack@{re.escape(domain)}>", re.IGNORECASE)
    if any(ours.search(ticket.header(name) or "") for name in ("in-reply-to", "references")):
        return "it answers one of our acknowledgements"
    failed = failed_authentication(ticket)
    if failed:
        return f"its sender failed authentication ({', '.join(failed)}): the From may be forged"
    verdict, _ = spam_verdicts(ticket)
    if verdict is not None:
        return f"the mail system marked it {verdict}"
    return None


def ack_key(ticket_id: str) -> str:
    """One acknowledgement per ticket, ever: the key (and Message-ID) never changes."""
    return f"{ticket_id}.ack"


def ack_delivery(
    result: Result, inbound: Inbound, policy: AckPolicy, decision: AckDecision, now: datetime
) -> Delivery:
    """The acknowledgement as a delivery: the exact bytes, to the requester alone."""
    if decision.to is None:
        raise ValueError("no acknowledgement was decided")
    config = policy.config
    texts = config.phishing if decision.phishing else config.texts
    language = result.language if result.language in texts else config.language
    key = ack_key(result.id)
    payload = ack_mail(
        texts[language],
        result,
        inbound.ticket,
        config,
        decision.to,
        f"<{key}@{policy.domain}>",
        now,
    )
    return Delivery(
        key=key,
        ticket_id=result.id,
        kind="ack",
        destination=ACK_DESTINATION,
        recipients=(decision.to,),
        payload=payload,
        created_at=now,
    )


def ack_mail(
    text: AckTextConfig,
    result: Result,
    ticket: Ticket,
    config: AckConfig,
    to: str,
    msgid: str,
    now: datetime,
) -> bytes:
    """The mail's bytes: CRLF line ends, header lines folded under 998 characters, the text
    in UTF-8 (quoted-printable: no 8BITMIME needed, no over-long line)."""
    values = {"id": result.id, "subject": safe_subject(result)}
    parent = _message_id(ticket.message_id or "")
    thread = _references(ticket, parent)
    sender = formataddr((config.name, config.sender), charset="utf-8")
    header = f"From: {sender}\r\n".encode("ascii") + encode_fields(
        [
            ("To", to),
            ("Subject", text.subject.format_map(values)),
            ("Date", format_datetime(now)),
            ("Message-ID", msgid),
            *([("In-Reply-To", parent)] if parent else []),
        ]
    )
    if thread:
        header += b"References: " + b"\r\n ".join(ref.encode("ascii") for ref in thread) + CRLF
    header += encode_fields(
        [
            ("Auto-Submitted", "auto-replied"),
            ("X-Auto-Response-Suppress", "All"),  # Exchange: no out-of-office to this one
            (ID_HEADER, result.id),  # back in the mailbox, it is recognised as ours
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "quoted-printable"),
        ]
    )
    body = text.body.format_map(values).replace("\r\n", "\n").replace("\r", "\n")
    encoded = quopri.encodestring(body.rstrip("\n").encode("utf-8") + b"\n")
    return folded_header(header) + CRLF + on_the_wire(encoded)


def safe_subject(result: Result) -> str:
    """The requester's subject as an acknowledgement may repeat it: credentials and cards
    are masked already (clean_result); a restricted ticket's loses every personal datum
    too, as its relayed summary does; one line, without the "Re:" of earlier answers."""
    subject = result.subject
    if result.sensitivity.level == "restricted":
        subject = scrub(subject, RESULT_TAGS | {EMAIL, PHONE})
    subject = _REPLY_PREFIX.sub("", one_line(subject, 10 * _SUBJECT_CHARS))
    return one_line(subject, _SUBJECT_CHARS) or "(no subject)"


def _message_id(value: str) -> str | None:
    """A Message-ID the sender wrote, if it has the shape of one (anything else is left
    out: it is the sender's text, and it goes into our header)."""
    value = value.strip()
    if not value.startswith("<"):
        value = f"<{value}>"
    return value if _MESSAGE_ID.fullmatch(value) else None


def _references(ticket: Ticket, parent: str | None) -> list[str]:
    """RFC 5322 3.6.4: the parent's References (else its one In-Reply-To), then its own
    Message-ID; a long thread keeps its root and its newest ids."""
    earlier = _MESSAGE_ID.findall(ticket.header("references") or "")
    if not earlier:
        replied = _MESSAGE_ID.findall(ticket.header("in-reply-to") or "")
        earlier = replied if len(replied) == 1 else []
    ids = list(dict.fromkeys([*earlier, *([parent] if parent else [])]))
    if len(ids) > _KEPT_REFERENCES:
        ids = [ids[0], *ids[-(_KEPT_REFERENCES - 1) :]]
    return ids
