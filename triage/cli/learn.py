"""`triage learn` (train the learned tier from a history export and/or people's labels) and
`triage label` (record a person's confirmation or correction of a ticket's team)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from triage.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    Commands,
    open_settings_store,
    plural,
    refuse_missing_store,
)
from triage.config.settings import LoadedSettings, Settings
from triage.errors import InputError, StoreError, TriageError
from triage.learned.classifier import ticket_text
from triage.learned.history import Example, clean_label
from triage.ports import Store
from triage.ticket import CATEGORIES

CORRECTION_WEIGHT = 3.0  # a person's recent word counts more than one old history row


def register(commands: Commands) -> None:
    learn = commands.add_parser(
        "learn", help="train the learned tier from a history export and print its card"
    )
    learn.add_argument("history", nargs="*", type=Path, metavar="HISTORY")
    learn.add_argument(
        "--text", help='the text columns, comma-separated (e.g. "Short description,Description")'
    )
    learn.add_argument("--label", help='the team column (e.g. "Assignment group")')
    learn.add_argument(
        "--time",
        help='the column with when each ticket was opened (e.g. "Opened"); its rows are then '
        "learned in time order: the newest held out, recent ones weighing more",
    )
    learn.add_argument(
        "--out", type=Path, help="the model file (default: [learned] model_path, else var/)"
    )
    learn.add_argument(
        "--from-store",
        action="store_true",
        help="also learn from the tickets people labelled (`triage label`)",
    )
    learn.add_argument(
        "--min-examples",
        type=int,
        default=10,
        help="teams with fewer tickets fold into one label that never decides (default 10)",
    )
    learn.add_argument(
        "--holdout", type=float, default=0.2, help="share held out to measure (default 0.2)"
    )
    learn.add_argument(
        "--correction-weight",
        type=float,
        default=CORRECTION_WEIGHT,
        help=f"weight of a labelled ticket against a history row (default {CORRECTION_WEIGHT})",
    )
    learn.add_argument("--json", action="store_true", help="print the card as JSON")
    learn.set_defaults(handler=learn_command)

    label = commands.add_parser(
        "label", help="record a person's confirmation or correction of a ticket's team"
    )
    label.add_argument("id", nargs="?", metavar="ID")
    label.add_argument("team", nargs="?", metavar="TEAM")
    label.add_argument("--category", choices=CATEGORIES, help="the right category, too")
    label.add_argument(
        "--import",
        dest="import_path",
        type=Path,
        metavar="CORRECTIONS.jsonl",
        help='one {"id": ..., "team": ..., "category": ...} per line',
    )
    label.set_defaults(handler=label_command)


def default_model_path(settings: Settings) -> Path:
    configured = settings.learned.model_path
    return configured if configured is not None else settings.store.path.parent / "learned.npz"


def learn_command(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    from triage.learned.card import render_card
    from triage.learned.history import History, read_history
    from triage.learned.model_file import save
    from triage.learned.train import TrainOptions, learn

    if not args.history and not args.from_store:
        print("triage: learn needs a HISTORY file, --from-store, or both", file=sys.stderr)
        return EXIT_USAGE
    if not 0 < args.holdout < 1 or args.min_examples < 2:
        print("triage: --holdout is a share (0-1), --min-examples at least 2", file=sys.stderr)
        return EXIT_USAGE
    try:
        import sklearn  # noqa: F401 - only to say what is missing before reading anything
    except ImportError:
        print("triage: learn needs scikit-learn: pip install 'triage[learn]'", file=sys.stderr)
        return EXIT_FAILURE
    missing = [str(path) for path in args.history if not path.is_file()]
    if missing:
        print(f"triage: no such file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    settings = loaded.settings
    if args.from_store:
        refused = refuse_missing_store(settings)  # the labels are in the store that is gone
        if refused is not None:
            return refused
    text = [c.strip() for c in args.text.split(",") if c.strip()] if args.text else None
    try:
        history = (
            read_history(args.history, text, args.label, args.time) if args.history else History()
        )
    except InputError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    weights = [1.0] * len(history.examples)
    ordered = history.time_ordered  # people's labels, added below, are the newest rows
    if args.from_store:
        try:
            labelled = _store_examples(settings)
        except StoreError as exc:
            print(f"triage: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        history.examples.extend(labelled)
        weights.extend([args.correction_weight] * len(labelled))
        history.sources.append(f"store ({plural(len(labelled), 'labelled ticket')})")
    options = TrainOptions(
        min_examples=args.min_examples,
        holdout=args.holdout,
        min_probability=settings.learned.min_probability,
        time_ordered=ordered,
    )
    try:
        learned = learn(
            history.examples,
            options,
            datetime.now(UTC),
            weights=weights,
            sources=history.sources,
            skipped=dict(history.skipped),
        )
    except ValueError as exc:
        print(f"triage: cannot learn: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    out = args.out or default_model_path(settings)
    try:
        save(learned.model, learned.card, out)
    except OSError as exc:
        print(f"triage: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE
    if args.json:
        print(json.dumps({**learned.card, "path": str(out)}, indent=2, ensure_ascii=False))
    else:
        print(render_card(learned.card))
        print(f"\nwritten to {out} (card beside it); set [learned] model_path and enabled = true")
    return EXIT_OK


def _store_examples(settings: Settings) -> list[Example]:
    """The tickets people labelled; none when there is no store yet (none is made)."""
    if settings.store.url is None and not settings.store.path.exists():
        return []
    store = open_settings_store(settings, read_only=True)
    try:
        rows = store.labelled()
    finally:
        store.close()
    # The store keeps the result, not the mail: subject and summary stand for the words.
    return [Example(ticket_text(result.subject, result.summary), team) for team, _, result in rows]


def label_command(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    if args.import_path is None and (args.id is None or args.team is None):
        print("triage: label needs ID TEAM, or --import CORRECTIONS.jsonl", file=sys.stderr)
        return EXIT_USAGE
    settings = loaded.settings
    # A label goes on a stored ticket: a missing store is never made anew for it.
    refused = refuse_missing_store(settings)
    if refused is not None:
        return refused
    if settings.store.url is None and not settings.store.path.exists():
        print(
            f"triage: no store at {settings.store.path} yet: nothing has been triaged to label",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    try:
        store = open_settings_store(settings)
    except TriageError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        if args.import_path is not None:
            return _import(store, args.import_path)
        problem = _record(store, args.id, args.team, args.category, "cli")
    finally:
        store.close()
    if problem:
        print(f"triage: {problem}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _record(store: Store, ticket_id: str, team: str, category: str | None, source: str) -> str:
    """Record one label; the problem, or "" when recorded (and said so on stdout)."""
    team = clean_label(team)
    if not team:
        return f"{ticket_id}: the team is empty"
    if category is not None and category not in CATEGORIES:
        return f"{ticket_id}: unknown category {category!r} (one of {', '.join(CATEGORIES)})"
    result = store.get_result(ticket_id)
    if result is None:
        return f"no ticket {ticket_id} in the store"
    predicted = result.assignment.team if result.assignment else None
    store.record_label(result.id, team, category, predicted, source, datetime.now(UTC))
    kind = "confirmed" if predicted == team else f"corrected (was {predicted or 'unassigned'})"
    if category is None:
        print(f"{result.id}: team {team!r} {kind}")
    else:
        was = "confirmed" if category == result.category else f"corrected (was {result.category})"
        print(f"{result.id}: team {team!r} {kind}, category {category!r} {was}")
    return ""


def _import(store: Store, path: Path) -> int:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"triage: cannot read {path}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    failed = recorded = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            ticket_id, team = str(item["id"]), str(item["team"])
            category = item.get("category")
        except (ValueError, KeyError, TypeError, AttributeError):
            print(f"triage: {path}:{number}: not a correction line", file=sys.stderr)
            failed += 1
            continue
        problem = _record(store, ticket_id, team, category, str(path))
        if problem:
            print(f"triage: {path}:{number}: {problem}", file=sys.stderr)
            failed += 1
        else:
            recorded += 1
    print(
        f"{plural(recorded, 'label')} recorded, {plural(failed, 'line')} refused", file=sys.stderr
    )
    return EXIT_OK if failed == 0 else EXIT_FAILURE
