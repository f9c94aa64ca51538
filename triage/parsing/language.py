"""The ticket's language as an ISO 639-1 code, or None when unsure, by lingua (a well-kept
detector that ships its language models in the wheel, nothing downloaded).

Measured on kb-dev's 120 tickets (short, typo-ridden mails in en/de/fr/es, subject and
body): lingua 120/120 in both modes, py3langid 119/120. Lingua's high-accuracy mode costs
+275 MB and 1.4 s to load, and on subjects alone was right no more often (79/120, against
78/120) while saying "unsure" far more; its low-accuracy mode (trigrams) costs +39 MB and
0.18 s, and is used here. Its models load on the first ticket, only for the candidates.

A text of a few words is too short for trigrams ("Password reset please" came out Italian,
"mot de passe oublié" Swedish, "my laptop wont start" Dutch): there, the detector's ranking
gives way to the language with the most of its own words in the text (its function words
and, for German, French and Spanish, the helpdesk words of triage/parsing/lexicon.py; a word
spelt the same in English is no evidence), ties to the ranking, and None when no language
has any."""

from __future__ import annotations

import functools
import re
import threading
from typing import TYPE_CHECKING

from triage.parsing.lexicon import FUNCTION_WORDS, LEXICONS, STOPWORDS

if TYPE_CHECKING:
    from lingua import LanguageDetector

# The languages a European helpdesk sees (each costs memory). A ticket in another language
# gets the nearest of these or None: the detector ranks the candidates, it knows no others.
CANDIDATES = ("en", "de", "fr", "es", "it", "nl", "pt", "pl", "sv", "da")
# Below this confidence the answer is None: a wrong language costs an acknowledgement the
# requester cannot read, and a route that sends the ticket to the wrong desk.
MIN_CONFIDENCE = 0.3
# The start of the text is enough, and bounds the time a huge ticket costs.
MAX_CHARS = 1000
# A text of fewer words is "short" (see the module docstring).
SHORT_WORDS = 6
_WORD = re.compile(r"[^\W\d_]+")

_lock = threading.Lock()
_detector: LanguageDetector | None = None


def detector() -> LanguageDetector:
    global _detector  # built once, on first use, shared by every thread
    with _lock:
        if _detector is None:
            from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

            wanted = [
                Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
                for code in CANDIDATES
            ]
            _detector = (
                LanguageDetectorBuilder.from_languages(*wanted).with_low_accuracy_mode().build()
            )
        return _detector


def language_of(text: str) -> str | None:
    """ISO 639-1 code of the language `text` is written in, None when unsure."""
    # Lone surrogates (a JSON escape, a file name read with surrogateescape) as "?": the
    # detector cannot take them, and raised UnicodeEncodeError.
    sample = text[:MAX_CHARS].encode("utf-8", "replace").decode("utf-8")
    if sum(ch.isalpha() for ch in sample) < 3:
        return None
    ranked = detector().compute_language_confidence_values(sample)
    codes = [str(r.language.iso_code_639_1.name.lower()) for r in ranked]
    words = _WORD.findall(sample.casefold())
    if len(words) < SHORT_WORDS:
        # The language with the most of its own words in the text; of equals, the one the
        # detector ranks first.
        held = [sum(word in own_words(code) for word in words) for code in codes]
        best = max(held, default=0)
        return codes[held.index(best)] if best else None
    if not ranked or ranked[0].value < MIN_CONFIDENCE:
        return None
    return codes[0]


@functools.cache
def own_words(code: str) -> frozenset[str]:
    """The words that show a text is in language `code`: its function words and, for the
    languages of the lexicon, its helpdesk words, less any that English spells the same."""
    words = set(f"{STOPWORDS.get(code, '')} {FUNCTION_WORDS.get(code, '')}".casefold().split())
    for line in LEXICONS.get(code, "").splitlines():
        native, _, translated = line.partition("=")
        if translated.strip():
            words.update(native.casefold().split())
    if code != "en":
        words -= _english_words()
    return frozenset(words)


@functools.cache
def _english_words() -> frozenset[str]:
    """English function words and every English term the lexicons give (laptop, server):
    a word spelt so is no evidence of another language."""
    words = set(STOPWORDS["en"].casefold().split())
    for lexicon in LEXICONS.values():
        for line in lexicon.splitlines():
            words.update(line.partition("=")[2].casefold().split())
    return frozenset(words)


def warm() -> None:
    """Load the models now (about 0.2 s), before the first ticket waits for them: the daemon
    calls it before it says READY, so its memory is counted from the start."""
    language_of("The printer on the second floor does not print.")
