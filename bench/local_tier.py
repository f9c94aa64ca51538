"""The local tier's cost per ticket on a model with a real small model's shape.

    python bench/local_tier.py [--tickets N] [--model PATH] [--threads N]

Without --model, writes a 0.5B-shaped Q8_0 GGUF (random weights, ~500 MB) into a temp folder
(never kept); with --model, uses that GGUF (e.g. SmolLM2, see bench/real_model.py). Then
triages the same realistic tickets (a mail with quoted history, an HTML part and a log
attachment) three ways, in the same run:

- as built: compact context (quotes stripped, log sliced), static prompt first so llama.cpp
  reuses the prefix, the summary decoded as the tier does (bounded per token);
- naive baseline: the raw mail in a verbose prompt, no slicing, no prefix reuse;
- bare llama-cpp: the tier's own prompt tokens through `Llama.generate` directly, to measure
  the tier's overhead.

Answers are capped at MAX_TOKENS for all three (a random model never closes its JSON early),
so the comparison is of what the tier controls: the prompt. With --model, the tier's whole
call (two scored questions and the written part) is timed as well. Targets: >= 3x fewer seconds per
ticket than the naive baseline, < 5% overhead over bare llama-cpp.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from itertools import takewhile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from models.local import LocalModel
from models.prompt import load_prompt
from tests.gguf_model import write_real_shaped_model
from triage.compose.app import rules_from
from triage.config.settings import load_settings
from triage.parsing import MailLimits, parse_ticket
from triage.rules import evaluate
from triage.tiers.context import compact_text

MAX_TOKENS = 48
N_CTX = 8192
NAIVE_PROMPT = """You are an expert IT helpdesk assistant working for a large company. Your job is
to carefully read the complete e-mail below, including all of its headers, every part of its
body, any quoted earlier messages and every attached file, and then decide its category,
priority and risk, write a summary, extract hosts, IPs, error codes, applications and devices,
and say whether it needs escalation. Think about every detail. Answer in JSON.

The complete raw e-mail follows:

{raw}"""


def realistic_mail(n: int) -> bytes:
    log = "\n".join(
        f"2026-11-02 09:{i // 60 % 60:02d}:{i % 60:02d} vpnagent[{4000 + n}]: "
        + ("ERROR IKE negotiation failed: peer timeout" if i % 97 == 0 else "INFO keepalive ok")
        for i in range(200)
    )
    quoted = "\n".join(f"> earlier line {i} of the thread about the VPN problem" for i in range(40))
    body = (
        f"Hello helpdesk,\n\nsince this morning the VPN on my laptop LT-{1000 + n} drops every few"
        f" minutes with error 809. Colleagues on floor {n % 5} have the same. Log attached.\n\n"
        f"Thanks, User {n}\n\nOn Mon, 2 Nov 2026 at 08:00, Helpdesk <help@example.com> wrote:\n"
        f"{quoted}\n"
    )
    html = (
        "<html><body>" + "".join(f"<p>{line}</p>" for line in body.splitlines()) + "</body></html>"
    )
    received = "".join(
        f"Received: from relay{i}.example.com by mx.example.com; Mon, 2 Nov 2026\n"
        for i in range(6)
    )
    return (
        f"{received}From: User {n} <user{n}@example.com>\nTo: helpdesk@example.com\n"
        f"Subject: VPN keeps dropping (#{n})\nMessage-ID: <bench{n}@example.com>\n"
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=OUTER\n\n"
        "--OUTER\nContent-Type: multipart/alternative; boundary=ALT\n\n"
        f"--ALT\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
        f"--ALT\nContent-Type: text/html; charset=utf-8\n\n{html}\n--ALT--\n"
        "--OUTER\nContent-Type: text/plain; name=vpn.log\n"
        f"Content-Disposition: attachment; filename=vpn.log\n\n{log}\n--OUTER--\n"
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=3, help="tickets to triage (3)")
    parser.add_argument("--model", type=Path, help="a GGUF to use instead of a random one")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0: default)")
    args = parser.parse_args()
    count = args.tickets
    settings = load_settings(None, {}).settings
    rules = rules_from(settings)
    limits = MailLimits(2 << 20, 1000, 30, 65536)
    mails = [realistic_mail(n) for n in range(count)]
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as scratch:
        started = time.perf_counter()
        path = args.model
        if path is None:
            path = write_real_shaped_model(Path(scratch) / "bench-0.5b-q8_0.gguf")
            print(
                f"wrote {path.stat().st_size / 1e6:.0f} MB model "
                f"in {time.perf_counter() - started:.0f} s"
            )
        model = LocalModel(path, load_prompt("triage"), n_ctx=N_CTX, n_threads=args.threads)
        llm = model._llm  # the same loaded weights for the baselines

        def bare(tokens: list[int]) -> tuple[float, int]:
            begun = time.perf_counter()
            generated = llm.generate(tokens, temp=0.0, reset=True)
            for produced, _ in enumerate(generated, start=1):
                if produced >= MAX_TOKENS:
                    break
            return time.perf_counter() - begun, len(tokens)

        built, naive, direct = [], [], []
        whole: list[tuple[float, int, str]] = []
        # Before each timed call the cache holds another ticket's prompt, as in service: the
        # static system prefix is reusable, the ticket is not.
        other = model.prompt_tokens("Subject: another ticket", "write")

        def after_another_ticket() -> None:
            llm.reset()
            llm.eval(other)

        for data in mails:
            ticket = parse_ticket(data, limits)
            verdict = evaluate(ticket, rules, 60)
            render = lambda room, t=ticket, v=verdict: compact_text(t, v, room)  # noqa: E731
            room = (N_CTX - MAX_TOKENS) * 3
            tokens = model.prompt_tokens(render(room), "write")
            pairs = zip(other, tokens, strict=False)
            cached = len(list(takewhile(lambda ab: ab[0] == ab[1], pairs)))
            after_another_ticket()
            begun = time.perf_counter()
            model.decode(tokens, MAX_TOKENS, grammar=False)
            built.append((time.perf_counter() - begun, len(tokens), cached))
            after_another_ticket()
            direct.append(bare(tokens)[0])
            if args.model is not None:
                call = model.complete(render, verdict.category, verdict.risk)
                whole.append((call.seconds, call.tokens_out, call.outcome))

            raw_prompt = NAIVE_PROMPT.format(raw=data.decode("utf-8", "replace"))
            naive_tokens = list(llm.tokenize(raw_prompt.encode(), add_bos=False, special=False))
            naive_tokens = naive_tokens[: N_CTX - MAX_TOKENS]
            llm.reset()  # no prefix reuse
            naive.append(bare(naive_tokens))

    per_built = statistics.mean(seconds for seconds, _, _ in built)
    per_naive = statistics.mean(seconds for seconds, _ in naive)
    per_direct = statistics.mean(direct)
    tokens_built = statistics.mean(tokens for _, tokens, _ in built)
    cached = statistics.mean(cached for _, _, cached in built)
    tokens_naive = statistics.mean(tokens for _, tokens in naive)
    shape = path.name if args.model else "0.5B-shaped Q8_0"
    print(
        f"{count} tickets, {shape}, {model.threads} threads, answers capped at {MAX_TOKENS} tokens"
    )
    print(
        f"as built:      {per_built:6.2f} s/ticket, {tokens_built:6.0f} prompt tokens "
        f"({cached:.0f} reused from the prefix cache)"
    )
    print(f"naive:         {per_naive:6.2f} s/ticket, {tokens_naive:6.0f} prompt tokens")
    print(
        f"ratio naive / as built: {per_naive / per_built:.1f}x fewer seconds, "
        f"{tokens_naive / tokens_built:.1f}x fewer prompt tokens  (target >= 3x)"
    )
    print(
        f"bare llama-cpp, same prompt: {per_direct:.2f} s/ticket; tier overhead "
        f"{(per_built / per_direct - 1) * 100:+.1f}%  (target < 5%)"
    )
    if whole:
        print(
            f"the whole call (scored questions + written part): "
            f"{statistics.mean(s for s, _, _ in whole):.2f} s/ticket, "
            f"{statistics.mean(t for _, t, _ in whole):.0f} output tokens/ticket, "
            f"outcomes {sorted({o for _, _, o in whole})}"
        )


if __name__ == "__main__":
    main()
