"""A backlog through the drop folder: `triage run` on the rules tier, N tickets (default 10,000).

    python bench/load.py [N]

Prints throughput and peak RSS of the daemon, and the ratio of its time to a baseline measured
in the same run: the least any durable intake does per file (read it, parse the mail with the
stdlib, write a JSON result with fsync and rename it into place, move the input away).
"""

from __future__ import annotations

import email
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import NO_SCHEDULE, daemon_running
from tests.test_load import memory_kb, write_backlog


def baseline(root: Path, count: int) -> float:
    inbox, done, out = root / "inbox", root / "done", root / "out"
    write_backlog(inbox, count)
    done.mkdir()
    out.mkdir()
    started = time.perf_counter()
    for path in sorted(inbox.iterdir()):
        message = email.message_from_bytes(path.read_bytes())
        temporary = out / f".{path.name}.json.tmp"
        with temporary.open("w") as handle:
            json.dump({"subject": message["Subject"], "from": message["From"]}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(out / f"{path.name}.json")
        path.replace(done / path.name)
    return time.perf_counter() - started


def daemon(root: Path, count: int) -> tuple[float, int, int]:
    config = root / "config.toml"
    config.write_text("[dropfolder]\nsettle_seconds = 0.0\n" + NO_SCHEDULE)
    inbox = root / "var" / "inbox"
    write_backlog(inbox, count)
    with daemon_running(root, config) as process:
        started = time.perf_counter()
        idle = memory_kb(process.pid)["VmRSS"]
        while any(inbox.iterdir()):
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        peak = memory_kb(process.pid)["VmHWM"]
    handled = len(list((root / "var" / "processed").iterdir()))
    assert handled == count, f"{handled} of {count} processed"
    return elapsed, idle, peak


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as base, tempfile.TemporaryDirectory() as run:
        bare = baseline(Path(base), count)
        elapsed, idle, peak = daemon(Path(run), count)
    print(f"backlog: {count} tickets in the drop folder, rules tier")
    print(f"baseline (read, parse, fsync'd JSON, move): {count / bare:6.0f} files/s")
    print(f"triage run:                                 {count / elapsed:6.0f} tickets/s")
    print(f"ratio triage / baseline: {elapsed / bare:.2f}x")
    grown = (peak - idle) / 1024
    print(f"daemon RSS idle {idle / 1024:.0f} MB, peak {peak / 1024:.0f} MB (+{grown:.0f} MB)")


if __name__ == "__main__":
    main()
