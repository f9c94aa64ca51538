"""`triage show ID` and `triage explain FILE|ID`: one ticket's result, readable, and why.

`show` prints the stored result (or its JSON) and what was delivered for it. `explain` adds
which rules fired and on what words, why this risk, which tier answered and why (the route's
decision and its chain), and what each call cost as the ledger booked it. A FILE that was not
handled yet is triaged in dry-run (nothing written, nothing spent) so the explanation is of
what would happen.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from triage.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Commands,
    open_batch,
    open_existing_store,
    read_input,
)
from triage.config.settings import LoadedSettings, Settings, secret_values
from triage.delivery.history import delivery_lines
from triage.errors import InputError, StoreError
from triage.result import Result
from triage.rules.keywords import Hit


class _Booked(Protocol):
    """A ledger row, as far as the explanation reads it."""

    tier: str
    model: str | None
    template: str | None
    tokens_in: int
    tokens_out: int
    cached_tokens: int
    usd: float
    outcome: str


def register(commands: Commands) -> None:
    show = commands.add_parser("show", help="print one stored result, readable (or as JSON)")
    show.add_argument("id", metavar="ID")
    show.add_argument("--json", action="store_true", help="print the result JSON")
    show.set_defaults(handler=show_command)
    explain = commands.add_parser(
        "explain", help="why a ticket got its result: rules and words, risk, tier, cost"
    )
    explain.add_argument("target", metavar="FILE|ID")
    explain.set_defaults(handler=explain_command)


def show_command(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    found = _stored(loaded.settings, args.id)
    if isinstance(found, int):
        return found
    result, _, label, deliveries = found
    if args.json:
        sys.stdout.write(result.to_json() + "\n")
    else:
        sys.stdout.write(describe(result, label, deliveries))
    return EXIT_OK


def explain_command(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    settings = loaded.settings
    path = Path(args.target)
    if path.is_file():
        explained = _explain_file(settings, path)
    else:
        explained = _explain_id(settings, args.target)
    if isinstance(explained, int):
        return explained
    sys.stdout.write(explained)
    return EXIT_OK


def _explain_file(settings: Settings, path: Path) -> str | int:
    try:
        raw = read_input(path, int(settings.dropfolder.max_file_mb * 1e6))
    except OSError as exc:
        print(f"triage: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILURE
    stored = _stored(settings, raw.id, quiet=True)
    if isinstance(stored, tuple):
        result, ledger, label, deliveries = stored
        note = "stored result: this input was handled before"
    elif stored != _NOT_FOUND:
        return stored  # the store is missing while the outbox holds results, or unreadable
    else:
        opened = open_batch(settings, dry_run=True)
        if isinstance(opened, int):
            return opened
        pipeline, store = opened
        try:
            result = pipeline.handle(raw).result
        finally:
            store.close()
        ledger, label, deliveries = [], None, []
        note = "not handled yet: triaged now in dry-run (nothing written, nothing spent)"
    hits = rule_hits(settings, raw.data, raw.source)
    return explain(result, ledger, hits, note, label, deliveries)


def _explain_id(settings: Settings, ticket_id: str) -> str | int:
    found = _stored(settings, ticket_id, quiet=True)
    if found == _NOT_FOUND:
        print(
            f"triage: {ticket_id}: no such file, and no stored ticket with that id",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    if isinstance(found, int):
        return found
    result, ledger, label, deliveries = found
    hits = _hits_of_stored(settings, result)
    return explain(result, ledger, hits, "stored result", label, deliveries)


_NOT_FOUND = -1  # `_stored` with quiet=True: no store yet, or no such ticket in it

Label = tuple[str, str | None]  # a person's (team, category), from `triage label`
# The result, its ledger, a person's label, its deliveries in words (triage.delivery.history).
Stored = tuple[Result, list[Any], Label | None, list[str]]


def _stored(settings: Settings, ticket_id: str, quiet: bool = False) -> Stored | int:
    """The stored result, its ledger, a person's label and its deliveries; else an exit code
    (the message printed), or _NOT_FOUND when quiet and there is simply no such ticket."""
    path = settings.store.path
    store = open_existing_store(settings)
    if isinstance(store, int):
        return store
    if store is None:
        if quiet:
            return _NOT_FOUND
        print(f"triage: no store at {path} yet: nothing has been triaged", file=sys.stderr)
        return EXIT_FAILURE
    try:
        result = store.get_result(ticket_id)
        ledger = store.ledger_for(result.id) if result is not None else []
        label = _label_of(store.labelled(), result.id) if result is not None else None
        planned = store.deliveries_of(result.id) if result is not None else []
    except StoreError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        store.close()
    if result is None:
        if quiet:
            return _NOT_FOUND
        print(f"triage: no ticket {ticket_id} in {path}", file=sys.stderr)
        return EXIT_FAILURE
    return result, list(ledger), label, delivery_lines(planned, secret_values(settings))


def _label_of(labelled: Sequence[tuple[str, str | None, Result]], ticket_id: str) -> Label | None:
    """The latest label a person gave this ticket, if any."""
    found = [(team, category) for team, category, result in labelled if result.id == ticket_id]
    return found[-1] if found else None


def rule_hits(settings: Settings, data: bytes, source: str) -> list[Hit] | None:
    """The rules that fire on this input and the words they fired on; None if unreadable."""
    from triage.compose.app import pipeline_options, rules_from
    from triage.parsing import parse_ticket
    from triage.rules import evaluate

    options = pipeline_options(settings, dry_run=True)
    try:
        ticket = parse_ticket(data, options.limits)
    except InputError:
        return None
    verdict = evaluate(ticket, rules_from(settings), options.log_slice_lines, source=source)
    return list(verdict.hits)


def _hits_of_stored(settings: Settings, result: Result) -> list[Hit] | None:
    """The words come from the input itself: where it was read from, or where it was moved
    after its result was committed (the drop folder's processed/ folder)."""
    from triage.ticket import input_id

    if result.status == "quarantined" or result.source.startswith("imap:"):
        return None
    original = Path(result.source_ref)
    for candidate in (original, settings.dropfolder.processed / original.name):
        try:
            data = candidate.read_bytes()
        except OSError:
            continue
        if input_id(original.name, [data]) == result.id:
            return rule_hits(settings, data, result.source)
    return None


def _money(usd: float) -> str:
    return f"${usd:,.4f}" if 0 < usd < 0.01 else f"${usd:,.2f}"


def describe(result: Result, label: Label | None = None, deliveries: Sequence[str] = ()) -> str:
    """The result as a person reads it; `label` is a person's (team, category) for it;
    `deliveries` what became of what was sent for it, a line each (delivery_lines)."""
    lines = [
        f"{result.id}  {result.status}"
        + (f": {result.status_reason}" if result.status_reason else "")
    ]
    when = result.received_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    rows: list[tuple[str, str]] = [
        ("subject", result.subject or "(no subject)"),
        ("from", result.sender or "-"),
        ("received", f"{when} via {result.source} ({result.source_ref})"),
        (
            "triage",
            f"{result.category} · {result.priority} · risk {result.risk}"
            f" · workflow {result.workflow}",
        ),
    ]
    assignment = result.assignment
    if assignment is not None:
        by: str = assignment.tier
        if assignment.tier == "learned":
            by = f"learned {assignment.probability:.0%}, model {assignment.model}"
        rows.append(("team", f"{assignment.team} ({by})"))
    if label is not None:
        team, category = label
        also = f", category {category}" if category else ""
        rows.append(("labelled", f"{team}{also} by a person"))
    if result.duplicate_of:
        rows.append(("duplicate of", result.duplicate_of))
    storm = _extra(result, "storm_of")
    if storm:
        rows.append(("storm of", str(storm)))
    rows.append(("summary", result.summary or "-"))
    if result.risk_reasons:
        rows.append(("why", "; ".join(result.risk_reasons)))
    facts = _facts(result)
    if facts:
        rows.append(("facts", facts))
    route = result.route
    answered = (
        route.reason if route.reason.startswith(route.tier) else f"{route.tier}: {route.reason}"
    )
    rows.append(("answered by", answered))
    cost = result.cost
    rows.append(
        (
            "cost",
            f"{_money(cost.usd)} ({cost.tokens_in:,} tokens in, {cost.tokens_out:,} out)",
        )
    )
    if result.sensitivity.tags:
        rows.append(
            ("sensitivity", f"{result.sensitivity.level}: {', '.join(result.sensitivity.tags)}")
        )
    if result.needs_review:
        rows.append(("needs review", "; ".join(result.needs_review)))
    if result.language:
        rows.append(("language", result.language))
    for number, suggestion in enumerate(result.suggestions):
        rows.append(
            (
                "suggested" if not number else "",
                f"{suggestion.title} ({suggestion.source}, score {suggestion.score:.2f})",
            )
        )
    width = max(len(label) for label, _ in rows)
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    steps = _next_steps(result)
    if steps:
        lines.append("  next steps:")
        lines += [f"    {n}. {step}" for n, step in enumerate(steps, 1)]
    if deliveries:
        lines.append("  deliveries:")
        lines += [f"    {line}" for line in deliveries]
    return "\n".join(lines) + "\n"


def _facts(result: Result) -> str:
    """What the rules and models read out of the ticket: hosts, IPs, error codes, ..."""
    fields = result.fields
    found = [
        ("requester", [fields.requester] if fields.requester else []),
        ("hosts", fields.hosts),
        ("ips", fields.ips),
        ("error codes", fields.error_codes),
        ("applications", fields.applications),
        ("devices", fields.devices),
    ]
    return "; ".join(f"{name} {', '.join(values)}" for name, values in found if values)


def _not_used(route_reason: str, wanted: str) -> str:
    """Why the wanted tier did not answer, as the route's reason says it."""
    marker = f"{wanted} skipped: "
    why = [part[len(marker) :] for part in route_reason.split("; ") if part.startswith(marker)]
    return "; ".join(dict.fromkeys(why)) if why else "see the decision above"


def explain(
    result: Result,
    ledger: Sequence[_Booked],
    hits: list[Hit] | None,
    note: str,
    label: Label | None = None,
    deliveries: Sequence[str] = (),
) -> str:
    out = [describe(result, label, deliveries).rstrip("\n"), "", f"Why: {note}", ""]
    out.append("Rules:")
    if hits is None:
        names = ", ".join(result.matched_rules) or "none"
        out.append(f"  fired: {names} (the input is no longer on disk: words not available)")
    elif not hits:
        out.append("  no rule matched: category 'other', for the model tiers to refine")
    for hit in hits or []:
        words = ", ".join(f'"{word}"' for word in hit.words[:8])
        out.append(f"  {hit.rule}: on {hit.field}: {words}")
    out += ["", f"Risk {result.risk}:"]
    out += [f"  - {reason}" for reason in result.risk_reasons] or ["  - nothing raised it"]
    out += ["", f"Tier {result.route.tier}:", f"  decision: {result.route.reason}"]
    route = result.route.model_dump()
    if route.get("wanted"):
        wanted = str(route["wanted"])
        out.append(f"  wanted {wanted}, not used: {_not_used(result.route.reason, wanted)}")
    for key, value in route.items():  # what later versions of the route carry, as given
        if key not in ("tier", "reason", "attempts", "wanted") and value not in (None, [], {}):
            out.append(f"  {key}: {value}")
    if result.route.attempts:
        chain = " -> ".join(
            f"{a.tier} {'ok' if a.ok else 'failed'}" + (f" ({a.error})" if a.error else "")
            for a in result.route.attempts
        )
        out.append(f"  chain: {chain}")
    out += ["", "Cost:"]
    if not ledger:
        out.append("  nothing booked: the rules tier is free")
    for entry in ledger:
        out.append(
            f"  {entry.tier:<7} {entry.model or '-'} / {entry.template or '-'}:"
            f" {entry.tokens_in:,} in, {entry.tokens_out:,} out"
            + (f", {entry.cached_tokens:,} cached" if entry.cached_tokens else "")
            + f" = ${entry.usd:,.4f} ({entry.outcome})"
        )
    if ledger:
        out.append(f"  total {_money(sum(entry.usd for entry in ledger))}")
    return "\n".join(out) + "\n"


def _next_steps(result: Result) -> list[str]:
    steps = (result.escalation or {}).get("next_steps") or []
    return [str(step) for step in steps] if isinstance(steps, list) else []


def _extra(result: Result, key: str) -> object:
    """A key another version of the result carries (storm_of), or None."""
    return getattr(result, key, None)
