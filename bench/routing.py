"""Routing on the shipped labelled set: what the tiers cost, and how fast the router decides.

    python bench/routing.py [LABELS.jsonl]

Prints the share of tickets that never reach the paid tier, paid input tokens per escalated
ticket as a ratio to sending the raw mail, cost per 1,000 tickets as a ratio to the all-paid
baseline (both estimated at the default paid model's prices), and the router's decision time
per ticket as a ratio to a bare function call timed in the same run. Targets: < 10% of the
all-paid cost, < 40% of the raw-mail paid tokens, a decision well under a millisecond.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

from triage.tiers.router import Gates, Policy, RouteFacts, decide

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    labels = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests/labels/labels.jsonl"
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "config.toml"
        config.write_text("")
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "triage",
                "--config",
                str(config),
                "eval",
                "--json",
                str(labels),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    report = json.loads(done.stdout)
    token_ratio = report["paid_tokens_per_escalation"] / report["raw_tokens_per_escalation"]
    cost_ratio = report["cost_per_1000_usd"] / report["baseline_per_1000_usd"]
    print(
        f"{report['tickets']} labelled tickets, accuracy: "
        + ", ".join(f"{k} {v:.0%}" for k, v in report["accuracy"].items())
    )
    print(f"never reach the paid tier:        {report['never_paid_share']:.0%}")
    print(
        f"paid input tokens per escalation: {report['paid_tokens_per_escalation']:.0f} vs "
        f"{report['raw_tokens_per_escalation']:.0f} raw: {token_ratio:.1%}  (target < 40%)"
    )
    print(
        f"cost per 1,000 tickets:           ${report['cost_per_1000_usd']:.2f} vs all-paid "
        f"${report['baseline_per_1000_usd']:.2f}: {cost_ratio:.1%}  (target < 10%)"
    )

    policy = Policy()
    gates = Gates(usable=frozenset({"rules", "local", "paid"}))
    facts = [
        RouteFacts(
            risk=risk,
            task="classification",
            work_tokens=900,
            sensitivity=level,
            local_confidence=confidence,
        )
        for risk in ("low", "medium", "high")
        for level in ("public", "restricted")
        for confidence in (None, 20, 90)
    ]

    def route_all() -> None:
        for item in facts:
            decide(item, policy, gates)

    def bare_all() -> None:
        for item in facts:
            _noop(item, policy, gates)

    rounds = 2000
    ours = min(timeit.repeat(route_all, number=rounds, repeat=5)) / (rounds * len(facts))
    bare = min(timeit.repeat(bare_all, number=rounds, repeat=5)) / (rounds * len(facts))
    print(
        f"router decision: {ours * 1e6:.2f} us per ticket, {ours / bare:.0f}x a bare "
        f"function call ({bare * 1e9:.0f} ns)  (target well under 1 ms)"
    )


def _noop(facts: RouteFacts, policy: Policy, gates: Gates) -> None:
    return None


if __name__ == "__main__":
    main()
