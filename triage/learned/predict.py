"""The trained model as the daemon uses it: TF-IDF features, one linear score per label, a
temperature-scaled softmax. numpy only: nothing of scikit-learn is needed to predict."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from triage.learned.calibration import softmax
from triage.learned.features import Vectorizer

# The label rare teams are folded into: a prediction of it never decides.
FALLBACK = "(rare teams)"


@dataclass(frozen=True)
class Prediction:
    label: str
    probability: float


class LinearTextModel:
    def __init__(
        self,
        vectorizer: Vectorizer,
        coef: NDArray[np.float32],
        intercept: NDArray[np.float32],
        labels: Sequence[str],
        temperature: float,
    ) -> None:
        if coef.shape != (vectorizer.size, len(labels)) or intercept.shape != (len(labels),):
            raise ValueError(
                f"coefficients {coef.shape} do not fit {vectorizer.size} features and "
                f"{len(labels)} labels"
            )
        finite = np.isfinite(coef).all() and np.isfinite(intercept).all()
        if not finite or not math.isfinite(temperature) or temperature <= 0:
            raise ValueError("coefficients or temperature are not finite positive numbers")
        self.vectorizer = vectorizer
        self.coef = np.ascontiguousarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.labels = list(labels)
        self.temperature = float(temperature)

    def scores(self, text: str) -> NDArray[np.float64] | None:
        """One score per label; None for a text with no known words (nothing to judge by)."""
        cols, values = self.vectorizer.vector(text)
        if not cols.size:
            return None
        raw = values @ self.coef[cols] + self.intercept
        return np.asarray(raw, dtype=np.float64)

    def predict(self, text: str) -> Prediction | None:
        """The most likely label and its calibrated probability, or None (see `scores`)."""
        scores = self.scores(text)
        if scores is None:
            return None
        probabilities = softmax(scores, self.temperature)
        best = int(probabilities.argmax())
        return Prediction(self.labels[best], float(probabilities[best]))
