"""Find the mail a requester forwarded inside a body: Outlook's header block, the markers of
Gmail, Apple Mail and Thunderbird, in English, German, French and Spanish.

Quote stripping keeps only the requester's own words; a forwarded mail is evidence (a reported
phishing mail, the addresses in its header block), so it is kept apart rather than dropped.
"""

from __future__ import annotations

import re

from triage.parsing.cleanup import OUTLOOK_FROM, OUTLOOK_SENT

# Lines that can only start a forwarded mail.
_FORWARD_MARKER = re.compile(
    r"""^\s*(?:
        -{3,}\s*(?:Forwarded\s+message|Weitergeleitete\s+Nachricht|Message\s+transf[ée]r[ée]
                 |Mensaje\s+reenviado|Messaggio\s+inoltrato)\s*-{3,}
      | Begin\s+forwarded\s+message\s*:
      | Anfang\s+der\s+weitergeleiteten\s+Nachricht\s*:
      | D[ée]but\s+du\s+message\s+r[ée]exp[ée]di[ée]\s*:
      | Inicio\s+del\s+mensaje\s+reenviado\s*:
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
# Lines that start a quoted original in replies and forwards alike: a forward only when the
# subject says so.
_ORIGINAL = re.compile(
    r"""^\s*(?:
        -{2,}\s*(?:Original\s+Message|Urspr[üu]ngliche\s+Nachricht|Message\s+d'origine
                 |Mensaje\s+original)\s*-{2,}
      | _{20,}
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
# FW:, Fwd:, WG: (de), TR: (fr), RV:/RE: ... (es), ENC: (pt), I: (it), possibly after RE:/AW:.
_FORWARD_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:(?:re|aw|sv|antw|r)\s*:\s*)*"
    r"(?:fwd?|fw|wg|tr|rv|enc|vs|doorst|i)\s*:",
    re.IGNORECASE,
)


# Words every forward marker contains (as written by the mailers), to skip the scan cheaply.
_MARKER_WORDS = ("orward", "eitergeleitet", "ransf", "xpédi", "xpedi", "eenviado", "noltrato")


def is_forward_subject(subject: str) -> bool:
    return _FORWARD_SUBJECT.match(subject) is not None


def forwarded_text(text: str, subject: str) -> str:
    """The forwarded mail inside a body, from its first header line on; "" when there is none.

    A forward marker always counts; an "Original Message" line, an underscore line or an
    Outlook From:/Sent: block only when the subject is a forward's."""
    forward = is_forward_subject(subject)
    if not forward and not any(word in text for word in _MARKER_WORDS):
        return ""  # the common case: no forward, no line-by-line scan
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if _FORWARD_MARKER.match(line):
            return "\n".join(lines[index:]).strip()
        if not forward:
            continue
        if _ORIGINAL.match(line) or (
            OUTLOOK_FROM.match(line)
            and any(OUTLOOK_SENT.match(after) for after in lines[index + 1 : index + 5])
        ):
            return "\n".join(lines[index:]).strip()
    return ""
