"""The paid tier over any OpenAI-compatible chat-completions API (OpenAI, Azure OpenAI,
OpenRouter, a LiteLLM proxy, vLLM, Mistral), one attempt per call, through the official
`openai` SDK.

As with the Anthropic adapter (models/paid.py) the SDK's retries are off: the core owns the
policy. The answer is asked for as JSON under the analysis' JSON schema (`response_format`
json_schema); a server that refuses that is asked in plain words for the same JSON, which is
validated either way. A malformed answer is asked again once, with what was wrong, inside the
same attempt (hence `calls_per_attempt = 2`: the budget reserves both). Cached prompt tokens
are read from `usage.prompt_tokens_details.cached_tokens` where the server reports them.
"""

from __future__ import annotations

import json
import time
from typing import Any

import openai
from pydantic import ValidationError

from models.port import AttemptOutcome, PaidAttempt, provider_label
from models.prompt import PromptTemplate
from models.schema import Analysis
from triage.costs import Usage

SCHEMA_NAME = "record_analysis"
_ESTIMATE_CHARS_PER_TOKEN = 3  # generous: an estimate must not undercount


def strict_schema() -> dict[str, Any]:
    """The analysis' JSON schema as strict structured outputs want it: every property
    required, no other property allowed."""
    schema = Analysis.model_json_schema()
    schema["additionalProperties"] = False
    schema["required"] = list(schema["properties"])
    return schema


_SCHEMA = strict_schema()  # built once: pydantic's schema generation costs per call
_SCHEMA_TEXT = json.dumps(_SCHEMA)

_NO_TOOL = (
    "\n\nThere is no tool here: answer with the same fields as one JSON object and nothing "
    "else (no prose, no code fence)."
)


class ChatPaidModel:
    """A PaidTier over an OpenAI-compatible chat-completions API."""

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
        self._client = openai.OpenAI(
            api_key=api_key or "none",  # a local vLLM or LiteLLM may want no key
            base_url=base_url or None,
            max_retries=0,
            timeout=timeout_seconds,
        )
        self._template = template
        self.model = model
        self.provider = provider_label("openai", base_url)
        self.template = template.name
        self.template_version = template.version
        self.max_tokens = max_tokens
        self.calls_per_attempt = 2
        self.schema_supported: bool | None = None  # None: not known yet
        self._limit_key = "max_tokens"  # newer OpenAI models want max_completion_tokens

    def _messages(self, values: dict[str, str]) -> list[dict[str, str]]:
        system = self._template.system + _NO_TOOL
        if self.schema_supported is False:
            system += "\nThe JSON schema:\n" + _SCHEMA_TEXT
        user = self._template.messages(**values)[1]["content"]
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def reach(self) -> str:
        """The cheapest call that proves the address and the key: the model list (free).
        Raises openai.APIError."""
        listed = [entry.id for entry in self._client.models.list()]
        if listed and self.model not in listed:
            return f"reached; {self.model!r} is not among the {len(listed)} models it lists"
        return "reached; model listed" if listed else "reached"

    def count_tokens(self, values: dict[str, str]) -> int:
        """No token-counting endpoint here: a generous estimate from the text's length."""
        text = "".join(message["content"] for message in self._messages(values))
        if self.schema_supported is not False:
            text += _SCHEMA_TEXT  # the schema counts as input too
        return len(text) // _ESTIMATE_CHARS_PER_TOKEN + 400

    def attempt(self, values: dict[str, str]) -> PaidAttempt:
        started = time.monotonic()
        messages: list[dict[str, str]] = self._messages(values)
        usage = Usage()
        for asked in range(2):
            try:
                response = self._create(messages)
            except openai.APITimeoutError as exc:
                return PaidAttempt("unknown", usage, time.monotonic() - started, error=str(exc))
            except openai.APIStatusError as exc:
                outcome: AttemptOutcome = (
                    "retryable"
                    if exc.status_code in (408, 409, 429) or exc.status_code >= 500
                    else "fatal"
                )
                return PaidAttempt(
                    outcome,
                    usage,
                    time.monotonic() - started,
                    error=f"HTTP {exc.status_code}: {_message(exc)}",
                    retry_after=_retry_after(exc.response.headers.get("retry-after")),
                )
            except openai.APIConnectionError as exc:
                return PaidAttempt(
                    "retryable", usage, time.monotonic() - started, error=f"connection: {exc}"
                )
            usage = _add(usage, _usage(response, messages))
            content, problem = _content(response)
            if content is not None:
                analysis, problem = _analysis(content)
                if analysis is not None:
                    return PaidAttempt("ok", usage, time.monotonic() - started, analysis=analysis)
            if asked == 0 and content is not None:
                messages = [
                    *messages,
                    {"role": "assistant", "content": content[:4000]},
                    {
                        "role": "user",
                        "content": f"That answer was not valid ({problem}). Answer again "
                        "with only the corrected JSON object.",
                    },
                ]
                continue
            break
        return PaidAttempt("fatal", usage, time.monotonic() - started, error=problem)

    def _create(self, messages: list[dict[str, str]]) -> Any:
        """One request; a server that refuses the JSON schema or the token limit's name is
        asked again at once the way it accepts (a refused request is not billed)."""
        for _ in range(3):
            request: dict[str, Any] = {
                "model": self.model,
                "messages": messages,
                self._limit_key: self.max_tokens,
                "temperature": 0,
            }
            if self.schema_supported is not False:
                request["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": SCHEMA_NAME, "schema": _SCHEMA, "strict": True},
                }
            try:
                response = self._client.chat.completions.create(**request)
            except openai.BadRequestError as exc:
                said = _message(exc).lower()
                if "max_completion_tokens" in said and self._limit_key == "max_tokens":
                    self._limit_key = "max_completion_tokens"
                    continue
                if self.schema_supported is None and (
                    "response_format" in said or "json_schema" in said or "schema" in said
                ):
                    self.schema_supported = False
                    messages = [self._messages_with_schema(messages[0]), *messages[1:]]
                    continue
                raise
            if self.schema_supported is None:
                self.schema_supported = True
            return response
        raise RuntimeError("unreachable")  # pragma: no cover - the loop returns or raises

    def _messages_with_schema(self, system: dict[str, str]) -> dict[str, str]:
        return {
            "role": "system",
            "content": system["content"] + "\nThe JSON schema:\n" + _SCHEMA_TEXT,
        }


def _content(response: Any) -> tuple[str | None, str]:
    choices = getattr(response, "choices", None) or []
    if not choices:
        return None, "the answer had no choices"
    message = choices[0].message
    if getattr(message, "refusal", None):
        return None, f"the model refused: {str(message.refusal)[:200]}"
    if not message.content:
        return None, "the answer was empty"
    return str(message.content), ""


def _analysis(content: str) -> tuple[Analysis | None, str]:
    """The JSON object in the answer (a code fence or words around it are tolerated),
    validated; or why not."""
    start, end = content.find("{"), content.rfind("}")
    if start < 0 or end <= start:
        return None, "the answer held no JSON object"
    try:
        data = json.loads(content[start : end + 1])
    except json.JSONDecodeError as exc:
        return None, f"the answer was not valid JSON: {exc.msg}"
    try:
        return Analysis.model_validate(data), ""
    except ValidationError as exc:
        problem = exc.errors()[0]
        return None, f"analysis {'.'.join(map(str, problem['loc']))}: {problem['msg']}"


def _usage(response: Any, messages: list[dict[str, str]]) -> Usage:
    """What one response used. A server that reports no usage gets a generous estimate:
    never $0 for a call that may have cost."""
    usage = getattr(response, "usage", None)
    if usage is None or not usage.prompt_tokens:
        content, _ = _content(response)
        text = "".join(m["content"] for m in messages)
        return Usage(
            input_tokens=len(text) // _ESTIMATE_CHARS_PER_TOKEN + 1,
            output_tokens=len(content or "") // _ESTIMATE_CHARS_PER_TOKEN + 1,
        )
    details = getattr(usage, "prompt_tokens_details", None)
    cached = int(getattr(details, "cached_tokens", 0) or 0) if details is not None else 0
    return Usage(
        input_tokens=max(0, int(usage.prompt_tokens) - cached),
        output_tokens=int(usage.completion_tokens or 0),
        cache_read_tokens=cached,
    )


def _add(a: Usage, b: Usage) -> Usage:
    return Usage(
        a.input_tokens + b.input_tokens,
        a.output_tokens + b.output_tokens,
        a.cache_read_tokens + b.cache_read_tokens,
        a.cache_write_tokens + b.cache_write_tokens,
    )


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:200]
    return str(exc)[:200]
