"""How fast `triage run` stops on SIGTERM, after it has triaged a dropped file (the figure
tests/test_e2e_run.py used to assert as "under 10 s").

    python bench/shutdown.py [ROUNDS]

Prints the median seconds from SIGTERM to exit, and as a ratio to the same command's
`triage --help` run to its end (interpreter start and imports), measured in the same run:
a shutdown that waits on nothing costs about one such start (goal <= 3x).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = [sys.executable, "-m", "triage"]


def wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise RuntimeError("timed out")


def one_shutdown(folder: Path) -> float:
    config = folder / "config.toml"
    config.write_text("[dropfolder]\nsettle_seconds = 0.2\n")
    inbox = folder / "var" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "t.txt").write_text("VPN down\nAnyConnect says error 809\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    daemon = subprocess.Popen(
        [*COMMAND, "--config", str(config), "run"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: (folder / "var" / "processed" / "t.txt").exists())
        started = time.perf_counter()
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
        took = time.perf_counter() - started
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    if code != 0:
        raise RuntimeError(f"exit status {code}")
    return took


def one_start() -> float:
    started = time.perf_counter()
    subprocess.run([*COMMAND, "--help"], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    stops, starts = [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as scratch:
            stops.append(one_shutdown(Path(scratch)))
        starts.append(one_start())
    stop, start = statistics.median(stops), statistics.median(starts)
    print(f"SIGTERM -> exit: median {stop:.2f} s over {rounds} rounds")
    print(f"`triage --help`: median {start:.2f} s   ratio {stop / start:.2f}x (goal <= 3x)")


if __name__ == "__main__":
    main()
