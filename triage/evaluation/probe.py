"""`triage check`'s trial of the configured local model on a few known tickets.

A model that calls ordinary requests security incidents, or whose summaries repeat the
prompt instead of the ticket, is a configuration error (exit 78): it would only add noise
and, with a trust profile from another model, send routine tickets to the paid tier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from models.port import TicketModel
from triage.tiers.trust import parrots

# (ticket text, whether it is an ordinary request nobody would call high risk)
PROBES: tuple[tuple[str, bool], ...] = (
    (
        "Subject: Toner\n\nThe printer on the 2nd floor says the toner is low. Can you send one?",
        True,
    ),
    ("Subject: Visio\n\nHi, could you install Microsoft Visio on my laptop? Thanks, Anna", True),
    ("Subject: Monitor\n\nMy second monitor flickers a bit since Monday, not urgent.", True),
    (
        "Subject: Strange mail\n\nI clicked the link in a mail about my salary and typed my "
        "password into the page. Now colleagues get mails from me that I never sent.",
        False,
    ),
)


@dataclass(frozen=True)
class ProbeAnswer:
    ticket: str
    benign: bool
    says_high: bool
    summary: str


def judge_probe(answers: list[ProbeAnswer], instructions: str) -> str | None:
    """Pure: why the model is refused, or None. Refused when it calls most ordinary requests
    high risk, or when most of its summaries repeat the prompt's words."""
    benign = [a for a in answers if a.benign]
    high = sum(a.says_high for a in benign)
    if benign and high * 2 > len(benign):
        return f"it called {high} of {len(benign)} ordinary requests high risk"
    parroted = [a for a in answers if parrots(a.summary, a.ticket, instructions)]
    if answers and len(parroted) * 2 > len(answers):
        return (
            f"{len(parroted)} of {len(answers)} summaries repeat the prompt, not the ticket "
            f"(e.g. {parroted[0].summary[:60]!r})"
        )
    return None


def _cut(text: str) -> Callable[[int], str]:
    return lambda room: text[:room]


def probe_model(model: TicketModel, instructions: str) -> tuple[str | None, list[ProbeAnswer]]:
    """Run the probe tickets (the rules' floor: other, low). An answer that fails counts as
    not high with no summary; the refusal reason (or None) and the answers."""
    answers = []
    for text, benign in PROBES:
        call = model.complete(_cut(text), "other", "low")
        answer = call.answer
        answers.append(
            ProbeAnswer(
                ticket=text,
                benign=benign,
                says_high=answer is not None and answer.risk == "high",
                summary=answer.summary if answer else "",
            )
        )
    return judge_probe(answers, instructions), answers
