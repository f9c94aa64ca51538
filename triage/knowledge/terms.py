"""Text -> the terms the knowledge index stores and is asked for: words folded (case,
accents), function words dropped, each stemmed by its language's Snowball stemmer, and in
German, French and Spanish the helpdesk's words also given as English terms (lexicon.py), so a
ticket in one language finds an article in another. German compounds (Druckertreiber) are
split into the words the lexicon knows. Pure: the same text and language give the same terms
on every store backend.

Measured on kb-dev (see README "Knowledge suggestions"): without the lexicon the tickets not in
English found their article 0.31 of the time; with it, see the figures there.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

import snowballstemmer

from triage.parsing.lexicon import LEXICONS, STOPWORDS

STEMMERS = {"en": "english", "de": "german", "fr": "french", "es": "spanish"}
# Languages whose words are mapped to English terms: the lexicon's.
TRANSLATED = tuple(LEXICONS)
_WORD = re.compile(r"[^\W_]+")
# Words joined by hyphens (Wi-Fi, e-mail, USB-Stick): also written as one word (wifi).
# Tried only where a word starts, each run of letters read once: tried inside a run too, a
# run of 40,000 letters took 40 s (quadratic) in any text holding a hyphen.
_JOINED = re.compile(r"(?<![^\W_])[^\W_]++(?:-[^\W_]++)+")
MIN_PART = 4  # the shortest word a German compound is split into
MAX_TERMS = 64  # a query of more terms says less, and costs more: the first ones are kept
# A longer "word" is a blob (base64, a data: URI, a pasted dump), not a word anyone searches
# for; PostgreSQL's index could not hold it either (2,704 bytes a key).
MAX_TERM_CHARS = 100


def fold(text: str) -> str:
    """Lower case, ß as ss, accents dropped: how every term is stored and asked for."""
    text = text.casefold().replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.cache
def _stemmer(language: str) -> snowballstemmer.Stemmer:
    return snowballstemmer.stemmer(STEMMERS.get(language, "english"))


@functools.lru_cache(maxsize=65536)
def stem(word: str, language: str) -> str:
    """The folded stem of a lower-case word (stemmed before folding: the stemmers know the
    accented letters). Codes and numbers (809, fs01, 0x80070005) are kept whole."""
    if any(ch.isdigit() for ch in word):
        return fold(word)
    return fold(_stemmer(language).stemWord(word))


@functools.cache
def _stopwords(language: str) -> frozenset[str]:
    words = STOPWORDS.get(language, "").split()
    return frozenset(word.casefold() for word in words) | frozenset(fold(w) for w in words)


@functools.cache
def _lexicon(language: str) -> tuple[dict[str, tuple[str, ...]], dict[tuple[str, ...], str]]:
    """(stem -> English terms, multi-word phrase as stems -> its key in the first map)."""
    single: dict[str, tuple[str, ...]] = {}
    phrases: dict[tuple[str, ...], str] = {}
    for line in LEXICONS.get(language, "").splitlines():
        native, _, english = line.partition("=")
        words = native.strip().casefold().split()
        if not words or not english.strip():
            continue
        translated = tuple(stem(w, "en") for w in english.split())
        key = " ".join(stem(word, language) for word in words)
        single[key] = single.get(key, ()) + translated
        if len(words) > 1:
            phrases[tuple(stem(word, language) for word in words)] = key
    return single, phrases


def words(text: str) -> list[str]:
    """The words of `text`, lower case; a hyphenated word gives its parts and then the
    parts written as one (Wi-Fi: wi, fi, wifi), as either spelling may be the one used."""
    folded = text.casefold()
    if "-" not in folded:
        return _WORD.findall(folded)
    out: list[str] = []
    at = 0
    for joined in _JOINED.finditer(folded):
        out.extend(_WORD.findall(folded, at, joined.start()))
        parts = joined.group().split("-")
        out.extend(parts)
        out.append("".join(parts))
        at = joined.end()
    out.extend(_WORD.findall(folded, at))
    return out


def _kept(word: str) -> bool:
    """Words of one letter, and numbers of fewer than three digits, say nothing."""
    if word.isdigit():
        return len(word) >= 3
    return len(word) >= 2


def terms(text: str, language: str | None) -> list[str]:
    """The index terms of `text` written in `language` (None: English rules, with the
    lexicons' words of every language mapped too: a short ticket's language may be unknown)."""
    tokens = [word for word in words(text) if len(word) <= MAX_TERM_CHARS]
    if language in TRANSLATED:
        out = _native_terms(tokens, language)
    else:
        out = _english_terms(tokens)
        if language is None:
            # Unknown language: words of the lexicons still give their English terms.
            for other in TRANSLATED:
                single, _ = _lexicon(other)
                for word in tokens:
                    out.extend(single.get(stem(word, other), ()))
    # A folded stem may be longer than its word (NFKD spells out a ligature)
    return [term for term in out if len(term) <= MAX_TERM_CHARS]


def _english_terms(tokens: Iterable[str]) -> list[str]:
    stop = _stopwords("en")
    return [stem(word, "en") for word in tokens if word not in stop and _kept(word)]


def _native_terms(tokens: list[str], language: str) -> list[str]:
    """Each word's own stem, and its English terms when the lexicon knows it (as a phrase,
    a word, or the parts of a compound)."""
    single, phrases = _lexicon(language)
    stop = _stopwords(language) | _stopwords("en")  # tickets mix in English fillers
    stems = [stem(word, language) for word in tokens]
    out: list[str] = []
    skip = 0
    for index, word in enumerate(tokens):
        if skip:
            skip -= 1
            continue
        phrase = _phrase_at(stems, index, phrases)
        if phrase:
            length, key = phrase
            out.extend(single[key])
            skip = length - 1
            continue
        if word in stop or not _kept(word):
            continue
        own = stems[index]
        out.append(own)
        english = single.get(own) or (_compound(own, single) if language == "de" else ())
        if english:
            out.extend(english)
        elif fold(word).isascii():
            # A word the lexicon does not know is often English (Laptop, Update, Login).
            english_stem = stem(word, "en")
            if english_stem != own:
                out.append(english_stem)
    return out


def _phrase_at(
    stems: list[str], index: int, phrases: dict[tuple[str, ...], str]
) -> tuple[int, str] | None:
    for length in (3, 2):
        key = tuple(stems[index : index + length])
        if len(key) == length and key in phrases:
            return length, phrases[key]
    return None


def _compound(word: str, single: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The English terms of a compound made of two words the lexicon knows (with a linking
    s between them, as German has), else ()."""
    for cut in range(MIN_PART, len(word) - MIN_PART + 1):
        head, tail = word[:cut], word[cut:]
        head_terms = _known(head, single) or (
            _known(head[:-1], single) if head.endswith("s") else ()
        )
        if not head_terms:
            continue
        tail_terms = _known(tail, single)
        if tail_terms:
            return head_terms + tail_terms
    return ()


def _known(part: str, single: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return single.get(part) or single.get(stem(part, "de")) or ()


def query_terms(text: str, language: str | None) -> list[str]:
    """The distinct terms of a ticket, in order of first appearance, at most MAX_TERMS."""
    return list(dict.fromkeys(terms(text, language)))[:MAX_TERMS]
