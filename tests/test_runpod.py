"""The Runpod tier through the real `runpod` SDK, against a loopback stand-in of the
/v2/{endpoint} job API that runs the project's real worker handler on the tiny GGUF."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("RUNPOD_LOG_LEVEL", "ERROR")

from models.gpu import RunpodBatches
from models.local import LocalModel
from models.prompt import load_prompt
from models.worker import make_handler
from tests.conftest import mail, raw
from tests.gguf_model import write_model
from tests.standins.runpod_api import RunpodStandIn
from triage.breaker import Breaker
from triage.compose.app import build_pipeline
from triage.delivery.outbox import Outbox
from triage.tiers.runpod import Offloader, OffloadPolicy

USD_PER_SECOND = 0.001


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> LocalModel:
    path = write_model(tmp_path_factory.mktemp("gguf") / "worker.gguf")
    return LocalModel(path, load_prompt("triage"), n_ctx=8192, max_tokens=3000)


@pytest.fixture
def gpu(model: LocalModel) -> Iterator[RunpodStandIn]:
    stand_in = RunpodStandIn(make_handler(model)).start()
    yield stand_in
    stand_in.stop()


def offloader(gpu: RunpodStandIn, store, clock, budget=10.0, timeout=20.0) -> Offloader:
    client = RunpodBatches(
        "ep-test", "rp-test-key", gpu.base_url, timeout_seconds=timeout, poll_seconds=0.05
    )
    policy = OffloadPolicy(
        budget, USD_PER_SECOND, timeout, 50, "triage", load_prompt("triage").version
    )
    return Offloader(client, store, policy, Breaker(3, 300), clock)


@pytest.fixture
def settings(make_settings):
    """A backlog of a few tickets is enough to offload."""
    return make_settings("[routing]\nrunpod_backlog_seconds = 1.0\n")


def flow(settings, store, clock, gpu, local=None, dry_run=False, **kwargs):
    return build_pipeline(
        settings,
        store,
        Outbox(settings.outbox.dir),
        clock,
        local=local,
        dry_run=dry_run,
        offloader=offloader(gpu, store, clock, **kwargs),
    )


def backlog(n: int, extra: str = "") -> list:
    return [
        raw(
            mail(
                f"Portal issue {i}",
                f"The portal shows error 50{i} since 9:00. {extra}",
                sender=f"user{i}@example.com",
            ),
            name=f"{i}.eml",
        )
        for i in range(n)
    ]


def test_a_backlog_goes_to_runpod_in_one_job_and_its_gpu_seconds_are_split(
    gpu, settings, store, clock
):
    outcomes = flow(settings, store, clock, gpu).handle_batch(backlog(4))
    assert len(gpu.requests) == 1 and len(gpu.requests[0]["input"]["tickets"]) == 4
    for outcome in outcomes:
        result = outcome.result
        assert result.route.tier == "runpod"
        assert [(a.tier, a.ok) for a in result.route.attempts] == [
            ("rules", True),
            ("runpod", True),
        ]
        [row] = store.ledger_for(result.id)
        assert (row.tier, row.template, row.outcome) == ("runpod", "triage", "ok")
        assert row.usd == pytest.approx(2.0 * USD_PER_SECOND / 4)  # (1.2 s delay + 0.8 s) / 4
        assert result.cost.usd == pytest.approx(row.usd)


def test_restricted_tickets_are_never_sent_and_nothing_secret_leaves(
    gpu, model, settings, store, clock
):
    tickets = [*backlog(3), raw(mail("Portal", "my password: Hunter2!xyz fails"), name="r.eml")]
    outcomes = flow(settings, store, clock, gpu, local=model).handle_batch(tickets)
    sent = json.dumps(gpu.requests)
    assert "Hunter2" not in sent and "user0@example.com" not in sent
    assert len(gpu.requests[0]["input"]["tickets"]) == 3
    restricted = outcomes[-1].result
    assert restricted.sensitivity.level == "restricted" and restricted.route.tier == "local"


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "CANCELLED"])
def test_failed_jobs_hand_their_tickets_back_to_the_local_tier(
    gpu, model, settings, store, clock, status
):
    gpu.script.append(status)
    outcomes = flow(settings, store, clock, gpu, local=model).handle_batch(backlog(3))
    for outcome in outcomes:
        result = outcome.result
        assert result.route.tier == "local"
        assert [(a.tier, a.ok) for a in result.route.attempts][:2] == [
            ("rules", True),
            ("runpod", False),
        ]
        tiers = [row.tier for row in store.ledger_for(result.id)]
        assert tiers == ["runpod", "local"]  # the attempt is booked too


def test_a_job_that_never_finishes_is_cancelled_and_its_tickets_go_local(
    gpu, model, settings, store, clock
):
    gpu.script.append("NEVER")
    outcomes = flow(settings, store, clock, gpu, local=model, timeout=1.0).handle_batch(backlog(2))
    assert gpu.cancelled
    assert all(o.result.route.tier == "local" for o in outcomes)
    assert all("cancelled" in (o.result.route.attempts[1].error or "") for o in outcomes)


def test_an_exhausted_runpod_budget_sends_nothing(gpu, model, settings, store, clock):
    outcomes = flow(settings, store, clock, gpu, local=model, budget=0.001).handle_batch(backlog(2))
    assert gpu.requests == []
    assert all("runpod budget exhausted" in o.result.route.attempts[1].error for o in outcomes)


def test_a_small_backlog_stays_local(gpu, model, make_settings, store, clock):
    defaults = make_settings()  # runpod_backlog_seconds = 300: 2 x 5 s estimated stays local
    flow(defaults, store, clock, gpu, local=model).handle_batch(backlog(2))
    assert gpu.requests == []


def test_a_dry_run_offloads_nothing(gpu, model, settings, store, clock):
    flow(settings, store, clock, gpu, local=model, dry_run=True).handle_batch(backlog(3))
    assert gpu.requests == []


def test_the_worker_refuses_a_template_it_does_not_run(model):
    handler = make_handler(model)
    assert "error" in handler({"input": {"template": "triage", "version": "99", "tickets": []}})


def test_runpod_is_configured_with_an_endpoint_and_key(tmp_path: Path, capsys):
    from triage.cli.main import EXIT_CONFIG, main

    config = tmp_path / "config.toml"
    config.write_text("[runpod]\nenabled = true\nendpoint_id = 'ep'\n")
    (tmp_path / "t.txt").write_text("Printer jams")
    assert main(["--config", str(config), "process", str(tmp_path / "t.txt")]) == EXIT_CONFIG
    assert "[runpod] api_key is not set" in capsys.readouterr().err


def test_check_reaches_the_runpod_endpoint(gpu, tmp_path, capsys):
    from triage.cli.main import main

    config = tmp_path / "config.toml"
    config.write_text(
        f"[runpod]\nenabled = true\nendpoint_id = 'ep-test'\napi_key = 'k'\n"
        f"base_url = '{gpu.base_url}'\n"
    )
    assert main(["--config", str(config), "check"]) == 0
    assert "ok   runpod tier: endpoint ep-test: idle: 1" in capsys.readouterr().out
