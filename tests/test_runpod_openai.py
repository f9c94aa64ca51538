"""The Runpod tier on Runpod's official vLLM worker ([runpod] mode = "openai"), through the real
`openai` SDK against a loopback stand-in serving Runpod's route /v2/<endpoint>/openai/v1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from models.gpu_vllm import VllmBatches
from models.prompt import load_prompt
from tests.standins.chat_api import ChatStandIn
from triage.breaker import Breaker
from triage.records import month_window
from triage.tiers.runpod import Offloader, OffloadItem, OffloadPolicy

USD_PER_SECOND = 0.001
MODEL = "Qwen/Qwen2.5-1.5B-Instruct"


@pytest.fixture
def runpod() -> Iterator[ChatStandIn]:
    stand_in = ChatStandIn(
        prefix="/v2/ep-vllm/openai/v1", models=[MODEL], api_key="rp-test-key"
    ).start()
    yield stand_in
    stand_in.stop()


def runpod_base(stand_in: ChatStandIn) -> str:
    return stand_in.base_url.split("/v2/")[0] + "/v2"


def offloader(stand_in, store, clock, budget=10.0, timeout=20.0, base=None) -> Offloader:
    template = load_prompt("triage")
    client = VllmBatches(
        "ep-vllm",
        "rp-test-key",
        base or runpod_base(stand_in),
        MODEL,
        template,
        timeout_seconds=timeout,
    )
    policy = OffloadPolicy(budget, USD_PER_SECOND, timeout, 50, "triage", template.version)
    return Offloader(client, store, policy, Breaker(3, 300), clock)


def items(n: int) -> list[OffloadItem]:
    return [
        OffloadItem(
            f"t{i}", f"Subject: Portal\n\nThe portal shows error 50{i}.", "other", "low", "w"
        )
        for i in range(n)
    ]


def test_a_batch_goes_through_the_vllm_workers_openai_route_and_each_ticket_is_booked(
    runpod, store, clock
):
    runpod.category_tops = [("software", 0.8), ("other", 0.2)]
    prepared = offloader(runpod, store, clock).run(items(3))
    assert all(p.answer is not None and p.tier == "runpod" for p in prepared.values())
    assert prepared["t0"].answer is not None and prepared["t0"].answer.category == "software"
    assert {r.path for r in runpod.completions()} == {"/v2/ep-vllm/openai/v1/chat/completions"}
    assert all(r.headers["authorization"] == "Bearer rp-test-key" for r in runpod.requests)
    assert all(r.body["model"] == MODEL for r in runpod.completions())
    for ticket in ("t0", "t1", "t2"):
        [row] = store.ledger_for(ticket)
        assert (row.tier, row.provider, row.model) == ("runpod", "runpod-vllm:ep-vllm", MODEL)
        assert row.usd == pytest.approx(row.seconds * USD_PER_SECOND) and row.usd > 0


def test_the_job_never_spends_past_its_reserved_worst_case_nor_the_budget(runpod, store, clock):
    budget = 0.05
    offloader(runpod, store, clock, budget=budget, timeout=20.0).run(items(2))
    since, until = month_window(clock(), "UTC")
    assert store.spent("runpod", since, until) <= 20.0 * USD_PER_SECOND
    # the next job's worst case (20 s at $0.001) no longer fits what is left of $0.05
    prepared = offloader(runpod, store, clock, budget=budget - 0.031).run(items(1))
    assert prepared["t0"].error == "runpod budget exhausted"


def test_an_unreachable_endpoint_hands_the_whole_batch_back(runpod, store, clock):
    prepared = offloader(runpod, store, clock, base="http://127.0.0.1:9/v2").run(items(3))
    assert all(p.answer is None and p.error for p in prepared.values())


def test_a_wrong_key_is_refused_and_nothing_is_answered(runpod, store, clock):
    template = load_prompt("triage")
    client = VllmBatches(
        "ep-vllm", "wrong", runpod_base(runpod), MODEL, template, timeout_seconds=5
    )
    outcome = client.run({"tickets": [{"id": "t0", "text": "x", "category": "other"}]})
    assert outcome.answers[0]["answer"] is None and "401" in outcome.answers[0]["error"]


def test_check_reaches_the_vllm_endpoint_in_openai_mode(runpod, tmp_path, capsys):
    from triage.cli.main import main

    config = tmp_path / "config.toml"
    config.write_text(
        "[runpod]\nenabled = true\nmode = 'openai'\nendpoint_id = 'ep-vllm'\n"
        f"api_key = 'rp-test-key'\nmodel = '{MODEL}'\nbase_url = '{runpod_base(runpod)}'\n"
    )
    assert main(["--config", str(config), "check"]) == 0
    out = capsys.readouterr().out
    assert "ok   runpod tier: endpoint ep-vllm (Runpod's vLLM worker, openai mode)" in out


def test_openai_mode_needs_the_model_name(tmp_path, capsys):
    from triage.cli.main import EXIT_CONFIG, main

    config = tmp_path / "config.toml"
    config.write_text(
        "[runpod]\nenabled = true\nmode = 'openai'\nendpoint_id = 'ep'\napi_key = 'k'\n"
    )
    (tmp_path / "t.txt").write_text("Printer jams")
    assert main(["--config", str(config), "process", str(tmp_path / "t.txt")]) == EXIT_CONFIG
    assert '[runpod] mode = "openai" needs model' in capsys.readouterr().err
