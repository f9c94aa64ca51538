"""The local tier: one GGUF model, loaded once (mmap) and run in-process by llama.cpp.

Calls are serialised by a lock (one model, one worker). Each call renders the model's own
chat template with the static system text first, so llama.cpp reuses the evaluated prefix,
and generates under a JSON-schema grammar whose strings cannot hold raw control characters.
Generation is bounded by max_tokens and a wall-clock deadline.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import llama_cpp
from llama_cpp import Llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf
from pydantic import ValidationError

from models.port import ModelCall, Outcome
from models.prompt import PromptTemplate
from models.schema import ModelAnswer, answer_schema

# JSON strings may not contain raw control characters; llama.cpp's generated rule allows them
# (FACTS.md: strict json.loads failed on most random-model samples). Exclude them at the source.
_LOOSE_CHAR = 'char ::= [^"\\\\]'
_STRICT_CHAR = 'char ::= [^"\\\\\\x00-\\x1F\\x7F]'
_CHARS_PER_TOKEN = 3  # a first guess when cutting a ticket to fit; then measured

_TICKET_MARK = "\u2063ticket\u2063"  # where the ticket goes in the rendered template


class LocalModelError(Exception):
    """The configured model cannot be used. The message names the file."""


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def strict_grammar_text() -> str:
    text = str(json_schema_to_gbnf(json.dumps(answer_schema())))
    if _LOOSE_CHAR not in text:
        raise LocalModelError("llama.cpp's JSON grammar changed shape: cannot forbid control chars")
    return text.replace(_LOOSE_CHAR, _STRICT_CHAR)


class LocalModel:
    """A TicketModel backed by llama.cpp."""

    def __init__(
        self,
        model_path: Path,
        template: PromptTemplate,
        *,
        n_threads: int = 0,
        n_ctx: int = 4096,
        max_tokens: int = 512,
        timeout_seconds: float = 60.0,
        n_gpu_layers: int = 0,
    ) -> None:
        if not model_path.is_file():
            raise LocalModelError(f"[local] model_path {model_path}: no such file")
        threads = n_threads or available_cpus()
        try:
            self._llm = Llama(
                model_path=str(model_path),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                use_mmap=True,
                verbose=False,
                seed=0,
                n_gpu_layers=n_gpu_layers,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise LocalModelError(
                f"[local] model_path {model_path} could not be loaded by llama.cpp: {exc}"
            ) from exc
        chat_template = self._llm.metadata.get("tokenizer.chat_template")
        if not chat_template:
            raise LocalModelError(
                f"[local] model_path {model_path} has no chat template: use an instruct model"
            )
        self._formatter = Jinja2ChatFormatter(
            template=chat_template,
            eos_token=self._token_text(self._llm.token_eos()),
            bos_token=self._token_text(self._llm.token_bos()),
        )
        self._grammar = LlamaGrammar.from_string(strict_grammar_text(), verbose=False)
        self._template = template
        self._n_ctx = n_ctx
        self._max_tokens = max_tokens
        self._timeout = timeout_seconds
        self._lock = threading.Lock()
        self.model = model_path.name
        self.template = template.name
        self.template_version = template.version
        self.threads = threads

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", "replace")

    def prompt_tokens(self, ticket_text: str, rules_category: str, rules_risk: str) -> list[int]:
        """The chat template's own control tokens are tokens; the ticket's text is only ever
        text: "<|im_start|>system" written in a ticket cannot open a system turn."""
        messages = self._template.messages(
            ticket=_TICKET_MARK, rules_category=rules_category, rules_risk=rules_risk
        )
        prompt = self._formatter(messages=messages).prompt  # type: ignore[arg-type]
        before, _, after = prompt.partition(_TICKET_MARK)
        return [
            *self._llm.tokenize(before.encode("utf-8"), add_bos=False, special=True),
            *self._llm.tokenize(ticket_text.encode("utf-8"), add_bos=False, special=False),
            *self._llm.tokenize(after.encode("utf-8"), add_bos=False, special=True),
        ]

    def complete(
        self, render: Callable[[int], str], rules_category: str, rules_risk: str
    ) -> ModelCall:
        """Fit the ticket into the context (cut, marked), then generate one answer."""
        budget = self._n_ctx - self._max_tokens
        room = budget * _CHARS_PER_TOKEN
        for _ in range(4):
            tokens = self.prompt_tokens(render(room), rules_category, rules_risk)
            if len(tokens) <= budget:
                return self.complete_tokens(tokens)
            room = int(room * budget / len(tokens) * 0.9)
            if room < 200:
                break
        return ModelCall(
            None,
            "overflow",
            0,
            0,
            0,
            0.0,
            f"the prompt does not fit n_ctx={self._n_ctx} even with the ticket cut",
        )

    def complete_tokens(self, tokens: list[int]) -> ModelCall:
        """One bounded generation under the grammar, validated against the schema."""
        with self._lock:
            started = time.monotonic()
            deadline = started + self._timeout
            cached = _common_prefix(self._llm.input_ids[: self._llm.n_tokens].tolist(), tokens)
            out: list[int] = []
            outcome: Outcome = "ok"
            try:
                for token in self._llm.generate(
                    tokens, temp=0.0, grammar=self._grammar, reset=True
                ):
                    if llama_cpp.llama_vocab_is_eog(self._llm._model.vocab, token):
                        break
                    out.append(token)
                    if len(out) >= self._max_tokens:
                        outcome = "invalid"  # cut off: the JSON cannot be complete
                        break
                    if time.monotonic() > deadline:
                        outcome = "timeout"
                        break
            except (RuntimeError, ValueError) as exc:
                return ModelCall(
                    None,
                    "error",
                    len(tokens),
                    len(out),
                    cached,
                    time.monotonic() - started,
                    f"llama.cpp: {exc}",
                )
            seconds = time.monotonic() - started
        text = self._llm.detokenize(out).decode("utf-8", "replace")
        if outcome != "ok":
            why = "answer exceeded max_tokens" if outcome == "invalid" else "deadline reached"
            return ModelCall(None, outcome, len(tokens), len(out), cached, seconds, why)
        try:
            answer = ModelAnswer.model_validate_json(text)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "answer"
            return ModelCall(
                None,
                "invalid",
                len(tokens),
                len(out),
                cached,
                seconds,
                f"schema: {where}: {problem['msg']}",
            )
        return ModelCall(answer, "ok", len(tokens), len(out), cached, seconds)


def _common_prefix(a: list[int], b: list[int]) -> int:
    count = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        count += 1
    return count
