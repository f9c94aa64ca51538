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
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from triage.learned.features import Vectorizer
from triage.learned.predict import LinearTextModel

FORMAT = "triage-learned/1"
_ARRAYS = ("word_terms", "char_terms", "word_idf", "char_idf", "coef", "intercept", "labels")
_SEPARATOR = "\n"  # never inside a term: terms are \w runs, a space and n-grams of them
# What each array may be: its number of dimensions and its kind of number (u: the UTF-8
# bytes of texts, f: floating point). Anything else is not a model of ours.
_SHAPES = {
    "word_terms": (1, "u"),
    "char_terms": (1, "u"),
    "word_idf": (1, "f"),
    "char_idf": (1, "f"),
    "coef": (2, "f"),
    "intercept": (1, "f"),
    "labels": (1, "u"),
    "card": (1, "u"),
}


@dataclass(frozen=True)
class SizeLimits:
    """The most a model file may unpack to, checked in its zip directory and in each array's
    header before anything is read: a small file that inflates to gigabytes is refused
    without the memory. `triage learn` keeps 10 million coefficients (40 MB of float32) and
    their terms; these leave room for that four times over."""

    array_bytes: int = 160 * 1024 * 1024
    total_bytes: int = 320 * 1024 * 1024
    members: int = 16


LIMITS = SizeLimits()


class ModelFileError(Exception):
    """The model file cannot be used: missing, not a model, or not matching its card."""


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


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MiB"


def check_sizes(path: Path, limits: SizeLimits = LIMITS) -> None:
    """Refuse a file whose arrays would unpack to more than `limits`, reading only the zip
    directory and each array's .npy header (what numpy would allocate). The directory's
    sizes bound what zipfile inflates (a member longer than it says fails its CRC), and each
    header must describe exactly the bytes of its member."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > limits.members:
            raise ModelFileError(f"{path}: not a triage model file ({len(members)} members)")
        total = sum(member.file_size for member in members)
        if total > limits.total_bytes:
            raise ModelFileError(
                f"{path}: unpacks to {_mib(total)}, more than the {_mib(limits.total_bytes)} "
                "a model file may hold: refused without reading it"
            )
        for member in members:
            name = member.filename.removesuffix(".npy")
            if member.file_size > limits.array_bytes:
                raise ModelFileError(
                    f"{path}: {name} unpacks to {_mib(member.file_size)}, more than the "
                    f"{_mib(limits.array_bytes)} an array may hold: refused without reading it"
                )
            with archive.open(member) as stream:
                _check_header(path, name, stream, member.file_size)


def _check_header(path: Path, name: str, stream: IO[bytes], size: int) -> None:
    from numpy.lib import format as npy

    try:
        version = npy.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = npy.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = npy.read_array_header_2_0(stream)
        else:
            raise ValueError(f".npy version {version}")
    except (ValueError, TypeError, SyntaxError) as exc:
        raise ModelFileError(
            f"{path}: not a triage model file ({name} is not a plain array: {exc})"
        ) from None
    expected = _SHAPES.get(name)
    if expected is None:
        raise ModelFileError(f"{path}: not a triage model file (it holds an array {name!r})")
    dims, kind = expected
    if len(shape) != dims or dtype.kind != kind or dtype.hasobject or dtype.itemsize > 8:
        raise ModelFileError(
            f"{path}: not a triage model file ({name} is {dtype.str} of shape {shape})"
        )
    declared = math.prod(shape) * dtype.itemsize
    if declared != size - stream.tell():
        raise ModelFileError(
            f"{path}: {name} says it holds {_mib(declared)} in {_mib(size - stream.tell())}: "
            "a damaged or forged file, refused without reading it"
        )


def _finite(arrays: dict[str, NDArray[Any]], temperature: float) -> str | None:
    """The first number that is not finite, in words; None when all are."""
    if not math.isfinite(temperature) or temperature <= 0:
        return f"temperature {temperature!r} (a finite number above 0 is needed)"
    for name in ("word_idf", "char_idf", "coef", "intercept"):
        if not np.isfinite(arrays[name]).all():
            return f"{name} holds numbers that are not finite (NaN or infinity)"
    return None


def load(path: Path, limits: SizeLimits = LIMITS) -> tuple[LinearTextModel, dict[str, Any]]:
    """The model and its card; ModelFileError when it is not a sound model file."""
    try:
        check_sizes(path, limits)
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
    problem = _finite(arrays, temperature)
    if problem is not None:
        raise ModelFileError(f"{path}: {problem}: refused; train it again")
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
