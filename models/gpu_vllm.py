"""The Runpod tier on Runpod's official vLLM worker: a batch of tickets asked through the
endpoint's OpenAI-compatible route (`<base_url>/<endpoint_id>/openai/v1`), so a user deploys
a model with no image to build ([runpod] mode = "openai").

Each ticket is asked the local tier's questions (models/local_server.py: scored from the
token probabilities vLLM returns, the summary written), one request after the other, all
within the job's deadline, so the GPU seconds booked never exceed the worst case reserved
for the job. The route reports no billed seconds: each request is booked at its wall time,
an upper bound of the worker time Runpod bills.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from models.local_server import ServerModel
from models.port import ALL_QUESTIONS, BatchOutcome
from models.prompt import PromptTemplate

N_CTX = 8192  # the worker's usual MAX_MODEL_LEN or more
MAX_TOKENS = 400


class VllmBatches:
    """A GpuBatches over Runpod's vLLM worker."""

    def __init__(
        self,
        endpoint_id: str,
        api_key: str,
        base_url: str,
        model: str,
        template: PromptTemplate,
        *,
        timeout_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint_id = endpoint_id
        self.url = f"{base_url.rstrip('/')}/{endpoint_id}/openai/v1"
        self._server = ServerModel(
            self.url,
            model,
            template,
            api_key=api_key,
            n_ctx=N_CTX,
            max_tokens=MAX_TOKENS,
            timeout_seconds=timeout_seconds,
            provider=f"runpod-vllm:{endpoint_id}",
            monotonic=monotonic,
        )
        self._timeout = timeout_seconds
        self._monotonic = monotonic
        self.model = model
        self.provider = self._server.provider

    def health(self) -> str:
        """The route's model list; raises when the endpoint cannot be reached."""
        return self._server.reach()

    def run(self, payload: dict[str, Any]) -> BatchOutcome:
        deadline = self._monotonic() + self._timeout
        outcome = BatchOutcome("COMPLETED")
        for ticket in payload.get("tickets", []):
            text = str(ticket.get("text", ""))
            if self._monotonic() >= deadline:
                outcome.status = "GAVE_UP"
                outcome.error = f"not finished after {self._timeout:.0f} s"
                break

            def render(room: int, body: str = text) -> str:
                return body[:room]

            call = self._server.complete_by(
                render,
                str(ticket.get("category", "other")),
                str(ticket.get("risk", "low")),
                ALL_QUESTIONS,
                deadline,
            )
            outcome.billed_seconds += call.seconds
            outcome.answers.append(
                {
                    "id": ticket.get("id"),
                    "outcome": call.outcome,
                    "answer": call.answer.model_dump() if call.answer else None,
                    "error": call.error,
                    "tokens_in": call.tokens_in,
                    "tokens_out": call.tokens_out,
                }
            )
            if call.answer is None and not outcome.answers[:-1] and call.outcome == "error":
                # The first request failed outright (unreachable, refused): the endpoint is
                # down; the rest of the batch goes back to the local tier unsent.
                outcome.status = "FAILED"
                outcome.error = call.error
                break
        return outcome
