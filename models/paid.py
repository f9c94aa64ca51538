"""The paid tier: Anthropic's Messages API, one attempt per call.

The SDK's own retries are off (it would obey any retry-after, even an hour): the core owns
the policy and asks this adapter for one attempt at a time. The answer comes through a
forced tool call, so it is structured; the static system prompt is marked for caching.
"""

from __future__ import annotations

import time
from typing import Any

import anthropic
from pydantic import ValidationError

from models.port import AttemptOutcome, PaidAttempt, provider_label
from models.prompt import PromptTemplate
from models.schema import Analysis
from triage.costs import Usage

TOOL_NAME = "record_analysis"


TOOL = {
    "name": TOOL_NAME,
    "description": "Record the analysis of the helpdesk ticket.",
    "input_schema": Analysis.model_json_schema(),
}


class PaidModel:
    def __init__(
        self,
        model: str,
        template: PromptTemplate,
        *,
        api_key: str | None,
        base_url: str | None,
        max_tokens: int,
        timeout_seconds: float,
    ) -> None:
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_seconds
        )
        self._template = template
        self.model = model
        self.provider = provider_label("anthropic", base_url)
        self.calls_per_attempt = 1
        self.template = template.name
        self.template_version = template.version
        self.max_tokens = max_tokens

    def _request(self, values: dict[str, str]) -> dict[str, Any]:
        user = self._template.messages(**values)[1]["content"]
        return {
            "model": self.model,
            "system": [
                {
                    "type": "text",
                    "text": self._template.system,
                    "cache_control": {"type": "ephemeral"},
                }
            ],
            "messages": [{"role": "user", "content": user}],
            "tools": [TOOL],
        }

    def ping(self) -> int:
        """Count a tiny request's tokens: proves the address and the key. Raises APIError."""
        counted = self._client.messages.count_tokens(
            model=self.model, messages=[{"role": "user", "content": "triage check"}]
        )
        return int(counted.input_tokens)

    def count_tokens(self, values: dict[str, str]) -> int:
        """Input tokens of the request, from the API; estimated when that fails."""
        request = self._request(values)
        try:
            counted = self._client.messages.count_tokens(**request)
            return int(counted.input_tokens)
        except anthropic.APIError:
            text = request["system"][0]["text"] + request["messages"][0]["content"]
            return len(text) // 3 + 400  # generous: worst cases must not be too low

    def attempt(self, values: dict[str, str]) -> PaidAttempt:
        started = time.monotonic()
        try:
            message = self._client.messages.create(
                **self._request(values),
                max_tokens=self.max_tokens,
                tool_choice={"type": "tool", "name": TOOL_NAME},
            )
        except anthropic.APITimeoutError as exc:
            return PaidAttempt("unknown", Usage(), time.monotonic() - started, error=str(exc))
        except anthropic.APIStatusError as exc:
            outcome: AttemptOutcome = (
                "retryable"
                if exc.status_code in (408, 409, 429) or exc.status_code >= 500
                else "fatal"
            )
            return PaidAttempt(
                outcome,
                Usage(),
                time.monotonic() - started,
                error=f"HTTP {exc.status_code}: {_message(exc)}",
                retry_after=_retry_after(exc.response.headers.get("retry-after")),
            )
        except anthropic.APIConnectionError as exc:
            return PaidAttempt(
                "retryable", Usage(), time.monotonic() - started, error=f"connection: {exc}"
            )
        seconds = time.monotonic() - started
        usage = Usage(
            input_tokens=message.usage.input_tokens,
            output_tokens=message.usage.output_tokens,
            cache_read_tokens=message.usage.cache_read_input_tokens or 0,
            cache_write_tokens=message.usage.cache_creation_input_tokens or 0,
        )
        tool_input = next(
            (
                block.input
                for block in message.content
                if block.type == "tool_use" and block.name == TOOL_NAME
            ),
            None,
        )
        if tool_input is None:
            return PaidAttempt("fatal", usage, seconds, error="the model did not call the tool")
        try:
            analysis = Analysis.model_validate(tool_input)
        except ValidationError as exc:
            problem = exc.errors()[0]
            return PaidAttempt(
                "fatal",
                usage,
                seconds,
                error=f"analysis {'.'.join(map(str, problem['loc']))}: {problem['msg']}",
            )
        return PaidAttempt("ok", usage, seconds, analysis=analysis)


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _message(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message", ""))[:200]
    return str(exc)[:200]
