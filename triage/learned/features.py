"""Text -> TF-IDF features for the learned tier: word 1-2-grams and character 2-5-grams within
words, each block sublinear-tf, idf-weighted and L2-normalised (as two scikit-learn
TfidfVectorizers side by side would be), computed with numpy alone so that predicting needs no
scikit-learn object.

Field weighting: when a ticket has more than one line, its first line (the subject: `learn`
and the daemon both join subject and body with a newline) is counted a second time in the word
block under the prefix `s|`, so the classifier learns how much a word weighs in the subject
apart from the same word in the body. A one-line ticket has no separate subject.

Training builds the vocabulary in bulk: a ticket's character n-gram counts are its word counts
times a words x n-grams matrix, one sparse product instead of a Python loop over every n-gram.
Prediction walks one ticket's words; tests hold both paths to the same vectors.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

MAX_CHARS = 6000  # a pasted log must not drown the request, nor cost a millisecond
CHAR_MIN, CHAR_MAX = 2, 5
_WORD = re.compile(r"\w+")
SUBJECT = "s|"  # prefix of the subject's own terms; never inside a \w run
_ACCENTS = re.compile("[\u0300-\u036f]+")  # combining diacritics only: other scripts' marks stay


def normalise(text: str) -> str:
    """Case and accents folded (typos and keyboards without accents meet), cut to MAX_CHARS."""
    text = text[: MAX_CHARS * 2]
    if text.isascii():
        return text.lower()[:MAX_CHARS]
    text = _ACCENTS.sub("", unicodedata.normalize("NFKD", text))
    return unicodedata.normalize("NFC", text).casefold()[:MAX_CHARS]


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


def subject_words(text: str) -> list[str]:
    """The first line's words when the text has more lines (a subject above a body), else none."""
    head, newline, rest = normalise(text).strip().partition("\n")
    return _WORD.findall(head) if newline and rest.strip() else []


def char_grams(word: str) -> list[str]:
    """Character n-grams of one word padded with a space each side (scikit-learn's char_wb)."""
    padded = f" {word} "
    return [
        padded[i : i + n] for n in range(CHAR_MIN, CHAR_MAX + 1) for i in range(len(padded) - n + 1)
    ]


Floats = NDArray[np.float32]
Ints = NDArray[np.int64]


def idf_of(df: Ints, documents: int) -> Floats:
    """Smoothed idf, as scikit-learn's: ln((1 + n) / (1 + df)) + 1."""
    idf: Floats = (np.log((1.0 + documents) / (1.0 + df)) + 1.0).astype(np.float32)
    return idf


class Vectorizer:
    """Fixed vocabularies and idf weights: word block first, then the character block."""

    def __init__(
        self,
        word_terms: Sequence[str],
        char_terms: Sequence[str],
        word_idf: Floats,
        char_idf: Floats,
    ) -> None:
        if len(word_terms) != len(word_idf) or len(char_terms) != len(char_idf):
            raise ValueError("a vocabulary and its idf weights differ in length")
        self.word_terms = list(word_terms)
        self.char_terms = list(char_terms)
        self.word_idf = np.asarray(word_idf, dtype=np.float32)
        self.char_idf = np.asarray(char_idf, dtype=np.float32)
        self._word_col = {term: col for col, term in enumerate(self.word_terms)}
        offset = len(self.word_terms)
        self._char_col = {term: offset + col for col, term in enumerate(self.char_terms)}
        self._grams: dict[str, Ints] = {}

    @property
    def size(self) -> int:
        return len(self.word_terms) + len(self.char_terms)

    def vector(self, text: str) -> tuple[Ints, Floats]:
        """One ticket's non-zero columns and their TF-IDF values (each block of norm 1)."""
        tokens = words(text)
        subject = [SUBJECT + token for token in subject_words(text)]
        terms = tokens + [f"{a} {b}" for a, b in pairwise(tokens)]
        terms += subject + [f"{a} {b[len(SUBJECT) :]}" for a, b in pairwise(subject)]
        word_cols = np.fromiter(
            (c for c in map(self._word_col.get, terms) if c is not None), dtype=np.int64
        )
        char_parts = [self._char_cols(token) for token in tokens]
        char_cols = np.concatenate(char_parts) if char_parts else np.zeros(0, np.int64)
        cols_w, values_w = self._weighted(word_cols, self.word_idf, 0)
        cols_c, values_c = self._weighted(char_cols, self.char_idf, len(self.word_terms))
        return np.concatenate([cols_w, cols_c]), np.concatenate([values_w, values_c])

    def matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Many tickets through `vector`, as rows of a sparse matrix."""
        indptr, cols, values = [0], [], []
        for text in texts:
            c, v = self.vector(text)
            cols.append(c)
            values.append(v)
            indptr.append(indptr[-1] + len(c))
        return sp.csr_matrix(
            (
                np.concatenate(values) if values else np.zeros(0, np.float32),
                np.concatenate(cols) if cols else np.zeros(0, np.int64),
                np.array(indptr),
            ),
            shape=(len(texts), self.size),
        )

    def _char_cols(self, token: str) -> Ints:
        cols = self._grams.get(token)
        if cols is None:
            found = (self._char_col.get(gram) for gram in char_grams(token))
            cols = np.fromiter((c for c in found if c is not None), dtype=np.int64)
            if len(self._grams) > 200_000:  # a daemon meets endless new words: stay bounded
                self._grams.clear()
            self._grams[token] = cols
        return cols

    @staticmethod
    def _weighted(cols: Ints, idf: Floats, offset: int) -> tuple[Ints, Floats]:
        if len(cols) == 0:
            return cols, np.zeros(0, np.float32)
        unique, counts = np.unique(cols, return_counts=True)
        values = (1.0 + np.log(counts)).astype(np.float32) * idf[unique - offset]
        return unique, values / np.float32(np.linalg.norm(values))


def fit_vectorizer(
    documents: Sequence[list[str]],
    min_df: int,
    max_word: int,
    max_char: int,
    subjects: Sequence[list[str]] | None = None,
) -> tuple[Vectorizer, sp.csr_matrix]:
    """Vocabularies from the training tickets, each as `words()` gives it, with its subject as
    `subject_words()` gives it (terms in at least `min_df` tickets, the most frequent first up
    to the caps), and the training matrix.

    Kept by frequency, measured (bench/learned.py, long-tailed slice, time split): keeping the
    terms most tied to one team (chi-square) instead scored 0.767 against 0.769, and
    capping at all scored better than not (0.759): rare n-grams are the ones that drift."""
    unigrams, index, bigrams, pair_names = _gram_counts(documents)
    blocks, word_terms = [unigrams, bigrams], [*index, *pair_names]
    if subjects is not None:
        s_unigrams, s_index, s_bigrams, s_pairs = _gram_counts(subjects)
        blocks += [s_unigrams, s_bigrams]
        word_terms += [SUBJECT + term for term in (*s_index, *s_pairs)]
    word_counts = sp.hstack(blocks, format="csr")

    gram_index: dict[str, int] = {}
    gram_rows: list[int] = []
    gram_cols: list[int] = []
    for word_id, word in enumerate(index):
        grams = [gram_index.setdefault(gram, len(gram_index)) for gram in char_grams(word)]
        gram_cols.extend(grams)
        gram_rows.extend([word_id] * len(grams))
    spelling = sp.csr_matrix(
        (np.ones(len(gram_cols), np.float32), (gram_rows, gram_cols)),
        shape=(len(index), len(gram_index)),
    )
    char_counts = (unigrams @ spelling).tocsr()
    word_counts, word_terms, word_df = _select(word_counts, word_terms, min_df, max_word)
    char_counts, char_terms, char_df = _select(char_counts, list(gram_index), min_df, max_char)
    vectorizer = Vectorizer(
        word_terms, char_terms, idf_of(word_df, len(documents)), idf_of(char_df, len(documents))
    )
    matrix = sp.hstack(
        [_tfidf(word_counts, vectorizer.word_idf), _tfidf(char_counts, vectorizer.char_idf)],
        format="csr",
    )
    return vectorizer, matrix


def _gram_counts(
    documents: Sequence[list[str]],
) -> tuple[sp.csr_matrix, list[str], sp.csr_matrix, list[str]]:
    """Word and word-pair counts per ticket, with their names, in one pass of numpy."""
    index: dict[str, int] = {}
    flat: list[int] = []
    lengths = np.zeros(len(documents), dtype=np.int64)
    for row, tokens in enumerate(documents):
        lengths[row] = len(tokens)
        flat.extend([index.setdefault(token, len(index)) for token in tokens])
    vocabulary = np.array(list(index), dtype=object)
    size = len(index)
    ids = np.array(flat, dtype=np.int64)
    docs = np.repeat(np.arange(len(documents), dtype=np.int64), lengths)
    unigrams = sp.csr_matrix(
        (np.ones(len(ids), np.float32), (docs, ids)), shape=(len(documents), size)
    )
    same = docs[1:] == docs[:-1]
    keys = ids[:-1][same] * size + ids[1:][same]
    pairs, pair_ids = np.unique(keys, return_inverse=True)
    bigrams = sp.csr_matrix(
        (np.ones(len(pair_ids), np.float32), (docs[:-1][same], pair_ids)),
        shape=(len(documents), len(pairs)),
    )
    pair_names = [
        f"{a} {b}" for a, b in zip(vocabulary[pairs // size], vocabulary[pairs % size], strict=True)
    ]
    return unigrams, list(index), bigrams, pair_names


def _select(
    counts: sp.csr_matrix, terms: list[str], min_df: int, cap: int
) -> tuple[sp.csr_matrix, list[str], Ints]:
    counts = counts.tocsr()
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.int64)
    order = np.argsort(-df, kind="stable")
    keep = np.sort(order[: min(cap, int((df >= min_df).sum()))])
    return counts[:, keep].tocsr(), [terms[i] for i in keep], df[keep]


def _tfidf(counts: sp.csr_matrix, idf: Floats) -> sp.csr_matrix:
    matrix = counts.astype(np.float32).tocsr()
    matrix.sum_duplicates()
    matrix.data = 1.0 + np.log(matrix.data)
    matrix = (matrix @ sp.diags(idf)).tocsr()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return (sp.diags((1.0 / norms).astype(np.float32)) @ matrix).tocsr()
