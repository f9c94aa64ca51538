"""Placing a file in failed/ or processed/ beside many earlier ones of the same name.

Prints the cost of one placement (name chosen, note written, file moved) in a folder that
holds N earlier `ticket.json` files against the same in an empty folder, and the same ratio
for the probing scheme it replaced (name.1, name.2 ... until one is free). Constant-cost
naming keeps its ratio near 1 however large N is. Usage: python bench/quarantine_names.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from triage.files import move_without_clobber, placed_name, write_atomically

ROUNDS = 50


def probing_name(folder: Path, name: str) -> Path:
    """The replaced scheme, for comparison: probe name.1, name.2 ... one by one."""
    target, counter = folder / name, 1
    stem, _, suffix = name.rpartition(".")
    while target.exists():
        target = folder / f"{stem}.{counter}.{suffix}"
        counter += 1
    return target


def place_all(inbox: Path, folder: Path, probing: bool) -> float:
    started = time.perf_counter()
    for n in range(ROUNDS):
        source = inbox / "ticket.json"
        source.write_bytes(b'{"subject": 1}')
        if probing:
            target = probing_name(folder, "ticket.json")
        else:
            target = placed_name(folder, "ticket.json", f"t-{n:020x}", ".error")
        write_atomically(target.with_name(target.name + ".error"), b"note", replace=False)
        move_without_clobber(source, target)
    return (time.perf_counter() - started) / ROUNDS


def main() -> None:
    earlier = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        inbox, empty, full, probed = (root / n for n in ("inbox", "empty", "full", "probed"))
        for folder in (inbox, empty, full, probed):
            folder.mkdir()
        for folder in (full, probed):
            (folder / "ticket.json").write_bytes(b"{}")
            for n in range(1, earlier + 1):
                (folder / f"ticket.{n}.json").write_bytes(b"{}")
        base = place_all(inbox, empty, probing=False)
        ours = place_all(inbox, full, probing=False)
        old = place_all(inbox, probed, probing=True)
    print(f"{earlier} earlier files, {ROUNDS} placements each (timings are noisy: shared CPUs)")
    print(f"empty folder:           {base * 1e6:8.0f} us per file")
    print(f"full, placed_name:      {ours * 1e6:8.0f} us per file  ratio {ours / base:6.2f}")
    print(f"full, probing name.N:   {old * 1e6:8.0f} us per file  ratio {old / base:6.2f}")


if __name__ == "__main__":
    main()
