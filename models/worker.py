"""The Runpod serverless worker: runs on the rented GPU, triages a batch of tickets with the
same prompt template, schema and grammar as the local tier.

Deploy (see README): a container with llama-cpp-python built for CUDA, this repository, and a
GGUF at $TRIAGE_WORKER_MODEL; its command is `python -m models.worker`.

Input:  {"template": "triage", "version": "1",
         "tickets": [{"id": ..., "text": <redacted compact ticket>, "category": ..., "risk": ...}]}
Output: {"answers": [{"id": ..., "outcome": ..., "answer": {...} | null, "error": ...,
                      "tokens_in": n, "tokens_out": n}]}
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.local import LocalModel
from models.port import ModelCall
from models.prompt import load_prompt

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def make_handler(model: LocalModel) -> Handler:
    """A handler around one loaded model (the model is loaded once per worker)."""

    def handler(job: dict[str, Any]) -> dict[str, Any]:
        request = job.get("input") or {}
        if request.get("template") != model.template or (
            str(request.get("version")) != model.template_version
        ):
            return {
                "error": f"this worker runs {model.template}@v{model.template_version}, "
                f"not {request.get('template')}@v{request.get('version')}"
            }
        answers = []
        for ticket in request.get("tickets", []):
            text = str(ticket.get("text", ""))

            def render(room: int, body: str = text) -> str:
                return body[:room]

            call: ModelCall = model.complete(
                render, str(ticket.get("category", "other")), str(ticket.get("risk", "low"))
            )
            answers.append(
                {
                    "id": ticket.get("id"),
                    "outcome": call.outcome,
                    "answer": call.answer.model_dump() if call.answer else None,
                    "error": call.error,
                    "tokens_in": call.tokens_in,
                    "tokens_out": call.tokens_out,
                }
            )
        return {"answers": answers}

    return handler


def main() -> None:  # pragma: no cover - runs on the rented GPU
    import runpod

    model = LocalModel(
        Path(os.environ["TRIAGE_WORKER_MODEL"]),
        load_prompt("triage"),
        n_ctx=int(os.environ.get("TRIAGE_WORKER_N_CTX", "8192")),
        max_tokens=int(os.environ.get("TRIAGE_WORKER_MAX_TOKENS", "512")),
        n_gpu_layers=-1,  # every layer on the GPU
    )
    runpod.serverless.start({"handler": make_handler(model)})


if __name__ == "__main__":
    main()
