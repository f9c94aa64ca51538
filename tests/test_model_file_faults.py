"""Model files an attacker or a broken disk could hand us: numbers that are not finite behind
a consistent digest, and small files that inflate to gigabytes. Refused at load and by
`check`, before anything large is read."""

from __future__ import annotations

import io
import json
import math
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tests.learned_history import write_history
from triage.cli import main
from triage.learned import model_file
from triage.learned.decide import LearnedPolicy, decide
from triage.learned.history import read_history
from triage.learned.model_file import ModelFileError, SizeLimits
from triage.learned.predict import Prediction
from triage.learned.train import TrainOptions, learn


@pytest.fixture(scope="module")
def sound(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    history = read_history([write_history(folder / "history.csv")])
    learned = learn(history.examples, TrainOptions(), datetime(2026, 11, 30, tzinfo=UTC))
    path = folder / "teams.npz"
    model_file.save(learned.model, learned.card, path)
    return path


def forge(sound: Path, target: Path, change) -> Path:
    """A file as a forger writes it: arrays changed, then the card's digest made to match."""
    with np.load(sound, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    card = json.loads(bytes(arrays.pop("card")).decode("utf-8"))
    change(arrays, card)
    card["model_sha256"] = model_file.digest_of(arrays, float(card["temperature"]))
    arrays["card"] = np.frombuffer(json.dumps(card).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    target.write_bytes(buffer.getvalue())
    return target


def _temperature(value: float):
    def change(arrays, card):
        card["temperature"] = value

    return change


def _poison(name: str, value: float):
    def change(arrays, card):
        arrays[name] = arrays[name].copy()
        arrays[name].flat[0] = value

    return change


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (_temperature(math.nan), "temperature nan"),
        (_temperature(math.inf), "temperature inf"),
        (_temperature(-1.0), "temperature -1.0"),
        (_poison("coef", math.inf), "coef holds numbers that are not finite"),
        (_poison("intercept", math.nan), "intercept holds numbers that are not finite"),
        (_poison("word_idf", -math.inf), "word_idf holds numbers that are not finite"),
    ],
)
def test_a_consistent_file_with_a_number_that_is_not_finite_is_refused(
    sound, tmp_path, change, named
):
    path = forge(sound, tmp_path / "forged.npz", change)
    with pytest.raises(ModelFileError, match=named):
        model_file.load(path)


def config_for(tmp_path: Path, model: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f"[learned]\nenabled = true\nmodel_path = '{model}'\n")
    return config


def test_check_refuses_a_model_whose_temperature_is_nan(sound, tmp_path, capsys):
    path = forge(sound, tmp_path / "nan.npz", _temperature(math.nan))
    assert main(["--config", str(config_for(tmp_path, path)), "check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL learned tier" in out and "temperature nan" in out


@pytest.mark.parametrize("probability", [math.nan, math.inf, -math.inf])
def test_a_probability_that_is_not_finite_is_unsure_and_decides_nothing(probability):
    decision = decide(Prediction("Network Team", probability), LearnedPolicy(0.9), "other", False)
    assert not decision.decided and decision.team is None and decision.probability is None
    assert decision.category == "other" and "unsure" in decision.note


def npy_header(shape: tuple[int, ...], dtype: str) -> bytes:
    """The 128-byte .npy v1.0 header numpy writes for an array of this shape and type."""
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape!r}, }}"
    header += " " * (128 - 10 - 1 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1")


def with_member(sound: Path, target: Path, name: str, data_writer) -> Path:
    """`sound` with one member replaced by what `data_writer(stream)` writes."""
    with (
        zipfile.ZipFile(sound) as source,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for member in source.infolist():
            if member.filename == f"{name}.npy":
                with archive.open(member.filename, "w", force_zip64=True) as stream:
                    data_writer(stream)
            else:
                archive.writestr(member, source.read(member))
    return target


def test_a_header_that_declares_gigabytes_in_a_few_bytes_is_refused_before_reading(sound, tmp_path):
    # 100,000 x 10,000 float32 = 3.7 GiB declared, 64 bytes present: numpy would allocate
    # the whole array first and find the bytes missing only then.
    def declare(stream):
        stream.write(npy_header((100_000, 10_000), "<f4") + bytes(64))

    path = with_member(sound, tmp_path / "liar.npz", "coef", declare)
    with pytest.raises(ModelFileError, match=r"coef says it holds 3,814\.7 MiB"):
        model_file.load(path)


def test_a_member_that_inflates_past_the_limit_is_refused_from_the_zip_directory(sound, tmp_path):
    # 4 MiB of zeros compress to a few KiB; with a 1 MiB limit per array it must be refused
    # by its size in the zip directory (the default limits are the same code with more room).
    rows = 4 * 1024 * 1024 // 4 // 5

    def zeros(stream):
        stream.write(npy_header((rows, 5), "<f4") + bytes(rows * 5 * 4))

    path = with_member(sound, tmp_path / "bomb.npz", "coef", zeros)
    assert path.stat().st_size < 200 * 1024
    limits = SizeLimits(array_bytes=1024 * 1024, total_bytes=64 * 1024 * 1024)
    with pytest.raises(ModelFileError, match=r"coef unpacks to 4\.0 MiB, more than the 1\.0 MiB"):
        model_file.load(path, limits)
    limits = SizeLimits(array_bytes=64 * 1024 * 1024, total_bytes=2 * 1024 * 1024)
    with pytest.raises(ModelFileError, match=r"unpacks to 4\.\d MiB, more than the 2\.0 MiB"):
        model_file.load(path, limits)


def test_check_refuses_a_model_file_that_inflates_to_gigabytes(sound, tmp_path, capsys):
    # A real zip bomb: 200 MiB of zeros behind a 200 KiB file (the default limit is 160 MiB).
    rows = 200 * 1024 * 1024 // 4 // 50
    chunk = bytes(rows * 50 * 4 // 50)

    def zeros(stream):
        stream.write(npy_header((rows, 50), "<f4"))
        for _ in range(50):
            stream.write(chunk)

    path = with_member(sound, tmp_path / "bomb.npz", "coef", zeros)
    assert path.stat().st_size < 1024 * 1024
    assert main(["--config", str(config_for(tmp_path, path)), "check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL learned tier" in out and "coef unpacks to 200.0 MiB" in out


def test_an_array_of_another_kind_or_name_is_refused(sound, tmp_path):
    def strings(stream):
        stream.write(npy_header((4,), "<U8") + bytes(4 * 32))

    path = with_member(sound, tmp_path / "odd.npz", "labels", strings)
    with pytest.raises(ModelFileError, match="labels is <U8 of shape"):
        model_file.load(path)


def test_a_sound_model_file_still_loads_within_the_default_limits(sound):
    model, card = model_file.load(sound)
    assert card["format"] == model_file.FORMAT and model.labels
