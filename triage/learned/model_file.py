"""The model file: plain arrays in a numpy .npz (loaded with allow_pickle=False, so opening it
cannot run code) and the card as JSON inside it, with a copy beside it (`<file>.card.json`)
for people. The card holds the SHA-256 of every array; a file whose arrays, or whose card
beside it, do not match is refused.

The digest guards against a corrupted, half-copied or edited file and a card that belongs to
another model; it is not a signature (whoever can write the file can write a new digest), and
it need not be one: the worst a forged file can do is assign wrong teams.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from triage.errors import ModelFileError
from triage.learned.features import Vectorizer
from triage.learned.predict import LinearTextModel

FORMAT = "triage-learned/1"
_ARRAYS = ("word_terms", "char_terms", "word_idf", "char_idf", "coef", "intercept", "labels")
_SEPARATOR = "\n"  # never inside a term: terms are \w runs, a space and n-grams of them


def card_path(path: Path) -> Path:
    return path.with_name(path.name + ".card.json")


def _texts(values: list[str]) -> NDArray[np.uint8]:
    return np.frombuffer(_SEPARATOR.join(values).encode("utf-8"), dtype=np.uint8)


def _strings(array: NDArray[Any]) -> list[str]:
    text = bytes(array.astype(np.uint8)).decode("utf-8")
    return text.split(_SEPARATOR) if text else []


def arrays_of(model: LinearTextModel) -> dict[str, NDArray[Any]]:
    vectorizer = model.vectorizer
    return {
        "word_terms": _texts(vectorizer.word_terms),
        "char_terms": _texts(vectorizer.char_terms),
        "word_idf": vectorizer.word_idf,
        "char_idf": vectorizer.char_idf,
        "coef": model.coef,
        "intercept": model.intercept,
        "labels": _texts(model.labels),
    }


def digest_of(arrays: dict[str, NDArray[Any]], temperature: float) -> str:
    """SHA-256 over every array's name, type, shape and bytes, and the temperature."""
    digest = hashlib.sha256(FORMAT.encode())
    for name in _ARRAYS:
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    digest.update(repr(round(temperature, 9)).encode())
    return digest.hexdigest()


def save(model: LinearTextModel, card: dict[str, Any], path: Path) -> None:
    """Write the model and its card atomically (a daemon reloading never sees half a file)."""
    arrays = arrays_of(model)
    if card.get("model_sha256") != digest_of(arrays, model.temperature):
        raise ValueError("the card's model_sha256 is not this model's")
    card_bytes = json.dumps(card, indent=2, ensure_ascii=False).encode("utf-8")
    buffer = io.BytesIO()
    arrays["card"] = np.frombuffer(card_bytes, dtype=np.uint8)
    np.savez_compressed(buffer, allow_pickle=False, **arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, data in ((card_path(path), card_bytes + b"\n"), (path, buffer.getvalue())):
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_bytes(data)
        temporary.replace(target)


def load(path: Path) -> tuple[LinearTextModel, dict[str, Any]]:
    """The model and its card; ModelFileError when it is not a sound model file."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in (*_ARRAYS, "card")}
    except FileNotFoundError:
        raise ModelFileError(
            f"{path}: no such model file (train one with `triage learn`)"
        ) from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{path}: not a triage model file ({exc})") from None
    try:
        card = json.loads(bytes(arrays.pop("card").astype(np.uint8)).decode("utf-8"))
        temperature = float(card["temperature"])
        expected = str(card["model_sha256"])
        fmt = card["format"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{path}: its card is unreadable ({exc})") from None
    if fmt != FORMAT:
        raise ModelFileError(f"{path}: format {fmt!r}, this triage reads {FORMAT!r}")
    if digest_of(arrays, temperature) != expected:
        raise ModelFileError(
            f"{path}: the model does not match its card (changed or damaged since "
            "`triage learn` wrote it): refused; train it again"
        )
    beside = card_path(path)
    if beside.exists():
        try:
            other = json.loads(beside.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"{beside}: unreadable card ({exc})") from None
        if other != card:
            raise ModelFileError(
                f"{beside} is not the card of {path} (model {other.get('card_id')!r} vs "
                f"{card.get('card_id')!r}): refused; copy both files together"
            )
    try:
        vectorizer = Vectorizer(
            _strings(arrays["word_terms"]),
            _strings(arrays["char_terms"]),
            arrays["word_idf"],
            arrays["char_idf"],
        )
        model = LinearTextModel(
            vectorizer, arrays["coef"], arrays["intercept"], _strings(arrays["labels"]), temperature
        )
    except ValueError as exc:
        raise ModelFileError(f"{path}: inconsistent model ({exc})") from None
    return model, card
