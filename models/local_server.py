"""The local tier from a model server: any OpenAI-compatible chat-completions API (llama.cpp's
llama-server, Ollama, vLLM, Runpod's vLLM worker) instead of a GGUF loaded in-process.

The questions are those of the in-process model (models/local.py), asked over HTTP:
- the category and "a security incident or an outage?" are *scored*: one token is asked for
  with `logprobs` and `top_logprobs`, and each allowed answer's probability is the mass of
  the alternatives that spell its start, normalised over the answers and divided by what the
  model answers to a ticket that says nothing (its bias), as in-process;
- the one-line summary is written (greedy, cut at the line's end and SUMMARY_CHARS; at most
  SUMMARY_TOKENS tokens are asked for).
A server that returns no token probabilities only writes the summary: with no probabilities
`answer_from` keeps the rules' category and risk (no change, no raise); `logprobs` then says
False and `triage check` reports it. Connection failures and timeouts are answers too (outcome
error/timeout: the rules' result stands), and a breaker cools a failing server down so that a
dead one costs no time per ticket.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import openai

from models.answers import CATEGORIES, INCIDENT, answer_from
from models.port import ALL_QUESTIONS, CallOutcome, ModelCall, provider_label
from models.prompt import PromptTemplate
from models.schema import SUMMARY_CHARS, Written
from triage.breaker import Breaker

TOP_LOGPROBS = 20  # OpenAI's limit; llama-server, vLLM and Ollama accept it
# The summary is cut at SUMMARY_CHARS characters; a server cannot be told to stop there, so
# it is asked for at most this many tokens (at 2+ characters a token, as in Latin-script
# text, that is the whole summary): a model that rambles on one line costs no more.
SUMMARY_TOKENS = SUMMARY_CHARS // 2
_CHARS_PER_TOKEN = 3
_EMPTY = "Subject: N/A\n\nN/A"  # a ticket that says nothing, for calibration
# Chat-template control markers written in a ticket are broken up (a zero-width space): the
# server renders the template from text, and the ticket must stay text.
_MARKERS = re.compile(r"<\||\|>|\[/?INST\]|</?s>|<(?:start|end)_of_turn>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def neutralised(text: str) -> str:
    """Pure: the ticket with every chat-template control marker broken up."""
    return _MARKERS.sub(lambda found: found.group(0)[0] + "\u200b" + found.group(0)[1:], text)


def choice_mass(
    alternatives: Sequence[tuple[str, float]], choices: Sequence[str]
) -> dict[str, float]:
    """Pure: each choice's probability mass among a token's top alternatives (token text,
    log probability): a token counts for the one choice it spells the start of (any case,
    spaces and punctuation around it ignored); an ambiguous or unrelated token for none."""
    mass = dict.fromkeys(choices, 0.0)
    for token, logprob in alternatives:
        word = token.strip().strip(".,:;\"'`*").lower()
        if not word:
            continue
        matches = [c for c in choices if c == word or (len(word) >= 2 and c.startswith(word))]
        if len(matches) == 1:
            mass[matches[0]] += math.exp(logprob)
    return mass


def calibrated(mass: dict[str, float], prior: dict[str, float]) -> dict[str, float]:
    """Pure: the choices' masses divided by the model's answer to an empty ticket (a choice the
    prior never listed counts at the smallest listed one), normalised; {} when the model put
    no mass on any choice (no opinion)."""
    if sum(mass.values()) <= 0:
        return {}
    listed = [p for p in prior.values() if p > 0]
    floor = min(listed) if listed else 1.0
    scaled = {name: p / (prior.get(name, 0.0) or floor) for name, p in mass.items()}
    total = sum(scaled.values())
    return {name: value / total for name, value in scaled.items()}


class ServerUnavailable(Exception):
    """The server could not be reached or did not answer in time."""


class ServerModel:
    """A TicketModel over an OpenAI-compatible model server."""

    def __init__(
        self,
        base_url: str,
        model: str,
        template: PromptTemplate,
        *,
        api_key: str | None = None,
        n_ctx: int = 4096,
        max_tokens: int = 400,
        timeout_seconds: float = 60.0,
        breaker: Breaker | None = None,
        provider: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or "none",  # llama-server and Ollama want none
            max_retries=0,  # a down server falls through to the rules at once
            timeout=timeout_seconds,
        )
        self._template = template
        self._n_ctx = n_ctx
        self._max_tokens = max_tokens
        self._timeout = timeout_seconds
        self._breaker = breaker
        self._monotonic = monotonic
        self._prior: dict[str, dict[str, float]] = {}
        self.base_url = base_url
        self.model = model
        self.provider = provider or provider_label("server", base_url)
        self.template = template.name
        self.template_version = template.version
        self.logprobs: bool | None = None  # does the server return token probabilities?

    def reach(self) -> str:
        """The model list (no generation): proves the address. Raises openai.APIError."""
        listed = [entry.id for entry in self._client.models.list()]
        if listed and self.model not in listed:
            shown = ", ".join(listed[:5])
            return f"reached; {self.model!r} is not among the models it lists ({shown})"
        return "reached"

    def complete(
        self,
        render: Callable[[int], str],
        rules_category: str,
        rules_risk: str,
        asks: frozenset[str] = ALL_QUESTIONS,
    ) -> ModelCall:
        return self.complete_by(
            render, rules_category, rules_risk, asks, self._monotonic() + self._timeout
        )

    def complete_by(
        self,
        render: Callable[[int], str],
        rules_category: str,
        rules_risk: str,
        asks: frozenset[str],
        deadline: float,
    ) -> ModelCall:
        """`complete` with every request done by `deadline` (monotonic seconds)."""
        started = self._monotonic()
        if self._breaker is not None and not self._breaker.allow(started):
            return ModelCall(
                None, "error", 0, 0, 0, 0.0, "model server cooling down after repeated failures"
            )
        text = neutralised(render((self._n_ctx - self._max_tokens) * _CHARS_PER_TOKEN))
        spent = _Spent()
        try:
            categories: dict[str, float] = {}
            incident: float | None = None
            if "category" in asks and self.logprobs is not False:
                categories = self._scored(text, "category", CATEGORIES, deadline, spent)
            if "incident" in asks and self.logprobs is not False:
                scored = self._scored(text, "incident", ("yes", "no"), deadline, spent)
                incident = scored.get(INCIDENT) if scored else None
            summary = self._write(text, deadline, spent)
        except ServerUnavailable as exc:
            if self._breaker is not None:
                self._breaker.failure(self._monotonic())
            outcome: CallOutcome = "timeout" if "timed out" in str(exc) else "error"
            return ModelCall(
                None,
                outcome,
                spent.tokens_in,
                spent.tokens_out,
                spent.cached,
                self._monotonic() - started,
                str(exc),
            )
        except openai.APIStatusError as exc:
            too_long = exc.status_code == 400 and "context" in str(exc).lower()
            if exc.status_code >= 500 and self._breaker is not None:
                self._breaker.failure(self._monotonic())
            return ModelCall(
                None,
                "overflow" if too_long else "error",
                spent.tokens_in,
                spent.tokens_out,
                spent.cached,
                self._monotonic() - started,
                f"model server: HTTP {exc.status_code}: {str(exc)[:200]}",
            )
        if self._breaker is not None:
            self._breaker.success()
        answer = answer_from(
            categories, incident, Written(summary=summary), rules_category, rules_risk
        )
        return ModelCall(
            answer,
            "ok",
            spent.tokens_in,
            spent.tokens_out,
            spent.cached,
            self._monotonic() - started,
        )

    def _messages(self, text: str, question: str) -> list[dict[str, str]]:
        return self._template.messages(ticket=text, question=self._template.questions[question])

    def _ask(self, request: dict[str, Any], deadline: float, spent: _Spent) -> Any:
        remaining = deadline - self._monotonic()
        if remaining <= 0:
            raise ServerUnavailable("model server: timed out (the call's deadline passed)")
        try:
            response = self._client.chat.completions.create(
                model=self.model, temperature=0, timeout=remaining, **request
            )
        except openai.APITimeoutError:
            raise ServerUnavailable(
                f"model server {self.base_url}: timed out after {remaining:.0f} s"
            ) from None
        except openai.APIConnectionError as exc:
            raise ServerUnavailable(f"model server {self.base_url}: {exc}") from None
        usage = getattr(response, "usage", None)
        if usage is not None:
            spent.tokens_in += int(usage.prompt_tokens or 0)
            spent.tokens_out += int(usage.completion_tokens or 0)
            details = getattr(usage, "prompt_tokens_details", None)
            spent.cached += int(getattr(details, "cached_tokens", 0) or 0) if details else 0
        return response

    def _scored(
        self,
        text: str,
        question: str,
        choices: Sequence[str],
        deadline: float,
        spent: _Spent,
    ) -> dict[str, float]:
        """The choices' calibrated probabilities; {} when the server gives none."""
        mass = self._mass(text, question, choices, deadline, spent)
        if mass is None:
            return {}
        if question not in self._prior:
            prior = self._mass(_EMPTY, question, choices, deadline, spent)
            self._prior[question] = prior or {}
        return calibrated(mass, self._prior[question])

    def _mass(
        self,
        text: str,
        question: str,
        choices: Sequence[str],
        deadline: float,
        spent: _Spent,
    ) -> dict[str, float] | None:
        response = self._ask(
            {
                "messages": self._messages(text, question),
                "max_tokens": 1,
                "logprobs": True,
                "top_logprobs": TOP_LOGPROBS,
            },
            deadline,
            spent,
        )
        alternatives = _first_token_alternatives(response)
        if alternatives is None:
            self.logprobs = False
            return None
        self.logprobs = True
        return choice_mass(alternatives, choices)

    def _write(self, text: str, deadline: float, spent: _Spent) -> str:
        response = self._ask(
            {
                "messages": self._messages(text, "write"),
                "max_tokens": min(self._max_tokens, SUMMARY_TOKENS),
                "stop": ["\n"],
            },
            deadline,
            spent,
        )
        choices = getattr(response, "choices", None) or []
        content = str(choices[0].message.content or "") if choices else ""
        line = _CONTROL.split(content.strip(), maxsplit=1)[0]
        return line.strip()[:SUMMARY_CHARS]


class _Spent:
    def __init__(self) -> None:
        self.tokens_in = 0
        self.tokens_out = 0
        self.cached = 0


def _first_token_alternatives(response: Any) -> list[tuple[str, float]] | None:
    """(token, logprob) of the first generated token's top alternatives (the token itself
    included); None when the server returned no probabilities."""
    choices = getattr(response, "choices", None) or []
    logprobs = getattr(choices[0], "logprobs", None) if choices else None
    content = getattr(logprobs, "content", None) if logprobs is not None else None
    if not content:
        return None
    first = content[0]
    found = [(str(top.token), float(top.logprob)) for top in (first.top_logprobs or [])]
    if not found:
        found = [(str(first.token), float(first.logprob))]
    return found
