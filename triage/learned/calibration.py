"""Pure numpy: decision scores -> calibrated probabilities, and the measures of the card.

Calibration is temperature scaling (Guo et al., 2017): probabilities are softmax(scores / T)
with one T fitted by maximum likelihood on held-out scores. One number, so it cannot overfit a
few thousand held-out tickets, it keeps the model's ranking (accuracy unchanged), and the daemon
applies it with one division. Measured on it-service-tickets (bench/learned.py), it brings the
NB-scaled SVM's scores to an expected calibration error of 0.022 on the held-out 20%. Platt
or isotonic scaling per label (scikit-learn's CalibratedClassifierCV) would cost several more
fits per label and a fitted curve per label in the model file; it was not needed, so not
measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float64]
BINS = 15


def softmax(scores: Matrix, temperature: float) -> Matrix:
    scaled = np.asarray(scores, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    result: Matrix = exp / exp.sum(axis=-1, keepdims=True)
    return result


def fit_temperature(scores: Matrix, truth: NDArray[np.int64]) -> float:
    """The T that maximises the likelihood of the true labels (searched in 0.01-100).

    The targets are smoothed by 1/(n + 2) (Laplace's rule of succession): n held-out tickets
    all predicted right do not prove certainty, and without it an easy held-out share would
    push T to its floor and every probability, even for a ticket like none seen, to 1.0."""
    from scipy.optimize import minimize_scalar  # training only: the daemon never loads it

    smoothing = 1.0 / (len(truth) + 2)
    rows = np.arange(len(truth))

    def loss(log_t: float) -> float:
        picked = softmax(scores, float(np.exp(log_t)))[rows, truth]
        right, wrong = (
            np.log(np.clip(picked, 1e-12, None)),
            np.log(np.clip(1 - picked, 1e-12, None)),
        )
        return float(-((1 - smoothing) * right + smoothing * wrong).mean())

    found = minimize_scalar(loss, bounds=(np.log(0.01), np.log(100.0)), method="bounded")
    return float(np.exp(found.x))


def expected_calibration_error(confidence: Matrix, correct: NDArray[np.bool_]) -> float:
    """ECE over 15 equal-width bins of the top probability."""
    if len(confidence) == 0:
        return 0.0
    bins = np.minimum((confidence * BINS).astype(int), BINS - 1)
    total = 0.0
    for b in range(BINS):
        inside = bins == b
        if inside.any():
            gap = abs(float(correct[inside].mean()) - float(confidence[inside].mean()))
            total += gap * inside.sum() / len(confidence)
    return total


@dataclass(frozen=True)
class Coverage:
    threshold: float
    coverage: float  # share of tickets at or above the threshold
    accuracy: float  # accuracy among those (1.0 when none)


def coverage_at(confidence: Matrix, correct: NDArray[np.bool_], threshold: float) -> Coverage:
    decided = confidence >= threshold
    share = float(decided.mean()) if len(confidence) else 0.0
    accuracy = float(correct[decided].mean()) if decided.any() else 1.0
    return Coverage(round(threshold, 4), round(share, 4), round(accuracy, 4))


def threshold_for(
    confidence: Matrix, correct: NDArray[np.bool_], target: float, floor: float = 0.5
) -> float:
    """The lowest threshold (at least `floor`) whose decided share is `target` accurate."""
    for threshold in np.arange(floor, 1.0, 0.01):
        if coverage_at(confidence, correct, float(threshold)).accuracy >= target:
            return round(float(threshold), 2)
    return 0.99


@dataclass(frozen=True)
class LabelScore:
    label: str
    support: int
    precision: float
    recall: float


def per_label(
    labels: Sequence[str], truth: NDArray[np.int64], predicted: NDArray[np.int64]
) -> list[LabelScore]:
    scores = []
    for index, label in enumerate(labels):
        actual, said = truth == index, predicted == index
        hits = int((actual & said).sum())
        scores.append(
            LabelScore(
                label=label,
                support=int(actual.sum()),
                precision=round(hits / int(said.sum()), 4) if said.any() else 0.0,
                recall=round(hits / int(actual.sum()), 4) if actual.any() else 0.0,
            )
        )
    return scores
