"""Mail from outside sent straight to the helpdesk that is phishing or spam.

A colleague's mail (the organisation's own domains, its authentication not failed) is a
request whatever it says. A stranger's mail is judged by what the mail system already said
(spam filters' verdicts, failed SPF/DKIM/DMARC) and by the lure signals of the mail itself.
Headers are read only to raise suspicion: an `X-Spam-Flag: NO`, a `Precedence: bulk` or a
forged `Authentication-Results: pass` never clears what the content shows.
"""

from __future__ import annotations

from triage.rules.lure import LURE, SPAM, Suspect, judge
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
    if finding.kind == LURE or verdict == PHISHING:
        return f"{PHISHING}: mail from outside ({why})"
    if finding.kind == SPAM or verdict == "spam":
        return f"{SPAM_REASON}: mail from outside ({why})"
    return None
