"""The learned tier on it-service-tickets (47,837 tickets, 8 groups), against a majority-class
baseline, in one run:

    python bench/learned.py [TICKETS.csv]

Stratified 80/20 split (random_state 42). The learned tier is trained by the same function
`triage learn` runs (its own held-out share inside the 80% for the card and the temperature,
then refitted on all of the 80%), written to a model file and loaded back from it; the 20% is
judged by the loaded model. Printed: accuracy, training seconds, prediction ms per ticket, the
model file's size, peak RSS of this process (it includes the data set), expected calibration
error, and at the default min_probability the decided share's accuracy and coverage.
Targets: accuracy >= 0.87, training <= 60 s on 2 cores, prediction <= 1 ms, file <= 50 MB,
peak RSS <= 2 GB, ECE <= 0.05, decided accuracy >= 0.95.

Timings depend on what else the machine runs: the load average is printed with them.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from triage.config.settings import load_settings
from triage.learned import model_file
from triage.learned.calibration import coverage_at, expected_calibration_error
from triage.learned.history import read_history
from triage.learned.train import TrainOptions, learn

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "it-service-tickets" / "tickets.csv"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA
    history = read_history([path], ["Document"], "Topic_group")
    examples = history.examples
    labels = [e.label for e in examples]
    train, test = train_test_split(examples, test_size=0.2, stratify=labels, random_state=42)
    threshold = load_settings(None, {}).settings.learned.min_probability
    print(
        f"{len(examples)} tickets, {len(set(labels))} groups; train {len(train)}, test {len(test)}"
    )
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared)")

    started, cpu = time.perf_counter(), time.process_time()
    learned = learn(train, TrainOptions(min_probability=threshold), datetime.now(UTC))
    train_seconds = time.perf_counter() - started
    train_cpu = time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as scratch:
        file = Path(scratch) / "model.npz"
        model_file.save(learned.model, learned.card, file)
        size_mb = file.stat().st_size / 1e6
        model, _ = model_file.load(file)
    started, cpu = time.perf_counter(), time.process_time()
    predictions = [model.predict(e.text) for e in test]
    predict_ms = (time.perf_counter() - started) / len(test) * 1000
    predict_cpu_ms = (time.process_time() - cpu) / len(test) * 1000
    truth = np.array([e.label for e in test])
    said = np.array([p.label if p else "" for p in predictions])
    confidence = np.array([p.probability if p else 0.0 for p in predictions])
    correct = said == truth
    ours = {
        "accuracy": float(correct.mean()),
        "training s": train_seconds,
        "predict ms": predict_ms,
        "file MB": size_mb,
        "peak RSS MB": peak_mb,
        "ECE": expected_calibration_error(confidence, correct),
    }
    at = coverage_at(confidence, correct, threshold)

    started = time.perf_counter()
    counts = Counter(e.label for e in train)
    majority, top = counts.most_common(1)[0]
    prior = top / len(train)
    base_seconds = time.perf_counter() - started
    started = time.perf_counter()
    base_said = np.array([majority for _ in test])
    base_ms = (time.perf_counter() - started) / len(test) * 1000
    base_correct = base_said == truth
    base_confidence = np.full(len(test), prior)
    base = {
        "accuracy": float(base_correct.mean()),
        "training s": base_seconds,
        "predict ms": base_ms,
        "file MB": 0.0,
        "peak RSS MB": peak_mb,
        "ECE": expected_calibration_error(base_confidence, base_correct),
    }
    base_at = coverage_at(base_confidence, base_correct, threshold)

    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(f"\n{'':<22}{'learned':>12}{'majority':>12}  target")
    targets = {
        "accuracy": ">= 0.87",
        "training s": "<= 60",
        "predict ms": "<= 1",
        "file MB": "<= 50",
        "peak RSS MB": "<= 2048",
        "ECE": "<= 0.05",
    }
    for name, value in ours.items():
        print(f"{name:<22}{value:>12.4f}{base[name]:>12.4f}  {targets[name]}")
    print(
        f"{'decided accuracy':<22}{at.accuracy:>12.4f}{base_at.accuracy:>12.4f}  >= 0.95 "
        f"(at min_probability {threshold})"
    )
    print(f"{'decided coverage':<22}{at.coverage:>12.4f}{base_at.coverage:>12.4f}")
    print(
        f"CPU time (what this process got of the shared cores): training {train_cpu:.1f} s, "
        f"prediction {predict_cpu_ms:.3f} ms/ticket"
    )
    print(f"\naccuracy ratio learned/majority: {ours['accuracy'] / base['accuracy']:.2f}")
    card = learned.card["held_out"]
    print(
        f"card (held out inside the training 80%): accuracy {card['accuracy']}, "
        f"ECE {card['expected_calibration_error']}, suggested min_probability "
        f"{card['suggested_min_probability']}; first fit {learned.seconds['first_fit']:.1f} s"
    )


if __name__ == "__main__":
    main()
