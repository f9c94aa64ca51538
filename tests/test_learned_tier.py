"""The learned tier in the pipeline: `process`, `triage run` with the drop folder, SIGHUP,
`check`, and the ledger."""

from __future__ import annotations

import io
import json
import signal
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import daemon_running
from tests.learned_history import write_history
from tests.test_e2e_run import wait_for
from triage.cli.main import main
from triage.learned import model_file
from triage.learned.classifier import LearnedTier
from triage.learned.decide import LearnedPolicy
from triage.learned.history import read_history
from triage.learned.train import TrainOptions, learn
from triage.store.sqlite import SqliteStore

NETWORK = (
    "Wifi drops again",
    "the access point on floor 3 keeps dropping, packet loss on the uplink",
)
SAP = (
    "Purchase order blocked",
    "purchase order 4500012 stuck; material master record missing plant 1000",
)
MIXED = ("Several things", "badge not working, and the wifi drops, and sap invoice posting")


def train(folder: Path, seed: int = 7) -> tuple[Path, str]:
    history = read_history([write_history(folder / f"history-{seed}.csv", seed=seed)])
    learned = learn(history.examples, TrainOptions(), datetime.now(UTC))
    path = folder / "teams.npz"
    model_file.save(learned.model, learned.card, path)
    return path, str(learned.card["card_id"])


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return train(tmp_path_factory.mktemp("model"))


def config_for(tmp_path: Path, model: Path, min_probability: float = 0.5) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        "[dropfolder]\nsettle_seconds = 0.3\n"
        f"[learned]\nenabled = true\nmodel_path = '{model}'\n"
        f"min_probability = {min_probability}\n"
        'categories = { "SAP Support" = "software", "Network Team" = "network" }\n'
    )
    return config


def process(config: Path, tmp_path: Path, capsys, *tickets: tuple[str, str]) -> list[dict]:
    folder = tmp_path / "tickets"
    folder.mkdir(exist_ok=True)
    for number, (subject, body) in enumerate(tickets):
        (folder / f"{number}.txt").write_text(f"{subject}\n{body}\n")
    assert main(["--config", str(config), "process", "--json", str(folder)]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return sorted(results, key=lambda r: Path(r["source_ref"]).name)


def test_a_confident_prediction_assigns_the_team_and_maps_the_category(model, tmp_path, capsys):
    path, card_id = model
    config = config_for(tmp_path, path)
    network, sap = process(config, tmp_path, capsys, NETWORK, SAP)
    assert network["assignment"]["team"] == "Network Team"
    assert network["assignment"]["tier"] == "learned"
    assert network["assignment"]["model"] == card_id
    assert network["assignment"]["probability"] >= 0.5
    assert sap["assignment"]["team"] == "SAP Support"
    assert sap["category"] == "software"  # no rule placed it: the team's category
    assert "learned: SAP Support" in sap["route"]["reason"]
    assert sap["risk"] == "low" and sap["cost"]["usd"] == 0


def test_the_learned_tier_is_booked_at_zero_with_its_all_paid_baseline(model, tmp_path, capsys):
    path, card_id = model
    (network,) = process(config_for(tmp_path, path), tmp_path, capsys, NETWORK)
    store = SqliteStore(tmp_path / "var" / "triage.sqlite3")
    try:
        (entry,) = [e for e in store.ledger_for(network["id"]) if e.tier == "learned"]
    finally:
        store.close()
    assert (entry.usd, entry.model, entry.outcome) == (0.0, card_id, "decided")
    assert entry.baseline_usd > 0


def test_below_the_threshold_the_ticket_goes_on_unassigned(model, tmp_path, capsys):
    path, _ = model
    (mixed,) = process(config_for(tmp_path, path, min_probability=0.9), tmp_path, capsys, MIXED)
    assert mixed["assignment"] is None
    assert "learned: unsure" in mixed["route"]["reason"]
    assert mixed["status"] == "triaged" and mixed["category"] == "network"  # the rules' own


def test_a_tampered_model_file_stops_the_command_naming_the_file(model, tmp_path, capsys):
    path, _ = model
    tampered = tmp_path / "teams.npz"
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["coef"] = arrays["coef"] * np.float32(1.01)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    tampered.write_bytes(buffer.getvalue())
    config = config_for(tmp_path, tampered)
    (tmp_path / "t.txt").write_text("Wifi\nslow\n")
    assert main(["--config", str(config), "process", str(tmp_path / "t.txt")]) == 1
    assert "does not match its card" in capsys.readouterr().err
    assert main(["--config", str(config), "check"]) == 1
    assert "FAIL learned tier" in capsys.readouterr().out


def test_check_loads_the_model_and_prints_its_card(model, tmp_path, capsys):
    path, card_id = model
    main(["--config", str(config_for(tmp_path, path)), "check"])
    out = capsys.readouterr().out
    assert f"ok   learned tier: {path} loads" in out
    assert card_id in out and "Identity & Access" in out


@pytest.mark.slow
def test_triage_run_assigns_dropped_tickets_and_sighup_picks_up_a_new_model(tmp_path: Path):
    folder = tmp_path / "models"
    folder.mkdir()
    path, first_card = train(folder)
    config = config_for(tmp_path, path)
    inbox, processed, outbox = (
        tmp_path / "var" / name for name in ("inbox", "processed", "outbox")
    )
    inbox.mkdir(parents=True)
    with daemon_running(tmp_path, config) as daemon:
        (inbox / "net.txt").write_text("\n".join(NETWORK) + "\n")
        wait_for(lambda: (processed / "net.txt").exists(), timeout=60)
        (result,) = [json.loads(p.read_text()) for p in outbox.glob("*.json")]
        assert result["assignment"]["team"] == "Network Team"
        assert result["assignment"]["model"] == first_card

        _, second_card = train(folder, seed=11)  # a retrained model, written over the first
        assert second_card != first_card
        daemon.send_signal(signal.SIGHUP)
        log = tmp_path / "daemon.log"
        wait_for(lambda: "learned.reloaded" in log.read_text(), timeout=60)
        (inbox / "sap.txt").write_text("\n".join(SAP) + "\n")
        wait_for(lambda: (processed / "sap.txt").exists(), timeout=60)
        results = [json.loads(p.read_text()) for p in outbox.glob("*.json")]
        (sap,) = [r for r in results if r["subject"] == SAP[0]]
        assert sap["assignment"]["team"] == "SAP Support"
        assert sap["assignment"]["model"] == second_card
    assert daemon.returncode == 0


def test_eval_reports_the_learned_tier_and_its_team_accuracy(model, tmp_path, capsys):
    path, _ = model
    labels = tmp_path / "set"
    labels.mkdir()
    lines = []
    for name, (subject, body), team in (
        ("net.txt", NETWORK, "Network Team"),
        ("sap.txt", SAP, "SAP Support"),
        ("mixed.txt", MIXED, "Facilities Desk"),
    ):
        (labels / name).write_text(f"{subject}\n{body}\n")
        label = {"file": name, "category": "other", "risk": "low", "status": "triaged"}
        lines.append(json.dumps({**label, "tags": [], "team": team}))
    (labels / "labels.jsonl").write_text("\n".join(lines) + "\n")
    config = config_for(tmp_path, path, min_probability=0.9)
    assert main(["--config", str(config), "eval", "--json", str(labels / "labels.jsonl")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["learned_assigned"] == 2  # the mixed ticket is left unassigned
    assert report["team_accuracy"] == pytest.approx(2 / 3)
    assert main(["--config", str(config), "eval", str(labels / "labels.jsonl")]) == 0
    assert "assigned by learned    2  (67%); team right 67%" in capsys.readouterr().out


def test_a_reload_refuses_a_broken_file_and_keeps_the_running_model(tmp_path: Path):
    path, first_card = train(tmp_path)
    tier = LearnedTier(path, LearnedPolicy(0.5), None, lambda: datetime.now(UTC), None)
    path.write_bytes(b"half a file")
    assert tier.reload() is False
    assert tier.card_id == first_card
    assessed = tier.assess("t-1", "other", "\n".join(SAP), "other", False)
    assert assessed.assignment is not None and assessed.assignment.team == "SAP Support"
    _, second_card = train(tmp_path, seed=11)
    assert tier.reload() is True and tier.card_id == second_card


def test_enabled_without_a_model_file_is_a_configuration_error_naming_the_key(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text("[learned]\nenabled = true\n")
    assert main(["--config", str(config), "check"]) == 78
    assert "[learned]: Value error, enabled = true needs model_path" in capsys.readouterr().err
    config.write_text("[learned]\nmin_probability = 1.5\n")
    assert main(["--config", str(config), "check"]) == 78
    assert "[learned] min_probability: Input should be less than" in capsys.readouterr().err


def test_a_team_a_rule_assigned_stands_over_the_model(model, tmp_path, capsys):
    path, _ = model
    config = config_for(tmp_path, path)
    with config.open("a") as handle:
        handle.write(
            '[[rules]]\nname = "purchasing"\nmatch = ["purchase order"]\nteam = "Buyers"\n'
        )
    sap, network = process(config, tmp_path, capsys, SAP, NETWORK)
    assert sap["assignment"] == {
        "team": "Buyers",
        "probability": 1.0,
        "tier": "rules",
        "model": None,
    }
    assert network["assignment"]["tier"] == "learned"


def test_show_names_the_team_the_learned_tier_assigned(model, tmp_path, capsys):
    path, card_id = model
    config = config_for(tmp_path, path)
    (network,) = process(config, tmp_path, capsys, NETWORK)
    assert main(["--config", str(config), "show", network["id"]]) == 0
    out = capsys.readouterr().out
    assert "Network Team (learned " in out and f"model {card_id})" in out
