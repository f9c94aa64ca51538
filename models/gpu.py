"""The Runpod tier's client: submit a batch of tickets to the serverless endpoint running
models/worker.py, poll with our own deadline, and treat every terminal status explicitly.

The SDK returns None for FAILED, TIMED_OUT and CANCELLED jobs and drops the error text, and it
retries on its own over http://: we read the status ourselves and switch its retries off.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("RUNPOD_LOG_LEVEL", "ERROR")  # its logger prints to stdout otherwise

import runpod
from requests.adapters import HTTPAdapter

from models.port import BatchOutcome

TERMINAL = ("COMPLETED", "FAILED", "TIMED_OUT", "CANCELLED")


class RunpodBatches:
    def __init__(
        self,
        endpoint_id: str,
        api_key: str,
        base_url: str,
        *,
        timeout_seconds: float,
        poll_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._endpoint = runpod.Endpoint(endpoint_id, api_key=api_key)
        client = self._endpoint.rp_client
        client.endpoint_url_base = base_url.rstrip("/")
        for scheme in ("http://", "https://"):  # one attempt per request: our policy decides
            client.rp_session.mount(scheme, HTTPAdapter(max_retries=0))
        self.endpoint_id = endpoint_id
        self.model = f"runpod:{endpoint_id}"
        self.provider = "runpod-worker"
        self._timeout = timeout_seconds
        self._poll = poll_seconds
        self._monotonic = monotonic
        self._sleep = sleep

    def health(self) -> str:
        """The endpoint's health summary; raises when it cannot be reached."""
        state = self._endpoint.rp_client.get(f"{self.endpoint_id}/health")
        return ", ".join(f"{k}: {v}" for k, v in state.get("workers", {}).items()) or "reachable"

    def run(self, payload: dict[str, Any]) -> BatchOutcome:
        client = self._endpoint.rp_client
        try:
            job = self._endpoint.run({"input": payload})
        except Exception as exc:  # connection refused, 4xx/5xx, bad JSON: the batch goes local
            return BatchOutcome("FAILED", error=f"submit: {type(exc).__name__}: {exc}")
        deadline = self._monotonic() + self._timeout
        state: dict[str, Any] = {}
        while True:
            try:
                state = client.get(f"{self.endpoint_id}/status/{job.job_id}")
            except Exception as exc:
                state = {"status": "UNKNOWN", "error": f"status: {exc}"}
            status = str(state.get("status", "UNKNOWN"))
            if status in TERMINAL:
                break
            if self._monotonic() >= deadline:
                with contextlib.suppress(Exception):  # a courtesy: the batch goes local anyway
                    client.post(f"{self.endpoint_id}/cancel/{job.job_id}", data=None, timeout=5)
                return BatchOutcome(
                    "GAVE_UP",
                    billed_seconds=_billed(state),
                    error=f"not finished after {self._timeout:.0f} s: cancelled",
                    job_id=job.job_id,
                )
            self._sleep(self._poll)
        outcome = BatchOutcome(status, billed_seconds=_billed(state), job_id=job.job_id)
        output = state.get("output")
        if status == "COMPLETED" and isinstance(output, dict):
            outcome.answers = list(output.get("answers", []))
            outcome.error = output.get("error") or state.get("error")
        else:
            outcome.error = str(state.get("error") or f"job {status}")[:300]
        return outcome


def _billed(state: dict[str, Any]) -> float:
    milliseconds = float(state.get("delayTime") or 0) + float(state.get("executionTime") or 0)
    return milliseconds / 1000
