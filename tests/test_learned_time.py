"""The learned tier on a history in time order: the time column, the newest rows held out,
recent rows weighing more, the subject block, and calibration that stays honest."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tests.learned_history import history_rows
from triage.errors import InputError
from triage.learned.calibration import coverage_at, expected_calibration_error
from triage.learned.features import SUBJECT, fit_vectorizer, subject_words, words
from triage.learned.history import Example, parse_time, read_history
from triage.learned.train import TrainOptions, learn, recency_weights, time_split

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_history_with_a_time_column_is_read_oldest_first(tmp_path: Path):
    path = write_rows(
        tmp_path / "export.csv",
        [
            {"Opened": "2025-03-02 09:00:00", "Short description": "third", "Team": "A"},
            {"Opened": "2024-11-30T17:45:00Z", "Short description": "first", "Team": "B"},
            {"Opened": "2025-01-15 08:00:00", "Short description": "second", "Team": "A"},
        ],
    )
    history = read_history([path])
    assert history.time_column == "Opened"
    assert history.time_ordered
    assert [e.text for e in history.examples] == ["first", "second", "third"]


def test_without_a_time_column_the_file_order_stays_and_is_not_called_time(tmp_path: Path):
    path = write_rows(
        tmp_path / "export.csv",
        [{"Subject": "b", "Team": "A"}, {"Subject": "a", "Team": "B"}],
    )
    history = read_history([path])
    assert not history.time_ordered and history.time_column == ""
    assert [e.text for e in history.examples] == ["b", "a"]


@pytest.mark.parametrize(
    ("values", "expected_order"),
    [
        # day first: 13.01 can only be the 13th of January
        (["13.01.2025 10:00", "02.01.2025 10:00", "01.02.2025 10:00"], [1, 0, 2]),
        # month first with AM/PM: 12/31 can only be December 31st
        (["12/31/2025 5:30 PM", "01/02/2026 9:00 AM", "12/31/2025 9:00 AM"], [2, 0, 1]),
    ],
)
def test_day_first_and_month_first_times_are_told_apart(tmp_path: Path, values, expected_order):
    rows = [{"Created": v, "Subject": f"t{i}", "Team": "A"} for i, v in enumerate(values)]
    history = read_history([write_rows(tmp_path / "export.csv", rows)])
    assert [e.text for e in history.examples] == [f"t{i}" for i in expected_order]


def test_a_named_time_column_that_holds_no_times_is_refused(tmp_path: Path):
    path = write_rows(
        tmp_path / "export.csv",
        [
            {"When": "soon", "Subject": "a", "Team": "A"},
            {"When": "later", "Subject": "b", "Team": "B"},
        ],
    )
    with pytest.raises(InputError, match="'When' holds no times"):
        read_history([path], time="When")
    with pytest.raises(InputError, match="no column 'Opened'"):
        read_history([path], time="Opened")


def test_rows_without_a_readable_time_are_counted_as_skipped(tmp_path: Path):
    rows = [{"Date": f"2025-01-{d:02d}", "Subject": f"t{d}", "Team": "A"} for d in range(1, 20)]
    rows.append({"Date": "", "Subject": "undated", "Team": "A"})
    history = read_history([write_rows(tmp_path / "export.csv", rows)])
    assert history.time_ordered and len(history.examples) == 19
    assert history.skipped == {"no time": 1}


def test_parse_time_reads_utc_offsets_and_takes_naive_times_as_utc():
    assert parse_time("2025-01-01T01:00:00+01:00", "iso") == parse_time("2025-01-01 00:00", "iso")
    assert parse_time("31.12.2025", "%d.%m.%Y") == datetime(2025, 12, 31, tzinfo=UTC).timestamp()
    assert parse_time("yesterday", "iso") is None


def test_time_split_holds_out_the_newest_rows():
    older, newest = time_split(10, 0.2)
    assert older.tolist() == list(range(8)) and newest.tolist() == [8, 9]
    older, newest = time_split(3, 0.01)  # at least one row each side
    assert len(older) == 2 and newest.tolist() == [2]


@pytest.mark.parametrize(
    ("half_life", "expected"),
    [
        (0.5, [0.25, 0.5, 1.0]),  # the oldest is a whole history, two half-lives, old
        (1.0, [0.5, 0.5**0.5, 1.0]),
        (0.0, [1.0, 1.0, 1.0]),  # off
    ],
)
def test_recent_rows_weigh_more_halving_each_half_life(half_life, expected):
    weights = recency_weights(np.array([0, 5, 10]), 11, TrainOptions(recency_half_life=half_life))
    ratio = weights / weights[-1]
    assert ratio == pytest.approx(expected)
    assert weights.mean() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("VPN down\nsince this morning the tunnel drops", ["vpn", "down"]),
        ("  \nVPN down\nthe tunnel drops", ["vpn", "down"]),  # blank lines before it
        ("VPN down", []),  # one line: no subject apart from the rest
        ("VPN down\n   \n", []),  # nothing below it
    ],
)
def test_the_subject_is_the_first_line_above_a_body(text, expected):
    assert subject_words(text) == expected


def test_a_subject_word_is_a_feature_apart_from_the_same_word_in_the_body():
    texts = ["vpn\nprinter jam", "printer\nvpn drops", "vpn\nprinter jam", "printer\nvpn drops"]
    vectorizer, _ = fit_vectorizer(
        [words(t) for t in texts], 1, 100, 100, [subject_words(t) for t in texts]
    )
    assert {f"{SUBJECT}vpn", f"{SUBJECT}printer", "vpn", "printer"} <= set(vectorizer.word_terms)
    col = {term: i for i, term in enumerate(vectorizer.word_terms)}
    first, _ = vectorizer.vector(texts[0])
    second, _ = vectorizer.vector(texts[1])
    assert col[f"{SUBJECT}vpn"] in first and col[f"{SUBJECT}vpn"] not in second
    assert col["vpn"] in first and col["vpn"] in second


def test_training_and_prediction_give_the_same_vectors_with_subjects():
    texts = ["VPN drops\nevery hour since monday", "wifi im Büro\nlangsam", "Drucker", ""]
    texts = texts * 2
    vectorizer, matrix = fit_vectorizer(
        [words(t) for t in texts], 2, 1000, 1000, [subject_words(t) for t in texts]
    )
    assert abs(matrix - vectorizer.matrix(texts)).max() < 1e-6


def test_learning_in_time_order_holds_out_the_newest_rows_even_of_a_new_team():
    rows = history_rows(per_team=30)
    examples = [
        Example(f"{r['Short description']}\n{r['Description']}", r["Assignment group"])
        for r in rows
    ]
    # a team that only the newest tickets have: the first fit has none of it and must cope
    examples += [Example("heating broken\nthe radiator is cold", "New Team")] * 12
    learned = learn(examples, TrainOptions(time_ordered=True), NOW)
    held = learned.card["held_out"]
    assert held["split"] == "newest rows"
    assert held["rows"] == 26  # the newest 20% of the 132 learned (the rare team's 3 left out)
    new_team = next(s for s in held["per_label"] if s["label"] == "New Team")
    assert new_team["recall"] == 0.0  # not in the older 80%: never said while measuring
    said = learned.model.predict("heating broken\nthe radiator is cold")
    assert said is not None and said.label == "New Team"  # the refit learned it


def noisy_history(count: int, seed: int) -> list[Example]:
    """Four teams whose tickets share most of their words: some are hard to tell apart, and
    one in ten is filed under a wrong team, as in real histories."""
    rng = random.Random(seed)
    shared = [f"common{i}" for i in range(60)]
    own = {team: [f"{team.lower()}{i}" for i in range(15)] for team in ("Net", "Sap", "Iam", "Fac")}
    teams = list(own)
    examples = []
    for _ in range(count):
        team = rng.choice(teams)
        clue = rng.randint(0, 3)  # how many of the team's own words the ticket has
        body = rng.sample(shared, 6) + rng.sample(own[team], clue)
        rng.shuffle(body)
        label = rng.choice(teams) if rng.random() < 0.1 else team
        examples.append(Example(f"{' '.join(body[:2])}\n{' '.join(body[2:])}", label))
    return examples


@pytest.mark.parametrize("time_ordered", [False, True])
def test_calibrated_probabilities_hold_on_a_held_out_part(time_ordered: bool):
    learned = learn(noisy_history(1600, seed=1), TrainOptions(time_ordered=time_ordered), NOW)
    held_out = noisy_history(800, seed=2)
    predictions = [learned.model.predict(e.text) for e in held_out]
    confidence = np.array([p.probability if p else 0.0 for p in predictions])
    correct = np.array(
        [p is not None and p.label == e.label for p, e in zip(predictions, held_out, strict=True)]
    )
    accuracy = correct.mean()
    assert 0.5 < accuracy < 0.9  # hard enough that the probabilities have something to say
    # a tenth of the labels are wrong and a quarter of the tickets have no clue: one
    # temperature cannot fit every bin exactly, but no bin is far off
    assert expected_calibration_error(confidence, correct) <= 0.1
    # where it counts: what it would decide is right about as often as it says, and what it
    # calls unsure is unsure
    sure = coverage_at(confidence, correct, 0.8)
    assert sure.coverage > 0.3 and sure.accuracy >= 0.85
    unsure = confidence < 0.5
    assert unsure.sum() > 50 and correct[unsure].mean() < 0.5
