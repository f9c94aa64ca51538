"""Reading history exports: CSV and JSON Lines as helpdesks really export them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage.errors import InputError
from triage.learned.history import read_history


def test_csv_with_bom_semicolons_newlines_in_fields_and_guessed_columns(tmp_path: Path):
    path = tmp_path / "export.csv"
    text = (
        "Number;Short description;Description;Assignment group\n"
        'INC1;VPN down;"line one\nline two; with a semicolon";Network Team\n'
        "INC2;Password reset;;  Identity   & Access \n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    history = read_history([path])
    assert history.text_columns == ("Short description", "Description")
    assert history.label_column == "Assignment group"
    assert [(e.text, e.label) for e in history.examples] == [
        ("VPN down\nline one\nline two; with a semicolon", "Network Team"),
        ("Password reset", "Identity & Access"),
    ]


def test_windows_1252_export_is_read_with_its_accents(tmp_path: Path):
    path = tmp_path / "export.csv"
    path.write_bytes(
        "subject,team\nImprimante bloquée à l'accueil,Facilités\nRéseau lent,Réseau\n".encode(
            "cp1252"
        )
    )
    history = read_history([path])
    assert [e.label for e in history.examples] == ["Facilités", "Réseau"]
    assert history.examples[0].text == "Imprimante bloquée à l'accueil"


def test_rows_without_label_or_text_are_counted_not_learned(tmp_path: Path):
    path = tmp_path / "export.csv"
    path.write_text("title,body,queue\nok,fine,Ops\n,,Ops\nno team,here,\n ,  ,\n")
    history = read_history([path])
    assert [e.label for e in history.examples] == ["Ops"]
    assert history.skipped == {"no text": 1, "no label": 2}


def test_json_lines_with_a_broken_line_and_named_columns(tmp_path: Path):
    path = tmp_path / "export.jsonl"
    lines = [
        json.dumps({"subj": "Badge broken", "text": "door B", "grp": "Facilities Desk"}),
        "{not json",
        json.dumps({"subj": "SAP", "text": None, "grp": "SAP Support"}),
        json.dumps(["not", "an", "object"]),
    ]
    path.write_text("\n".join(lines) + "\n")
    history = read_history([path], ["subj", "text"], "grp")
    assert [(e.text, e.label) for e in history.examples] == [
        ("Badge broken\ndoor B", "Facilities Desk"),
        ("SAP", "SAP Support"),
    ]
    assert history.skipped == {"no label": 2}


def test_unknown_columns_are_refused_naming_the_columns_there(tmp_path: Path):
    path = tmp_path / "export.csv"
    path.write_text("foo,bar\n1,2\n")
    with pytest.raises(InputError, match=r"--label \('foo', 'bar'\)|--text \('foo', 'bar'\)"):
        read_history([path])
    with pytest.raises(InputError, match="no column 'Team'"):
        read_history([path], ["foo"], "Team")
