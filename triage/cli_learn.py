"""`triage learn` (train the learned tier from a history export and/or people's labels) and
`triage label` (record a person's confirmation or correction of a ticket's team)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from triage.cli_common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    plural,
    refuse_missing_store,
)
from triage.config import LoadedSettings, Settings
from triage.errors import InputError, StoreError
from triage.learned.history import TEAM_MAX_CHARS, Example, clean_label
from triage.learned.tier import ticket_text
from triage.result import Result
from triage.store import SqliteStore
from triage.ticket import CATEGORIES

CORRECTION_WEIGHT = 3.0  # a person's recent word counts more than one old history row


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    learn = commands.add_parser(
        "learn", help="train the learned tier from a history export and print its card"
    )
    learn.add_argument("history", nargs="*", type=Path, metavar="HISTORY")
    learn.add_argument(
        "--text", help='the text columns, comma-separated (e.g. "Short description,Description")'
    )
    learn.add_argument("--label", help='the team column (e.g. "Assignment group")')
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
        history = read_history(args.history, text, args.label) if args.history else History()
    except InputError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    weights = [1.0] * len(history.examples)
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
    if not settings.store.path.exists():
        return []
    store = SqliteStore(settings.store.path, read_only=True)
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
    if not settings.store.path.exists():
        print(
            f"triage: no store at {settings.store.path} yet: nothing has been triaged to label",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    try:
        store = SqliteStore(settings.store.path)
    except StoreError as exc:
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


@dataclass(frozen=True)
class _Label:
    result: Result
    team: str
    category: str | None


def _checked(store: SqliteStore, ticket_id: object, team: object, category: object) -> _Label | str:
    """The label to record, or what is wrong with it in words."""
    if not isinstance(ticket_id, str) or not ticket_id.strip():
        return "the ticket id must be a non-empty string"
    if not isinstance(team, str):
        return f"{ticket_id}: the team must be a string, not {_kind(team)}"
    cleaned = clean_label(team)
    if not cleaned:
        return f"{ticket_id}: the team is empty"
    if len(cleaned) > TEAM_MAX_CHARS:
        return (
            f"{ticket_id}: the team is {len(cleaned):,} characters long (at most {TEAM_MAX_CHARS})"
        )
    if category is not None and (not isinstance(category, str) or category not in CATEGORIES):
        return f"{ticket_id}: unknown category {category!r} (one of {', '.join(CATEGORIES)})"
    result = store.get_result(ticket_id)
    if result is None:
        return f"no ticket {ticket_id} in the store"
    return _Label(result, cleaned, category)


def _kind(value: object) -> str:
    names = {
        type(None): "null",
        bool: "a boolean",
        dict: "an object",
        list: "a list",
        int: "a number",
        float: "a number",
    }
    return names.get(type(value), type(value).__name__)


def _record(
    store: SqliteStore, ticket_id: str, team: str, category: str | None, source: str
) -> str:
    """Record one label; the problem, or "" when recorded (and said so on stdout)."""
    label = _checked(store, ticket_id, team, category)
    if isinstance(label, str):
        return label
    _save(store, [label], source)
    return ""


def _save(store: SqliteStore, labels: list[_Label], source: str) -> None:
    """Record the labels in one transaction, then say what each one did."""
    rows = [
        (label.result.id, label.team, label.category, _predicted(label.result)) for label in labels
    ]
    store.record_labels(rows, source, datetime.now(UTC))
    for label in labels:
        result, team, category = label.result, label.team, label.category
        predicted = _predicted(result)
        kind = "confirmed" if predicted == team else f"corrected (was {predicted or 'unassigned'})"
        if category is None:
            print(f"{result.id}: team {team!r} {kind}")
        else:
            was = (
                "confirmed" if category == result.category else f"corrected (was {result.category})"
            )
            print(f"{result.id}: team {team!r} {kind}, category {category!r} {was}")


def _predicted(result: Result) -> str | None:
    return result.assignment.team if result.assignment else None


def _import(store: SqliteStore, path: Path) -> int:
    """All lines or none: every line is checked first, and one bad line records nothing."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"triage: cannot read {path}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    labels: list[_Label] = []
    failed = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            item = None
        if not isinstance(item, dict) or "id" not in item or "team" not in item:
            print(
                f'triage: {path}:{number}: not a correction line ({{"id": ..., "team": ...}})',
                file=sys.stderr,
            )
            failed += 1
            continue
        label = _checked(store, item["id"], item["team"], item.get("category"))
        if isinstance(label, str):
            print(f"triage: {path}:{number}: {label}", file=sys.stderr)
            failed += 1
        else:
            labels.append(label)
    if failed:
        print(
            f"triage: {plural(failed, 'line')} refused: nothing imported; fix "
            f"{'it' if failed == 1 else 'them'} and import the file again",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    _save(store, labels, str(path))
    print(f"{plural(len(labels), 'label')} recorded", file=sys.stderr)
    return EXIT_OK
