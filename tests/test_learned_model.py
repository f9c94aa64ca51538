"""The learned tier's model: features, calibration, the decision, the model file, training."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tests.learned_history import write_history
from triage.errors import ModelFileError
from triage.learned import model_file
from triage.learned.calibration import (
    coverage_at,
    expected_calibration_error,
    fit_temperature,
    softmax,
)
from triage.learned.decide import LearnedPolicy, decide
from triage.learned.features import fit_vectorizer, normalise, words
from triage.learned.history import Example, read_history
from triage.learned.predict import FALLBACK, Prediction
from triage.learned.train import Learned, TrainOptions, fit, fold_rare, learn

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def learned(tmp_path_factory: pytest.TempPathFactory) -> Learned:
    path = write_history(tmp_path_factory.mktemp("history") / "history.csv")
    history = read_history([path])
    return learn(history.examples, TrainOptions(), NOW, sources=[str(path)])


def test_training_and_prediction_paths_give_the_same_vectors():
    texts = ["VPN drops every hour", "wifi im Büro langsam", "", "Drucker drückt nicht", "vpn"]
    documents = [words(text) for text in texts * 2]
    vectorizer, matrix = fit_vectorizer(documents, min_df=2, max_word=1000, max_char=1000)
    again = vectorizer.matrix(texts * 2)
    assert matrix.shape == again.shape
    assert abs(matrix - again).max() < 1e-6


def test_case_and_accents_fold_and_other_scripts_keep_their_marks():
    assert normalise("Réseau LENT, Straße") == "reseau lent, strasse"
    assert normalise("नेटवर्क") == "नेटवर्क"  # Devanagari vowel signs are letters' parts
    assert normalise("한국어") == "한국어"


def test_an_unseen_misspelt_word_still_meets_known_character_grams():
    documents = [words("password reset"), words("password expired")]
    vectorizer, _ = fit_vectorizer(documents, 1, 100, 1000)
    cols, _ = vectorizer.vector("pasword")
    assert cols.size > 0 and all(col >= len(vectorizer.word_terms) for col in cols)


@pytest.mark.parametrize(
    ("temperature", "expected"), [(0.5, "sharper"), (1.0, "same"), (4.0, "flatter")]
)
def test_temperature_is_recovered_from_scores_drawn_at_it(temperature, expected):
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(4000, 5)) * 2
    truth = np.array([rng.choice(5, p=p) for p in softmax(scores, temperature)])
    found = fit_temperature(scores, truth)
    assert found == pytest.approx(temperature, rel=0.15), expected


def test_calibration_error_is_zero_when_confidence_matches_the_hit_rate():
    confidence = np.array([0.75] * 4 + [0.25] * 4)
    correct = np.array([True, True, True, False, True, False, False, False])
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.0)
    assert expected_calibration_error(np.full(4, 0.9), np.zeros(4, bool)) == pytest.approx(0.9)


def test_coverage_counts_only_the_decided_share():
    at = coverage_at(np.array([0.95, 0.92, 0.5, 0.2]), np.array([True, False, True, True]), 0.9)
    assert (at.coverage, at.accuracy) == (0.5, 0.5)


POLICY = LearnedPolicy(0.8, {"Network Team": "network", "Identity & Access": "account"})


@pytest.mark.parametrize(
    ("prediction", "category", "confident", "decided", "team", "chosen"),
    [
        (Prediction("Network Team", 0.95), "other", False, True, "Network Team", "network"),
        (Prediction("Network Team", 0.80), "hardware", False, True, "Network Team", "network"),
        (Prediction("Network Team", 0.95), "vpn", True, True, "Network Team", "vpn"),
        (Prediction("SAP Support", 0.99), "software", False, True, "SAP Support", "software"),
        (Prediction("Network Team", 0.79), "other", False, False, None, "other"),
        (Prediction(FALLBACK, 0.99), "other", False, False, None, "other"),
        (None, "other", False, False, None, "other"),
    ],
)
def test_the_decision_table(prediction, category, confident, decided, team, chosen):
    decision = decide(prediction, POLICY, category, confident)
    assert (decision.decided, decision.team, decision.category) == (decided, team, chosen)


def test_rare_teams_fold_into_the_fallback_or_are_left_out_when_too_few():
    examples = [Example(f"t{i}", "Big") for i in range(20)]
    examples += [Example("a", "Tiny A")] * 6 + [Example("b", "Tiny B")] * 5
    rows, labels, rare = fold_rare(examples, min_examples=10)
    assert rare == {"Tiny A": 6, "Tiny B": 5}
    assert labels.count(FALLBACK) == 11 and len(rows) == 31
    rows, labels, rare = fold_rare(examples[:23], min_examples=10)
    assert FALLBACK not in labels and len(rows) == 20 and rare == {"Tiny A": 3}


def test_the_same_rows_give_the_same_model(tmp_path: Path):
    history = read_history([write_history(tmp_path / "history.csv", per_team=15)])
    documents = [words(e.text) for e in history.examples]
    labels = sorted({e.label for e in history.examples})
    truth = np.array([labels.index(e.label) for e in history.examples])
    first = fit(documents, truth, labels, TrainOptions())
    again = fit(documents, truth, labels, TrainOptions())
    assert np.array_equal(first.coef, again.coef)
    assert np.array_equal(first.intercept, again.intercept)


def test_a_model_learned_from_a_fixture_history_names_the_teams(learned: Learned):
    model = learned.model
    card = learned.card
    assert card["held_out"]["accuracy"] >= 0.9
    assert [item["label"] for item in card["labels"]] == [
        "Facilities Desk",
        "Identity & Access",
        "Network Team",
        "SAP Support",
    ]
    assert card["folded_into_fallback"] == {"Printer Fleet": 3}
    said = model.predict("Heizung kaputt\nthe radiator in room 204 is cold, die heizung ist kalt")
    assert said is not None and said.label == "Facilities Desk"
    said = model.predict("mot de pase expiré\nI forgot my password, account locked")
    assert said is not None and said.label == "Identity & Access"
    assert model.predict("   ") is None


def test_a_ticket_of_two_teams_is_unsure_and_goes_on(learned: Learned):
    said = learned.model.predict("badge not working, and the wifi drops, and sap invoice posting")
    assert said is not None and said.probability < 0.8
    assert not decide(said, LearnedPolicy(0.8), "other", False).decided


def test_the_model_file_round_trips_to_the_same_probabilities(learned: Learned, tmp_path: Path):
    path = tmp_path / "model.npz"
    model_file.save(learned.model, learned.card, path)
    loaded, card = model_file.load(path)
    assert card == learned.card
    assert json.loads(model_file.card_path(path).read_text()) == card
    text = "vlan missing on switch port 12"
    assert loaded.predict(text) == learned.model.predict(text)


def _rewrite(path: Path, change) -> None:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    change(arrays)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    path.write_bytes(buffer.getvalue())


def test_a_tampered_model_file_is_refused(learned: Learned, tmp_path: Path):
    path = tmp_path / "model.npz"
    model_file.save(learned.model, learned.card, path)

    def boost_sap(arrays):
        arrays["intercept"] = arrays["intercept"] + np.float32(5.0) * (
            np.arange(len(arrays["intercept"])) == 3
        )

    _rewrite(path, boost_sap)
    with pytest.raises(ModelFileError, match="does not match its card"):
        model_file.load(path)


def test_a_card_beside_that_belongs_to_another_model_is_refused(learned: Learned, tmp_path: Path):
    path = tmp_path / "model.npz"
    model_file.save(learned.model, learned.card, path)
    other = {**learned.card, "card_id": "20200101-0000000000"}
    model_file.card_path(path).write_text(json.dumps(other))
    with pytest.raises(ModelFileError, match="is not the card of"):
        model_file.load(path)


class _Touch:
    """Unpickling this creates a file: the proof that loading ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_file_holding_pickled_objects_is_refused_without_running_them(tmp_path: Path):
    path, marker = tmp_path / "evil.npz", tmp_path / "code-ran"
    names = ["word_terms", "char_terms", "word_idf", "char_idf", "coef", "intercept", "labels"]
    with zipfile.ZipFile(path, "w") as archive:
        for name in [*names, "card"]:
            buffer = io.BytesIO()
            np.save(buffer, np.array([_Touch(marker)], dtype=object), allow_pickle=True)
            archive.writestr(f"{name}.npy", buffer.getvalue())
    with pytest.raises(ModelFileError, match="not a triage model file"):
        model_file.load(path)
    assert not marker.exists()
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="not a triage model file"):
        model_file.load(tmp_path / "junk.npz")
