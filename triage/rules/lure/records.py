"""What the lure rules read and what they find: plain records."""

from __future__ import annotations

from dataclasses import dataclass

from triage.ticket import Attachment, Link

LURE = "lure"
SPAM = "spam"


@dataclass(frozen=True)
class Suspect:
    """A mail to judge: its text (subject and body), its sender as written, its links."""

    text: str
    sender_name: str | None
    sender: str | None
    links: tuple[Link, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    from_header: str | None = None  # the From line as written, when it could not be parsed


@dataclass(frozen=True)
class LureFinding:
    kind: str | None  # LURE, SPAM or None
    structure: tuple[str, ...] = ()  # what the mail's structure shows
    content: tuple[str, ...] = ()  # the classes of its words

    @property
    def signals(self) -> tuple[str, ...]:
        """What was found, structure first."""
        return (*self.structure, *self.content)

    def describe(self) -> str:
        return ", ".join(self.signals[:3])
