"""Training the learned tier (scikit-learn is needed here only).

The estimator, chosen by measurement on it-service-tickets (stratified 80/20, random_state 42,
bench/learned.py; figures in the README):

    word 1-2-grams + char 2-5-grams, plain TF-IDF, LinearSVC (C=0.3)          0.865
    the same, LogisticRegression (C=10..30)                                  0.864, 10x slower
    the same, SGDClassifier (modified Huber) / RidgeClassifier               0.854 / 0.851
    NB-scaled features, one LinearSVC per team (NBSVM, Wang & Manning 2012)  0.871

NBSVM scales each feature, for each team, by the log-ratio of how often it occurs in that
team's tickets against the others' before the team's linear SVM is fitted; the scaled weights
fold back into one plain linear model (weight x ratio), so prediction stays a dot product.
Per-team scores are calibrated by temperature scaling (triage.learned.calibration).

Robust defaults for a real history: teams with fewer than `min_examples` tickets are folded into
one fallback label that never decides (named in the card); class weights are the square root of
"balanced" (very small teams are not drowned, very large ones not ignored: a judgement for the
74-group histories, not a measurement; on the 8 groups here full "balanced" and none scored the
same, 0.8654 and 0.8651 with plain LinearSVC); the shipped model is refitted on every row once
the held-out share has measured it and fixed the temperature.

In time order (a history with a time column; bench/learned.py takes it-service-tickets' file
order as time, along which its groups drift) the held-out share is the newest rows and rows
weigh by recency. Trained on the oldest 80%, judged on the newest 20% (the same fit outside
`learn`): no recency weights 0.824, half-life 0.5 of the history 0.828, 0.25 0.829, 0.1 0.830,
the rarest groups 0.689 / 0.688 / 0.686 / 0.679: 0.5 takes most of the gain and keeps the
rare teams. Also measured there and left as they were, the differences within +-0.005 and
of both signs: full "balanced" class weights instead of their square root (0.825 against
0.824; on long-tailed slices 0.845 against 0.848 when train and test are thinned alike, 0.759
against 0.753 when only training is, which favours any weighting towards small teams),
min_df 5 instead of 2, C=0.1 instead of 0.3, no NB scaling (0.747 against 0.753).
"""

from __future__ import annotations

import hashlib
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from triage.learned.calibration import (
    Coverage,
    LabelScore,
    coverage_at,
    expected_calibration_error,
    fit_temperature,
    per_label,
    softmax,
    threshold_for,
)
from triage.learned.features import fit_vectorizer, subject_words, words
from triage.learned.history import Example
from triage.learned.model_file import FORMAT, arrays_of, digest_of
from triage.learned.predict import FALLBACK, LinearTextModel

FLOATS_BUDGET = 10_000_000  # coefficients kept: 40 MB of float32, whatever the number of teams


@dataclass(frozen=True)
class TrainOptions:
    min_examples: int = 10  # teams with fewer tickets fold into FALLBACK
    holdout: float = 0.2
    seed: int = 42
    min_df: int = 2
    c: float = 0.3
    refit: bool = True
    # Rows oldest first (a history with a time column, sorted by it): the newest share is held
    # out (the card measures the future, as the model will meet it) and recent rows weigh
    # more: a row `recency_half_life` of the history older than the newest counts half.
    time_ordered: bool = False
    recency_half_life: float = 0.5
    subject: bool = True  # the first line counted again as the subject (features.py)
    balance: float = 0.5  # class weights: "balanced" to this power (0: none, 1: balanced)
    nb_scaling: bool = True
    target_accuracy: float = 0.95  # for the suggested min_probability
    min_probability: float = 0.9  # the threshold the card reports coverage at


@dataclass(frozen=True)
class Measured:
    accuracy: float
    ece: float
    temperature: float
    labels: list[LabelScore]
    at_threshold: Coverage
    suggested: Coverage
    holdout_rows: int


@dataclass
class Learned:
    model: LinearTextModel
    card: dict[str, Any]
    measured: Measured
    seconds: dict[str, float] = field(default_factory=dict)


def data_hash(examples: Sequence[Example]) -> str:
    digest = hashlib.sha256()
    for example in examples:
        digest.update(example.label.encode() + b"\0" + example.text.encode() + b"\0")
    return digest.hexdigest()


def fold_rare(
    examples: Sequence[Example], min_examples: int
) -> tuple[list[int], list[str], dict[str, int]]:
    """Which rows to learn from and their labels: teams with fewer than `min_examples`
    tickets become FALLBACK (dropped when even all of them together are too few)."""
    counts = Counter(example.label for example in examples)
    rare = {label: n for label, n in counts.items() if n < min_examples}
    keep_rare = sum(rare.values()) >= max(min_examples, 2)
    rows, labels = [], []
    for row, example in enumerate(examples):
        if example.label not in rare:
            rows.append(row)
            labels.append(example.label)
        elif keep_rare:
            rows.append(row)
            labels.append(FALLBACK)
    return rows, labels, dict(sorted(rare.items(), key=lambda item: (-item[1], item[0])))


def fit(
    documents: Sequence[list[str]],
    truth: NDArray[np.int64],
    labels: Sequence[str],
    options: TrainOptions,
    weights: NDArray[np.float64] | None = None,
    subjects: Sequence[list[str]] | None = None,
) -> LinearTextModel:
    """Features and one NB-scaled linear SVM per label; temperature 1 until calibrated."""
    from sklearn.svm import LinearSVC

    per_block = FLOATS_BUDGET // max(len(labels), 1) // 2
    vectorizer, matrix = fit_vectorizer(documents, options.min_df, per_block, per_block, subjects)
    counts = np.bincount(truth, minlength=len(labels)).astype(np.float64)
    balance = (len(truth) / (len(labels) * np.maximum(counts, 1.0))) ** options.balance
    sample = np.ones(len(truth)) if weights is None else np.asarray(weights, dtype=np.float64)
    matrix = matrix.astype(np.float64)  # liblinear's own type: sklearn copies nothing more
    totals = np.asarray(matrix.sum(axis=0)).ravel() + 1.0

    def ratio_of(mine: NDArray[np.bool_]) -> NDArray[np.float64]:
        if not options.nb_scaling:
            return np.ones(len(totals))
        inside = np.asarray(matrix[mine].sum(axis=0)).ravel() + 1.0
        outside = totals - inside + 2.0
        ratio = np.log((inside / inside.sum()) / (outside / outside.sum()))
        scaled: NDArray[np.float64] = ratio / max(float(np.abs(ratio).mean()), 1e-9)
        return scaled

    def svm(features: sp.csr_matrix, index: int) -> tuple[NDArray[np.float64], float]:
        mine = truth == index
        if not mine.any():  # a team only the held-out newest rows have: never said
            return np.zeros(features.shape[1]), -1.0
        # tol 1e-3: the same accuracy, 20% slower; the seed makes a retraining repeatable
        model = LinearSVC(C=options.c, tol=1e-2, random_state=options.seed)
        with warnings.catch_warnings():  # a capped run is still a usable model
            warnings.simplefilter("ignore")
            model.fit(features, mine, sample_weight=sample * np.where(mine, balance[index], 1.0))
        return model.coef_.ravel(), float(model.intercept_[0])

    coef = np.zeros((vectorizer.size, len(labels)), dtype=np.float32)
    intercept = np.zeros(len(labels), dtype=np.float32)
    ratios = [ratio_of(truth == index) for index in range(len(labels))]
    # One label at a time, scaling the matrix in place and restoring it: no copy of it but
    # liblinear's own (~16 bytes a non-zero). Two threads would halve the time on an idle
    # machine, at a second copy's memory, and liblinear's shared random state would make a
    # retraining on the same rows come out different.
    original = matrix.data.astype(np.float32)  # the values are float32 ones: exact
    fits = []
    for index in range(len(labels)):
        matrix.data *= ratios[index][matrix.indices]
        try:
            fits.append(svm(matrix, index))
        finally:
            matrix.data[:] = original
    for index, (weights, bias) in enumerate(fits):
        coef[:, index] = weights * ratios[index]
        intercept[index] = bias
    return LinearTextModel(vectorizer, coef, intercept, labels, 1.0)


def score_matrix(model: LinearTextModel, texts: Sequence[str]) -> NDArray[np.float64]:
    rows = [model.scores(text) for text in texts]
    zero = np.zeros(len(model.labels))
    return np.array([row if row is not None else zero for row in rows])


def measure(
    model: LinearTextModel, texts: Sequence[str], truth: NDArray[np.int64], options: TrainOptions
) -> Measured:
    """Held-out figures. The temperature is fitted on one half and judged on the other (and
    the other way round), so the calibration error reported is not the one it was fitted to;
    the model keeps the temperature fitted on all of them."""
    scores = score_matrix(model, texts)
    predicted = scores.argmax(axis=1)
    order = np.random.default_rng(options.seed).permutation(len(truth))
    halves = (order[: len(order) // 2], order[len(order) // 2 :])
    errors = []
    for fit_on, judge in (halves, halves[::-1]):
        if len(fit_on) and len(judge):
            t = fit_temperature(scores[fit_on], truth[fit_on])
            top = softmax(scores[judge], t).max(axis=1)
            errors.append(expected_calibration_error(top, predicted[judge] == truth[judge]))
    temperature = fit_temperature(scores, truth)
    confidence = softmax(scores, temperature).max(axis=1)
    correct = predicted == truth
    suggested = threshold_for(confidence, correct, options.target_accuracy)
    return Measured(
        accuracy=round(float(correct.mean()), 4),
        ece=round(float(np.mean(errors)) if errors else 0.0, 4),
        temperature=temperature,
        labels=per_label(model.labels, truth, predicted),
        at_threshold=coverage_at(confidence, correct, options.min_probability),
        suggested=coverage_at(confidence, correct, suggested),
        holdout_rows=len(truth),
    )


def learn(
    examples: Sequence[Example],
    options: TrainOptions,
    now: datetime,
    weights: Sequence[float] | None = None,
    sources: Sequence[str] = (),
    skipped: dict[str, int] | None = None,
    clock: Callable[[], float] | None = None,
) -> Learned:
    """Hold out a share (the newest rows in time order, else a stratified random one), fit,
    measure and calibrate on it, refit on everything."""
    from sklearn.model_selection import train_test_split

    tick = clock or _perf
    started = tick()
    rows, row_labels, rare = fold_rare(examples, options.min_examples)
    labels = sorted(set(row_labels), key=lambda label: (label == FALLBACK, label))
    if len(labels) < 2:
        raise ValueError(
            f"need at least two teams with {options.min_examples} or more tickets each "
            f"(found {len(labels)}); lower --min-examples or give more history"
        )
    index = {label: i for i, label in enumerate(labels)}
    texts = [examples[row].text for row in rows]
    truth = np.array([index[label] for label in row_labels], dtype=np.int64)
    all_weights = np.ones(len(examples)) if weights is None else np.asarray(weights, float)
    sample = all_weights[rows]
    positions = np.arange(len(texts))
    share = max(options.holdout, len(labels) / len(texts))
    if options.time_ordered:
        sample = sample * recency_weights(np.asarray(rows), len(examples), options)
        train_at, test_at = time_split(len(texts), share)
    else:
        train_at, test_at = train_test_split(
            positions, test_size=share, stratify=truth, random_state=options.seed
        )
    documents = [words(text) for text in texts]  # tokenised once for both fits
    subjects = [subject_words(text) for text in texts] if options.subject else None
    first = fit(
        [documents[i] for i in train_at],
        truth[train_at],
        labels,
        options,
        sample[train_at],
        [subjects[i] for i in train_at] if subjects is not None else None,
    )
    fitted = tick()
    measured = measure(first, [texts[i] for i in test_at], truth[test_at], options)
    model = fit(documents, truth, labels, options, sample, subjects) if options.refit else first
    model = LinearTextModel(
        model.vectorizer, model.coef, model.intercept, model.labels, measured.temperature
    )
    seconds = {"first_fit": fitted - started, "total": tick() - started}
    counts = Counter(row_labels)
    card = _card(model, measured, options, now, examples, counts, rare, sources, skipped or {})
    return Learned(model, card, measured, seconds)


def time_split(rows: int, share: float) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Positions of the older rows and of the newest `share` of them (at least one each)."""
    cut = min(max(round(rows * (1 - share)), 1), rows - 1)
    positions = np.arange(rows, dtype=np.int64)
    return positions[:cut], positions[cut:]


def recency_weights(
    rows: NDArray[np.int64], total: int, options: TrainOptions
) -> NDArray[np.float64]:
    """Each row's weight by its place in a history of `total` rows, oldest first: the newest
    counts 1, one `recency_half_life` of the history before it 1/2 (mean 1 over `rows`)."""
    if options.recency_half_life <= 0 or total < 2 or not len(rows):
        return np.ones(len(rows))
    age = (total - 1 - rows.astype(np.float64)) / (total - 1)
    weight = 0.5 ** (age / options.recency_half_life)
    result: NDArray[np.float64] = weight / weight.mean()
    return result


def _perf() -> float:
    import time

    return time.perf_counter()


def _card(
    model: LinearTextModel,
    measured: Measured,
    options: TrainOptions,
    now: datetime,
    examples: Sequence[Example],
    counts: Counter[str],
    rare: dict[str, int],
    sources: Sequence[str],
    skipped: dict[str, int],
) -> dict[str, Any]:
    digest = digest_of(arrays_of(model), model.temperature)
    return {
        "format": FORMAT,
        "card_id": f"{now:%Y%m%d}-{digest[:10]}",
        "created_at": now.isoformat(timespec="seconds"),
        "model_sha256": digest,
        "data_sha256": data_hash(examples),
        "sources": list(sources),
        "rows": len(examples),
        "skipped_rows": dict(skipped),
        "labels": [{"label": label, "count": counts[label]} for label in model.labels],
        "folded_into_fallback": rare,
        "fallback_label": FALLBACK if FALLBACK in model.labels else None,
        "estimator": (
            f"TF-IDF word 1-2 + char 2-5 (min_df {options.min_df})"
            + (", subject words apart" if options.subject else "")
            + f", NB-scaled LinearSVC (C={options.c}) per label, sqrt-balanced"
            + (
                f", recent rows weigh more (half-life {options.recency_half_life:.0%} "
                "of the history)"
                if options.time_ordered and options.recency_half_life > 0
                else ""
            )
        ),
        "calibration": "temperature-scaled softmax over the per-label scores",
        "temperature": measured.temperature,
        "features": model.vectorizer.size,
        "refitted_on_all_rows": options.refit,
        "held_out": {
            "rows": measured.holdout_rows,
            "share": options.holdout,
            "split": "newest rows" if options.time_ordered else "stratified random",
            "accuracy": measured.accuracy,
            "expected_calibration_error": measured.ece,
            "per_label": [vars(score) for score in measured.labels],
            "at_min_probability": vars(measured.at_threshold),
            "suggested_min_probability": vars(measured.suggested),
        },
    }
