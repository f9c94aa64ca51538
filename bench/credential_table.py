"""Print the credential table: each shape, whether the scan finds its example by that shape
(and makes the ticket restricted), whether its near miss stays clean, and the share found.

    python bench/credential_table.py
"""

from __future__ import annotations

from triage.rules.credentials import NEAR_MISSES, SHAPES, SPOKEN_EXAMPLES
from triage.rules.sensitivity import CREDENTIAL, scan


def _found(text: str, kind: str | None = None) -> bool:
    """Found (by the shape named `kind`, when given), and the ticket made restricted."""
    sensitivity = scan({"body": text})
    kinds = {f.kind for f in sensitivity.findings if f.tag == CREDENTIAL}
    return sensitivity.level == "restricted" and bool(kinds) and (kind is None or kind in kinds)


def main() -> None:
    rows = [(shape.name, shape.example, shape.near_miss) for shape in SHAPES]
    rows += [(name, text, "") for name, text in SPOKEN_EXAMPLES]
    print("| # | shape | example found | near miss clean |")
    print("|---|---|---|---|")
    found = clean = misses = 0
    for index, (name, example, near_miss) in enumerate(rows, 1):
        hit = _found(example, name)
        found += hit
        quiet = "" if not near_miss else ("yes" if not _found(near_miss) else "NO")
        misses += bool(near_miss)
        clean += quiet == "yes"
        print(f"| {index} | {name} | {'yes' if hit else 'NO'} | {quiet} |")
    quiet_extra = sum(not _found(text) for text in NEAR_MISSES)
    print()
    print(f"shapes: {len(SHAPES)} in the table, {len(rows)} example texts")
    print(f"found: {found}/{len(rows)} = {found / len(rows):.0%}")
    print(
        f"near misses clean: {clean}/{misses} of the shapes', "
        f"{quiet_extra}/{len(NEAR_MISSES)} of the spoken ones"
    )


if __name__ == "__main__":
    main()
