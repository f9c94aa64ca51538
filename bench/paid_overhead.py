"""The paid tier's overhead per call, each provider kind against a bare SDK call, same run.

    python bench/paid_overhead.py [--calls N]

Against loopback stand-ins (tests/standins/: Anthropic's Messages API, an OpenAI-compatible
chat-completions API) that answer at once, so what is measured is what triage adds: for each
provider kind, the same request made three ways, N calls each:
- bare SDK: `messages.create` / `chat.completions.create` with the tier's request;
- adapter: models/paid.py / models/paid_openai.py `attempt` (request, parse, validate);
- tier: `Escalator.escalate` (token count or estimate, the worst case reserved in SQLite,
  the attempt, the ledger row booked, the reservation settled).
The three ways take turns, call by call. Prints the median milliseconds per call and the
ratios to the bare SDK call. The tier's extra is mostly its two SQLite write transactions
(reserve, settle: each a commit to disk) and, for Anthropic, the token-count request.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import anthropic
import openai

from models.paid import TOOL, TOOL_NAME, PaidModel
from models.paid_openai import ChatPaidModel
from models.prompt import load_prompt
from tests.standins.anthropic_api import MessagesStandIn
from tests.standins.chat_api import ChatStandIn
from triage.breaker import Breaker
from triage.costs import Price
from triage.store.sqlite import SqliteStore
from triage.tiers.paid import EscalationPolicy, Escalator

VALUES = {
    "category": "security",
    "priority": "P1",
    "risk": "high",
    "risk_reasons": "credential entered on a phishing page",
    "summary": "The user typed a password into a phishing page.",
    "ticket": "Subject: Phishing\n\nI clicked a link and typed my password [CREDENTIAL:password]."
    * 5,
    "knowledge": "none: no article answers this ticket",
}


def timed(calls: list[Callable[[], object]], count: int) -> list[float]:
    """Median milliseconds per call of each way, the ways taking turns (so that a change in
    the machine's load falls on all of them alike)."""
    for call in calls:
        call()  # warm-up: connection, imports
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(count):
        for way, call in enumerate(calls):
            begun = time.perf_counter()
            call()
            samples[way].append(time.perf_counter() - begun)
    return [statistics.median(way) * 1000 for way in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100, help="calls per way (100)")
    args = parser.parse_args()
    template = load_prompt("analysis")
    anthropic_api, chat_api = MessagesStandIn().start(), ChatStandIn().start()
    clock = lambda: datetime(2026, 11, 2, 9, 30, tzinfo=UTC)  # noqa: E731
    try:
        with tempfile.TemporaryDirectory(prefix="triage-bench-") as scratch:
            store = SqliteStore(Path(scratch) / "ledger.sqlite3")
            rows = []
            claude = PaidModel(
                "claude-sonnet-4-6",
                template,
                api_key="k",
                base_url=anthropic_api.base_url,
                max_tokens=1024,
                timeout_seconds=10,
            )
            bare_anthropic = anthropic.Anthropic(
                api_key="k", base_url=anthropic_api.base_url, max_retries=0, timeout=10
            )
            request = claude._request(VALUES)
            anthropic_tier = Escalator(
                claude,
                Price(3, 15, 0.3, 3.75),
                store,
                EscalationPolicy(1e9, 1, 1),
                Breaker(3, 300),
                clock,
            )
            rows.append(
                (
                    "anthropic",
                    *timed(
                        [
                            lambda: bare_anthropic.messages.create(
                                **request,
                                max_tokens=1024,
                                tool_choice={"type": "tool", "name": TOOL_NAME},
                            ),
                            lambda: claude.attempt(VALUES),
                            lambda: anthropic_tier.escalate("t", "w", VALUES),
                        ],
                        args.calls,
                    ),
                )
            )
            assert TOOL["name"] == TOOL_NAME
            gpt = ChatPaidModel(
                "gpt-test",
                template,
                api_key="k",
                base_url=chat_api.base_url,
                max_tokens=1024,
                timeout_seconds=10,
            )
            bare_openai = openai.OpenAI(
                api_key="k", base_url=chat_api.base_url, max_retries=0, timeout=10
            )
            gpt.attempt(VALUES)  # learns that the server takes the JSON schema
            from models.paid_openai import SCHEMA_NAME, strict_schema

            messages = gpt._messages(VALUES)
            schema = strict_schema()
            openai_tier = Escalator(
                gpt, Price(2, 8, 0.5), store, EscalationPolicy(1e9, 1, 1), Breaker(3, 300), clock
            )
            response_format = {
                "type": "json_schema",
                "json_schema": {"name": SCHEMA_NAME, "schema": schema, "strict": True},
            }
            rows.append(
                (
                    "openai",
                    *timed(
                        [
                            lambda: bare_openai.chat.completions.create(
                                model="gpt-test",
                                messages=messages,
                                max_tokens=1024,
                                temperature=0,
                                response_format=response_format,
                            ),
                            lambda: gpt.attempt(VALUES),
                            lambda: openai_tier.escalate("t", "w", VALUES),
                        ],
                        args.calls,
                    ),
                )
            )
            store.close()
    finally:
        anthropic_api.stop()
        chat_api.stop()
    print(f"{args.calls} calls per way, loopback stand-ins answering at once (median ms/call)")
    header = ("provider", "bare SDK", "adapter", "tier", "adapter/bare", "tier/bare")
    print("{:10} {:>9} {:>9} {:>9} {:>13} {:>10}".format(*header))
    for name, bare, adapter, tier in rows:
        print(
            f"{name:10} {bare:9.2f} {adapter:9.2f} {tier:9.2f} "
            f"{adapter / bare:12.2f}x {tier / bare:9.2f}x"
        )


if __name__ == "__main__":
    main()
