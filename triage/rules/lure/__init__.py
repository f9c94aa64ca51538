"""Is a mail a lure, spam, or neither? Judged by its own content and structure, whoever forwards
it and whatever they say about it.

Two kinds of evidence, kept apart on purpose:
- structure, which a lure cannot do without and an honest mail rarely shows: a display name
  that claims a brand or an address its own address does not belong to, link text that names
  another target than the link, link targets and senders on throw-away hosting or lookalike
  domains, attachment types that run or render code (.html, .iso, .zip, .exe ...);
- content, by class, in EN/DE/FR/ES/PT: a request for credentials, payment or gift cards; a
  pretext (the account is suspended, a parcel is waiting, an invoice is due, a subscription
  expires); bait (a prize, a casino bonus, crypto, an inheritance); pressure (act now).

A lure needs a request or a pretext and something that makes it more than words: structure,
or bait, or pressure. Spam is bait or adverts without that. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from triage.rules.lure import words
from triage.rules.lure.records import LURE, SPAM, LureFinding, Suspect
from triage.rules.lure.structure import (
    EVASIVE,
    UNRELATED_NAME,
    brand_claim,
    disguised_text,
    domain_of,
    link_mismatch,
    org_name,
    structural_signals,
)
from triage.rules.text import TextIndex

__all__ = [
    "LURE",
    "SPAM",
    "UNRELATED_NAME",
    "LureFinding",
    "Suspect",
    "brand_claim",
    "domain_of",
    "judge",
    "link_mismatch",
    "org_name",
]

# A lure makes its ask at the top; a newsletter's ten thousand characters hold every word.
_LEAD_CHARS = 2500


def judge(
    suspect: Suspect,
    own_names: Iterable[str] = (),
    more_structure: Iterable[str] = (),
    index: TextIndex | None = None,
) -> LureFinding:
    """Lure, spam or neither, with the signals found. `own_names`: the organisation's names
    (org_name of its domains: a link or sender there is no evidence); `more_structure`:
    structural signals found elsewhere (failed sender authentication); `index`: the words of
    suspect.text, when the caller has them already. The content is read in the subject and
    the lead (_LEAD_CHARS)."""
    if index is None or len(suspect.text) > _LEAD_CHARS:
        index = TextIndex(suspect.text[:_LEAD_CHARS])
    request = words.REQUEST.found(index)
    pretext = words.PRETEXT.found(index)
    prize = words.PRIZE.found(index)
    bait = words.BAIT.found(index)
    pressure = words.PRESSURE.found(index)
    advert = words.ADVERT.found(index)
    content = [
        name
        for name, found in (
            (words.REQUEST.name, request),
            (words.PRETEXT.name, pretext),
            (words.PRIZE.name, prize),
            (words.BAIT.name, bait),
            (words.PRESSURE.name, pressure),
            (words.ADVERT.name, advert),
        )
        if found
    ]
    if not content:  # nothing asked, offered or pressed: only letters that dodge filters
        disguised = disguised_text(suspect.text)
        return LureFinding(SPAM, (disguised,)) if disguised else LureFinding(None)
    structure = (*structural_signals(suspect, frozenset(own_names)), *more_structure)
    found = (structure, tuple(content))
    hook = request or pretext or prize or (bait and pressure)
    if hook and (structure or (pressure and sum((request, pretext, prize, bait)) >= 2)):
        return LureFinding(LURE, *found)
    evasive = any(signal.startswith(EVASIVE) for signal in structure)
    if prize or bait or advert or evasive or (structure and (pretext or pressure or request)):
        return LureFinding(SPAM, *found)
    return LureFinding(None, *found)
