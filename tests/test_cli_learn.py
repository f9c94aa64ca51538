"""`triage learn` and `triage label`, through the command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.learned_history import history_rows, write_history
from triage.cli.main import main
from triage.learned import model_file
from triage.store.sqlite import SqliteStore

BADGE_TICKETS = [
    ("Badge not working", "my badge does not open the door to building B since monday"),
    ("Badge reader broken", "the badge reader at the garage entrance shows red"),
    ("New badge needed", "I lost my badge yesterday, please block it and issue a new one"),
    ("Visitor badge", "a visitor badge for our auditor on tuesday please"),
    ("Badge access to lab", "my badge should open the lab door on floor 2"),
    ("Badge photo wrong", "the badge shows my old photo, can it be reprinted"),
    ("Badge blocked", "my badge was blocked after the holidays"),
    ("Badge for contractor", "contractor needs a badge for building C for two weeks"),
    ("Badge door alarm", "door alarm goes off when I use my badge at exit 4"),
    ("Badge expired", "my badge expired today and the gate does not open"),
    ("Badge sticker", "the badge sticker for the car park is missing"),
    ("Second badge", "I need a second badge for the other site"),
]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text("[store]\npath = 'state/triage.sqlite3'\n", encoding="utf-8")
    return path


def test_learn_writes_a_model_and_prints_its_card(config, tmp_path, capsys):
    history = write_history(tmp_path / "history.csv")
    out = tmp_path / "models" / "team.npz"
    code = main(
        [
            "--config",
            str(config),
            "learn",
            str(history),
            "--text",
            "Short description,Description",
            "--label",
            "Assignment group",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    _, card = model_file.load(out)
    assert card["card_id"] in printed and "Identity & Access" in printed
    assert "Printer Fleet (3)" in printed  # a rare team is named, not silently dropped


def test_learn_without_history_or_store_is_a_usage_error(config, capsys):
    assert main(["--config", str(config), "learn"]) == 2
    assert "learn needs a HISTORY" in capsys.readouterr().err


def test_learn_refuses_a_history_whose_columns_it_cannot_find(config, tmp_path, capsys):
    history = tmp_path / "odd.csv"
    history.write_text("alpha,beta\n1,2\n")
    assert main(["--config", str(config), "learn", str(history)]) == 1
    assert "name them with --text ('alpha', 'beta')" in capsys.readouterr().err


def test_a_history_without_a_header_row_keeps_its_first_tickets_password_out_of_the_error(
    config, tmp_path, capsys
):
    # The first line is a ticket, not column names: the error lists its cells scrubbed.
    history = tmp_path / "headerless.csv"
    history.write_text(
        "INC1,VPN broken. my password: Hunter2-secret-77,Network\nINC2,printer jam,Print\n"
    )
    assert main(["--config", str(config), "learn", str(history)]) == 1
    err = capsys.readouterr().err
    assert "name them with --text" in err and "[CREDENTIAL:password]" in err
    assert "Hunter2-secret-77" not in err


def test_label_refuses_an_unknown_ticket(config, tmp_path, capsys):
    ticket = tmp_path / "badge.txt"
    ticket.write_text("Badge not working\nthe door stays shut\n")
    assert main(["--config", str(config), "process", str(ticket)]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "label", "t-nosuchticket", "Network Team"]) == 1
    assert "no ticket t-nosuchticket" in capsys.readouterr().err


def _process(config: Path, tmp_path: Path, capsys) -> list[dict[str, object]]:
    folder = tmp_path / "tickets"
    folder.mkdir()
    for number, (subject, body) in enumerate(BADGE_TICKETS):
        (folder / f"badge-{number:02d}.txt").write_text(f"{subject}\n{body}\n")
    assert main(["--config", str(config), "process", "--json", str(folder)]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_corrections_learned_from_the_store_change_the_prediction(config, tmp_path, capsys):
    history = write_history(tmp_path / "history.csv")
    before = tmp_path / "before.npz"
    assert main(["--config", str(config), "learn", str(history), "--out", str(before)]) == 0
    capsys.readouterr()
    model, _ = model_file.load(before)
    probe = "Badge stopped working\nmy badge no longer opens the side door of building A"
    said = model.predict(probe)
    assert said is not None and said.label == "Facilities Desk"

    results = _process(config, tmp_path, capsys)
    ids = [str(result["id"]) for result in results]
    for ticket_id in ids[:6]:  # the team that now handles badges, told one by one...
        assert main(["--config", str(config), "label", ticket_id, "Security Office"]) == 0
    corrections = tmp_path / "corrections.jsonl"  # ...and the rest imported from a file
    corrections.write_text(
        "".join(json.dumps({"id": i, "team": "Security Office"}) + "\n" for i in ids[6:])
        + "not json\n"
    )
    assert main(["--config", str(config), "label", "--import", str(corrections)]) == 1
    assert "corrections.jsonl:7: not a correction line" in capsys.readouterr().err
    corrections.write_text(  # all or nothing: imported once the bad line is gone
        "".join(json.dumps({"id": i, "team": "Security Office"}) + "\n" for i in ids[6:])
    )
    assert main(["--config", str(config), "label", "--import", str(corrections)]) == 0
    assert "6 labels recorded" in capsys.readouterr().err

    after = tmp_path / "after.npz"
    command = ["learn", str(history), "--from-store", "--out", str(after), "--json"]
    assert main(["--config", str(config), *command]) == 0
    card = json.loads(capsys.readouterr().out)
    assert {"label": "Security Office", "count": 12} in card["labels"]
    model, _ = model_file.load(after)
    said = model.predict(probe)
    assert said is not None and said.label == "Security Office"


def test_a_label_says_whether_it_confirms_or_corrects(config, tmp_path, capsys):
    results = _process(config, tmp_path, capsys)
    ticket_id = str(results[0]["id"])
    assert main(["--config", str(config), "label", ticket_id, " Security  Office "]) == 0
    assert "team 'Security Office' corrected (was unassigned)" in capsys.readouterr().out


def test_learn_with_a_time_column_holds_out_the_newest_tickets(config, tmp_path, capsys):
    rows = history_rows(per_team=30)
    for day, row in enumerate(rows):
        row["Opened"] = f"2025-{1 + day // 28:02d}-{1 + day % 28:02d} 09:00"
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "team.npz"
    code = main(
        ["--config", str(config), "learn", str(path), "--time", "Opened", "--out", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "held out: 24 rows (the newest)" in printed  # 20% of the 120 learned
    assert "recent rows weigh more" in printed


def _labels(config: Path) -> list[tuple[str, str]]:
    store = SqliteStore(config.parent / "state" / "triage.sqlite3", read_only=True)
    try:
        return sorted((result.id, team) for team, _, result in store.labelled())
    finally:
        store.close()


@pytest.mark.parametrize(
    ("team", "said"),
    [
        ("null", "the team must be a string, not null"),
        ('{"name": "x"}', "the team must be a string, not an object"),
        ('["a", "b"]', "the team must be a string, not a list"),
        ("true", "the team must be a string, not a boolean"),
        ("42", "the team must be a string, not a number"),
        ('"   "', "the team is empty"),
        (json.dumps("x" * 5_000_000), "the team is 5,000,000 characters long (at most 200)"),
    ],
)
def test_an_import_with_a_team_that_is_not_a_name_refuses_the_line_and_records_nothing(
    config, tmp_path, capsys, team, said
):
    first, second, third = (str(r["id"]) for r in _process(config, tmp_path, capsys)[:3])
    corrections = tmp_path / "corrections.jsonl"
    corrections.write_text(
        f'{{"id": "{first}", "team": "Security Office"}}\n'
        f'{{"id": "{second}", "team": {team}}}\n'
        f'{{"id": "{third}", "team": "Facilities Desk"}}\n'
    )
    assert main(["--config", str(config), "label", "--import", str(corrections)]) == 1
    err = capsys.readouterr().err
    assert f"corrections.jsonl:2: {second}: {said}" in err
    assert "nothing imported" in err and len(err) < 2_000
    assert _labels(config) == []  # not the first line either


def test_an_import_of_sound_lines_records_every_one(config, tmp_path, capsys):
    first, second = (str(r["id"]) for r in _process(config, tmp_path, capsys)[:2])
    corrections = tmp_path / "corrections.jsonl"
    corrections.write_text(
        f'{{"id": "{first}", "team": " Security  Office "}}\n\n'
        f'{{"id": "{second}", "team": "Facilities Desk", "category": "hardware"}}\n'
    )
    assert main(["--config", str(config), "label", "--import", str(corrections)]) == 0
    assert _labels(config) == sorted([(first, "Security Office"), (second, "Facilities Desk")])


@pytest.mark.parametrize("line", ["null", "[1, 2]", '"text"', '{"id": null, "team": "A"}'])
def test_an_import_line_that_is_no_correction_is_refused_by_its_number(
    config, tmp_path, capsys, line
):
    (first,) = (str(r["id"]) for r in _process(config, tmp_path, capsys)[:1])
    corrections = tmp_path / "corrections.jsonl"
    corrections.write_text(f'{{"id": "{first}", "team": "A Team"}}\n{line}\n')
    assert main(["--config", str(config), "label", "--import", str(corrections)]) == 1
    assert "corrections.jsonl:2: " in capsys.readouterr().err
    assert _labels(config) == []


def test_a_team_longer_than_a_name_is_refused_on_the_command_line(config, tmp_path, capsys):
    (first,) = (str(r["id"]) for r in _process(config, tmp_path, capsys)[:1])
    assert main(["--config", str(config), "label", first, "x" * 201]) == 1
    assert "201 characters long (at most 200)" in capsys.readouterr().err
    assert _labels(config) == []
