"""Names in processed/ and failed/: collision-free by construction, a note never lands on an
input, nothing earlier is ever overwritten, whatever the folder already holds."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from triage.files import (
    move_without_clobber,
    placed_name,
    rename_without_clobber,
    write_atomically,
)


def fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_a_free_name_is_kept_as_it_is(tmp_path):
    assert placed_name(tmp_path, "bad.json", "t-1", ".error") == tmp_path / "bad.json"


def test_a_name_whose_note_would_land_on_an_earlier_file_is_tagged(tmp_path):
    (tmp_path / "report.error").write_text("an earlier input, quarantined")
    placed = placed_name(tmp_path, "report", "t-2", ".error")
    assert placed != tmp_path / "report"
    assert not (tmp_path / (placed.name + ".error")).exists()


def test_an_input_named_like_a_note_never_takes_that_name(tmp_path):
    placed = placed_name(tmp_path, "report.error", "t-3", ".error")
    assert not placed.name.endswith(".error")
    assert placed.name.startswith("report.error.t-3-")


def test_a_taken_name_gets_a_new_one_with_the_same_extension_among_many_earlier(tmp_path):
    (tmp_path / "ticket.json").write_text("{}")
    for n in range(3000):
        (tmp_path / f"ticket.{n}.json").write_text(str(n))
    before = fingerprint(tmp_path)
    names = set()
    for n in range(200):
        placed = placed_name(tmp_path, "ticket.json", f"t-{n}", ".error")
        assert placed.suffix == ".json" and placed.name not in before and placed.name not in names
        write_atomically(placed, b"new", replace=False)
        names.add(placed.name)
    after = fingerprint(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing overwritten
    assert len(after) == len(before) + 200


def test_a_tagged_long_name_and_its_note_still_fit_a_file_name(tmp_path):
    name = "é" * 100 + ".eml"  # 204 bytes
    (tmp_path / name).write_text("earlier")
    placed = placed_name(tmp_path, name, "t-" + "0" * 20, ".error")
    assert placed.suffix == ".eml" and len(os.fsencode(placed.name + ".error")) <= 255
    write_atomically(placed, b"new", replace=False)
    write_atomically(placed.with_name(placed.name + ".error"), b"note", replace=False)


def test_placing_never_overwrites_even_when_a_name_is_taken_meanwhile(tmp_path):
    source, target = tmp_path / "in.eml", tmp_path / "out.eml"
    source.write_text("new")
    target.write_text("earlier")
    with pytest.raises(FileExistsError):
        move_without_clobber(source, target)
    with pytest.raises(FileExistsError):
        write_atomically(target, b"new", replace=False)
    with pytest.raises(FileExistsError):
        rename_without_clobber(source, target)
    assert target.read_text() == "earlier" and source.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.eml", "out.eml"]  # no temp left


def test_a_symbolic_link_is_moved_as_a_link_never_followed(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("not to be read")
    link = tmp_path / "link.eml"
    link.symlink_to(secret)
    moved = tmp_path / "failed" / "link.eml"
    moved.parent.mkdir()
    move_without_clobber(link, moved)
    assert moved.is_symlink() and os.readlink(moved) == str(secret)


def test_writers_of_one_file_at_once_never_mix_their_bytes(tmp_path):
    target = tmp_path / "t-1.json"
    errors: list[BaseException] = []

    def write(fill: bytes) -> None:
        try:
            for _ in range(50):
                write_atomically(target, fill * 50_000)
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(bytes([65 + n]),)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    data = target.read_bytes()
    assert len(data) == 50_000 and len(set(data)) == 1  # one writer's whole file
    assert [p.name for p in tmp_path.iterdir()] == ["t-1.json"]
