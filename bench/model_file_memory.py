"""Peak memory of `triage check` on a learned-model file that inflates far beyond its size
(issue 22, item 11), against the same check on the sound model it was made from.

    python bench/model_file_memory.py [INFLATED_MIB]

The bomb is the sound model with its coefficients replaced by INFLATED_MIB (default 1024)
of zeros: a file of a few MB. Each check runs in a process of its own; its peak resident
memory (ru_maxrss) is printed, with the ratio bomb / sound from the same run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.learned_history import write_history
from triage.learned import model_file
from triage.learned.history import read_history
from triage.learned.train import TrainOptions, learn

# Runs the command and prints its peak resident memory in KiB (Linux reports KiB).
PEAK = (
    "import resource, subprocess, sys;"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
    "print(done.returncode); print(done.stdout[-2000:])"
)


def npy_header(shape: tuple[int, ...]) -> bytes:
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape!r}, }}"
    header += " " * (128 - 10 - 1 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1")


def bomb(sound: Path, target: Path, mib: int) -> None:
    rows = mib * 1024 * 1024 // 4 // 256
    chunk = bytes(256 * 4 * 1024)
    with (
        zipfile.ZipFile(sound) as source,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for member in source.infolist():
            if member.filename != "coef.npy":
                out.writestr(member, source.read(member))
                continue
            with out.open("coef.npy", "w", force_zip64=True) as stream:
                stream.write(npy_header((rows, 256)))
                for _ in range(rows // 1024):
                    stream.write(chunk)


def check(folder: Path, model: Path) -> tuple[int, int, float, str]:
    config = folder / f"{model.stem}.toml"
    config.write_text(
        f"[store]\npath = '{folder / 'state' / 'triage.sqlite3'}'\n"
        f"[learned]\nenabled = true\nmodel_path = '{model}'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PEAK,
            sys.executable,
            "-m",
            "triage",
            "--config",
            str(config),
            "check",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    took = time.perf_counter() - started
    peak, code, out = done.stdout.split("\n", 2)
    said = next((line for line in out.splitlines() if "learned tier" in line), "")
    return int(peak), int(code), took, said[:160]


def main() -> None:
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        history = read_history([write_history(folder / "history.csv")])
        learned = learn(history.examples, TrainOptions(), datetime.now(UTC))
        sound = folder / "sound.npz"
        model_file.save(learned.model, learned.card, sound)
        bombed = folder / "bomb.npz"
        bomb(sound, bombed, mib)
        on_disk = bombed.stat().st_size
        sound_peak, sound_code, sound_s, sound_said = check(folder, sound)
        bomb_peak, bomb_code, bomb_s, bomb_said = check(folder, bombed)
    print(f"a model file of {on_disk / 1e6:.1f} MB inflating to {mib} MiB of coefficients:")
    print(f"  check, sound model: peak {sound_peak / 1024:8.1f} MiB, {sound_s:5.2f} s,", end="")
    print(f" exit {sound_code}")
    print(f"    {sound_said}")
    print(
        f"  check, bomb:        peak {bomb_peak / 1024:8.1f} MiB, {bomb_s:5.2f} s, exit {bomb_code}"
    )
    print(f"    {bomb_said}")
    print(f"  ratio bomb / sound: {bomb_peak / sound_peak:.2f}x")


if __name__ == "__main__":
    main()
