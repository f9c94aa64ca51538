"""The learned tier against plain TF-IDF + linear SVMs on a time split, in one run:

    python bench/learned.py [TICKETS.csv] [--text COLS] [--label COL] [--time COL]
                            [--only full|slice] [--tail N] [--no-previous]

The rows are put in time order (by the time column, named or found as `triage learn` finds
it; without one, the file's order is taken as time: it-service-tickets, the default data set,
has no dates, and its groups drift along the file). Trained on the oldest 80%, judged on the
newest 20%, each of:

- learned: what `triage learn` trains now (rows in time order), written to a model file and
  loaded back; the 20% judged one ticket at a time, as the daemon does;
- previous: the learned tier with the choices it had before (no subject block, stratified
  holdout, no recency weights): the before/after in the same run;
- no subject: learned without the subject block (only where at least a tenth of the training
  tickets have a subject line above a body: it-service-tickets has one text column);
- svm words / svm chars: scikit-learn TfidfVectorizer (word 1-2-grams, or char_wb 2-5-grams;
  sublinear tf, min_df 2) + LinearSVC (C=1), nothing else.

Two trainings, judged on the same newest 20%: `full` (all of the oldest 80%) and `slice`, a
long-tailed slice of it (the team of rank r keeps 4000/2^r of its training tickets, drawn at
random, seed 0, in their order), the shape of a real helpdesk where a few teams get most
tickets. For each: accuracy, accuracy on the tail (test tickets of the teams with fewer than
--tail training tickets, default 100), training seconds, prediction ms per ticket (one ticket
at a time, learned and SVMs alike), the model file's size, and for the learned tier its
calibration on the 20% (expected calibration error; at the configured min_probability, the
decided share's accuracy and coverage).

Timings depend on what else the machine runs: the load average is printed with them, and
CPU seconds (what this process used) beside the wall-clock ones.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from triage.config.settings import load_settings
from triage.learned import model_file
from triage.learned.calibration import coverage_at, expected_calibration_error
from triage.learned.features import subject_words
from triage.learned.history import Example, read_history
from triage.learned.train import TrainOptions, learn

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "it-service-tickets" / "tickets.csv"
SAMPLE = 2000  # tickets timed one by one for the SVMs (the learned tier: all of them)


@dataclass
class Row:
    accuracy: float
    tail: float | None
    train_s: float
    predict_ms: float
    train_cpu: float
    predict_cpu: float
    file_mb: float | None = None
    ece: float | None = None
    decided: tuple[float, float] | None = None  # accuracy, coverage at min_probability


def long_tailed(examples: Sequence[Example], seed: int = 0) -> list[Example]:
    """Team of rank r (most tickets first) keeps 4000/2^r of its rows, drawn at random; the
    rows stay in their order."""
    rng = np.random.default_rng(seed)
    by_team: dict[str, list[int]] = {}
    for row, example in enumerate(examples):
        by_team.setdefault(example.label, []).append(row)
    keep: list[int] = []
    ranked = sorted(by_team.items(), key=lambda item: (-len(item[1]), item[0]))
    for rank, (_, rows) in enumerate(ranked):
        size = min(len(rows), round(4000 / 2**rank))
        keep.extend(rng.choice(rows, size, replace=False).tolist())
    return [examples[row] for row in sorted(keep)]


def judge(
    said: Sequence[str], truth: Sequence[str], tail_teams: set[str]
) -> tuple[float, float | None]:
    hits = np.array([a == b for a, b in zip(said, truth, strict=True)])
    in_tail = np.array([label in tail_teams for label in truth])
    tail = float(hits[in_tail].mean()) if in_tail.any() else None
    return float(hits.mean()), tail


def run_learned(
    train: list[Example],
    test: list[Example],
    options: TrainOptions,
    tail_teams: set[str],
    threshold: float,
) -> Row:
    started, cpu = time.perf_counter(), time.process_time()
    learned = learn(train, options, datetime.now(UTC))
    train_s, train_cpu = time.perf_counter() - started, time.process_time() - cpu
    with tempfile.TemporaryDirectory() as scratch:
        file = Path(scratch) / "model.npz"
        model_file.save(learned.model, learned.card, file)
        size_mb = file.stat().st_size / 1e6
        model, _ = model_file.load(file)
    started, cpu = time.perf_counter(), time.process_time()
    predictions = [model.predict(e.text) for e in test]
    predict_ms = (time.perf_counter() - started) / len(test) * 1000
    predict_cpu = (time.process_time() - cpu) / len(test) * 1000
    truth = [e.label for e in test]
    said = [p.label if p else "" for p in predictions]
    accuracy, tail = judge(said, truth, tail_teams)
    confidence = np.array([p.probability if p else 0.0 for p in predictions])
    correct = np.array([a == b for a, b in zip(said, truth, strict=True)])
    at = coverage_at(confidence, correct, threshold)
    return Row(
        accuracy,
        tail,
        train_s,
        predict_ms,
        train_cpu,
        predict_cpu,
        size_mb,
        expected_calibration_error(confidence, correct),
        (at.accuracy, at.coverage),
    )


def run_svm(train: list[Example], test: list[Example], analyzer: str, tail_teams: set[str]) -> Row:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    grams = (1, 2) if analyzer == "word" else (2, 5)
    started, cpu = time.perf_counter(), time.process_time()
    vectorizer = TfidfVectorizer(analyzer=analyzer, ngram_range=grams, sublinear_tf=True, min_df=2)
    matrix = vectorizer.fit_transform([e.text for e in train])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        svm = LinearSVC(C=1.0).fit(matrix, [e.label for e in train])
    train_s, train_cpu = time.perf_counter() - started, time.process_time() - cpu
    said = list(svm.predict(vectorizer.transform([e.text for e in test])))
    sample = test[:SAMPLE]
    started, cpu = time.perf_counter(), time.process_time()
    for example in sample:
        svm.predict(vectorizer.transform([example.text]))
    predict_ms = (time.perf_counter() - started) / len(sample) * 1000
    predict_cpu = (time.process_time() - cpu) / len(sample) * 1000
    accuracy, tail = judge(said, [e.label for e in test], tail_teams)
    return Row(accuracy, tail, train_s, predict_ms, train_cpu, predict_cpu)


def bench(
    name: str,
    train: list[Example],
    test: list[Example],
    args: argparse.Namespace,
    threshold: float,
) -> None:
    counts = Counter(e.label for e in train)
    tail_teams = {label for label, n in counts.items() if n < args.tail}
    tail_tickets = sum(e.label in tail_teams for e in test)
    unseen = sum(e.label not in counts for e in test)
    print(
        f"\n== {name}: trained on {len(train)} of the oldest 80% ({len(counts)} teams), "
        f"tested on the newest {len(test)} ({unseen} of teams never seen in training)"
    )
    print(
        f"   tail: {len(tail_teams)} teams with fewer than {args.tail} training tickets, "
        f"{tail_tickets} test tickets; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores (shared)"
    )
    runs: dict[str, Callable[[], Row]] = {
        "learned": lambda: run_learned(
            train,
            test,
            TrainOptions(min_probability=threshold, time_ordered=True),
            tail_teams,
            threshold,
        ),
    }
    if not args.no_previous:
        runs["previous"] = lambda: run_learned(
            train,
            test,
            TrainOptions(min_probability=threshold, subject=False, time_ordered=False, balance=0.5),
            tail_teams,
            threshold,
        )
    with_subject = sum(bool(subject_words(e.text)) for e in train)
    if with_subject >= len(train) // 10:  # the subject block can only matter where there are two
        runs["no subject"] = lambda: run_learned(
            train,
            test,
            TrainOptions(min_probability=threshold, time_ordered=True, subject=False),
            tail_teams,
            threshold,
        )
    runs["svm words"] = lambda: run_svm(train, test, "word", tail_teams)
    runs["svm chars"] = lambda: run_svm(train, test, "char_wb", tail_teams)
    rows = {}
    for label, runner in runs.items():
        rows[label] = runner()
        print(f"   {label} done", file=sys.stderr, flush=True)
    print(f"   load average after: {os.getloadavg()[0]:.1f}")

    def cell(value: float | None, digits: int = 4) -> str:
        return f"{value:>12.{digits}f}" if value is not None else f"{'-':>12}"

    print(f"   {'':<28}" + "".join(f"{label:>12}" for label in rows))
    lines: list[tuple[str, Callable[[Row], float | None], int]] = [
        ("accuracy", lambda r: r.accuracy, 4),
        ("tail accuracy", lambda r: r.tail, 4),
        ("training s (wall)", lambda r: r.train_s, 1),
        ("training s (CPU)", lambda r: r.train_cpu, 1),
        ("prediction ms/ticket (wall)", lambda r: r.predict_ms, 3),
        ("prediction ms/ticket (CPU)", lambda r: r.predict_cpu, 3),
        ("model file MB", lambda r: r.file_mb, 2),
        ("ECE", lambda r: r.ece, 4),
        (f"decided acc @{threshold}", lambda r: r.decided[0] if r.decided else None, 4),
        (f"decided coverage @{threshold}", lambda r: r.decided[1] if r.decided else None, 4),
    ]
    for title, get, digits in lines:
        print(f"   {title:<28}" + "".join(cell(get(r), digits) for r in rows.values()))
    ours = rows["learned"].accuracy
    best = max(rows["svm words"].accuracy, rows["svm chars"].accuracy)
    print(f"   learned - best svm: {ours - best:+.4f} accuracy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tickets", nargs="?", type=Path, default=DATA)
    parser.add_argument("--text", help="text columns, comma-separated")
    parser.add_argument("--label", help="the team column")
    parser.add_argument("--time", help="the time column (default: found by name, else none)")
    parser.add_argument("--only", choices=("full", "slice"))
    parser.add_argument("--tail", type=int, default=100)
    parser.add_argument("--no-previous", action="store_true")
    args = parser.parse_args()
    text = args.text.split(",") if args.text else None
    history = read_history([args.tickets], text, args.label, args.time)
    order = (
        f"time order by {history.time_column!r}"
        if history.time_ordered
        else "the file's order (no time column)"
    )
    print(f"{args.tickets.name}: {len(history.examples)} tickets in {order}")
    threshold = load_settings(None, {}).settings.learned.min_probability
    cut = int(len(history.examples) * 0.8)
    train, test = history.examples[:cut], history.examples[cut:]
    if args.only != "slice":
        bench("full", train, test, args, threshold)
    if args.only != "full":
        bench("long-tailed slice", long_tailed(train), test, args, threshold)


if __name__ == "__main__":
    main()
