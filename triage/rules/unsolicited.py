"""Mail from outside sent straight to the helpdesk that is phishing or spam.

A colleague's mail (the organisation's own domains, its authentication not failed) is a
request whatever it says. A stranger's mail is judged by what the mail system already said
(spam filters' verdicts, failed SPF/DKIM/DMARC) and by the lure signals of the mail itself.
Headers are read only to raise suspicion: an `X-Spam-Flag: NO`, a `Precedence: bulk` or a
forged `Authentication-Results: pass` never clears what the content shows.
"""

from __future__ import annotations

from triage.rules.automated import bulk_headers
from triage.rules.lure import LURE, SPAM, UNRELATED_NAME, Suspect, judge
from triage.rules.senders import failed_authentication, is_colleague, own_names, spam_verdicts
from triage.rules.text import TextIndex
from triage.ticket import Ticket

PHISHING = "phishing"
SPAM_REASON = "spam"


def unsolicited(
    ticket: Ticket, own_domains: tuple[str, ...] = (), words: TextIndex | None = None
) -> str | None:
    """ "phishing: ..." or "spam: ..." for a stranger's lure or spam, else None. `words`: the
    subject's and body's words, when the caller has them already."""
    if ticket.format != "mail":
        return None
    names = own_names(ticket, own_domains)
    if is_colleague(ticket, own_domains, names):
        return None
    failed = failed_authentication(ticket)
    verdict, verdicts = spam_verdicts(ticket)
    suspect = Suspect(
        text=f"{ticket.subject}\n{ticket.body}\n{ticket.forwarded}",
        sender_name=ticket.sender_name,
        sender=ticket.sender,
        links=ticket.links,
        attachments=ticket.attachments,
        from_header=ticket.header("from"),
    )
    auth = (f"failed sender authentication ({', '.join(failed)})",) if failed else ()
    finding = judge(suspect, names, auth, None if ticket.forwarded else words)
    why = ", ".join([*verdicts, *finding.signals][:4])
    # List mail (by its headers) is bulk unless its structure or the mail system says more:
    # its words alone are a newsletter's. The headers never clear a lure with structure.
    listed = bulk_headers(ticket) is not None
    structured = any(signal != UNRELATED_NAME for signal in finding.structure)
    if verdict == PHISHING or (finding.kind == LURE and (structured or not listed)):
        return f"{PHISHING}: mail from outside ({why})"
    if verdict == "spam" or (finding.kind == SPAM and (structured or not listed)):
        return f"{SPAM_REASON}: mail from outside ({why})"
    return None
