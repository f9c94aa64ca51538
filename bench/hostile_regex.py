"""The hostile 60 KB tickets of issue 22 through the whole rules tier (parse, automatic-mail
detection, dedup key, keyword rules, risk, extraction, sensitivity, log slice), as a ratio to
a normal ticket of the same size measured in the same run.

    python bench/hostile_regex.py [ROUNDS]

Before the fix one hostile ticket held the GIL for about 35 s on a quiet machine (one
credential pattern split a run of N blanks N ways); a linear rules tier reads it about as
fast as a normal ticket. Measured 2026-12-07 on the shared 2-core machine (load about 9), one
round before, best of three after:

    ticket                     before (2582303)    after
    normal                     0.196 s (1.0)       0.170 s (1.0)
    my password is + blanks    656.8 s (3360x)     0.115 s (0.7x)
    Kennwort lautet + NBSP     345.5 s (1767x)     0.100 s (0.6x)

No hard per-ticket deadline was added: a regular expression holds the GIL for its whole match,
so a worker thread cannot stop it (a watchdog thread does not even run); only a subprocess per
ticket could, at the cost of a process hop and a pickled ticket each time. The battery in
tests/test_regex_linear.py checks every pattern of these modules instead, new ones included.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from triage.compose.app import pipeline_options, rules_from
from triage.config.settings import load_settings
from triage.parsing import parse_ticket
from triage.rules import evaluate
from triage.rules.automated import detect_automated
from triage.rules.dedup import content_key

SIZE = 60_000
NORMAL_LINE = (
    "Since this morning the VPN drops every few minutes on my laptop LT-40321; Outlook then "
    "asks for my password again and the shared drive S: is gone. Error 809 in the client.\n"
)


def mail(body: str) -> bytes:
    head = "From: Ann Example <ann@example.com>\nTo: helpdesk@example.com\nSubject: Hilfe\n"
    head += "Content-Type: text/plain; charset=utf-8\n\n"
    return (head + body).encode("utf-8")


TICKETS = {
    "normal": mail((NORMAL_LINE * (SIZE // len(NORMAL_LINE) + 1))[:SIZE]),
    "my password is + blanks": mail("my password is" + " " * SIZE + "?"),
    "Kennwort lautet + NBSP": mail("Mein Kennwort lautet" + "\u00a0" * SIZE + "?"),
    "password below + mixed spaces": mail(
        "my password is below" + " \u00a0\t\u2007" * (SIZE // 4) + "?"
    ),
}


def main() -> None:
    settings = load_settings(None, {}).settings
    rules, options = rules_from(settings), pipeline_options(settings)

    def tier(blob: bytes) -> Callable[[], None]:
        def run() -> None:
            ticket = parse_ticket(blob, options.limits)
            detect_automated(ticket)
            content_key(ticket)
            evaluate(ticket, rules, options.log_slice_lines)

        return run

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    wanted = sys.argv[2:] or list(TICKETS)  # e.g. "normal" "Kennwort lautet + NBSP"
    print(f"{'ticket (60 KB body)':<32} {'seconds':>9} {'x normal':>9}", flush=True)
    base = best_of(tier(TICKETS["normal"]), rounds)
    for name in wanted:
        value = base if name == "normal" else best_of(tier(TICKETS[name]), rounds)
        print(f"{name:<32} {value:>9.4f} {value / base:>9.1f}", flush=True)


def best_of(run: Callable[[], None], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


if __name__ == "__main__":
    main()
