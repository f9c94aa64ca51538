"""Concepts: a named idea found in a text by multilingual words (EN, DE, FR, ES) or a pattern.

Detectors are built from concepts that must occur together, so a class of incident is found
whatever words a user picks for each of its parts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from triage.rules.text import Terms, TextIndex


@dataclass(frozen=True)
class Concept:
    name: str
    terms: Terms
    pattern: re.Pattern[str] | None = None

    def found(self, index: TextIndex) -> bool:
        if self.terms.any(index):
            return True
        return self.pattern is not None and self.pattern.search(index.text) is not None


def concept(name: str, words: Iterable[str], pattern: str | None = None) -> Concept:
    return Concept(name, Terms(words), re.compile(pattern, re.IGNORECASE) if pattern else None)


@dataclass(frozen=True)
class Cooccurrence:
    """A class of incident: found when every one of its concepts is in the text."""

    reason: str
    all_of: tuple[Concept, ...]

    def found(self, index: TextIndex) -> bool:
        return all(part.found(index) for part in self.all_of)
