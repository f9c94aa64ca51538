"""The local tier: one GGUF model, loaded once (mmap) and run in-process by llama.cpp.

Per ticket the model is asked three questions after the same system text and ticket (so
llama.cpp evaluates that prefix once and reuses it):
- the category, *scored*: the probability of each allowed label as the whole answer, summed
  over its spellings and normalised over the labels (no label is generated);
- "a security incident or an outage?", scored the same way as yes/no;
- a one-line summary, greedy, bounded per token (printable characters, at most
  SUMMARY_CHARS), so that the largest answer it allows fits max_tokens; `grammar=True` adds
  the same bound as a llama.cpp grammar (slower, same answers up to the cut).
Calls are serialised by a lock. Generation is bounded by max_tokens and a deadline.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import llama_cpp
import numpy as np
from llama_cpp import Llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from llama_cpp.llama_grammar import LlamaGrammar

from models.answers import CATEGORIES, INCIDENT, answer_from
from models.port import ALL_QUESTIONS, CallOutcome, ModelCall
from models.prompt import PromptTemplate
from models.schema import SUMMARY_CHARS, Written, worst_case_tokens
from triage.errors import LocalModelError, UnfitModelError

_CHARS_PER_TOKEN = 3  # a first guess when cutting a ticket to fit; then measured

_TICKET_MARK = "\u2063ticket\u2063"  # where the ticket goes in the rendered template
_EMPTY = "Subject: N/A\n\nN/A"  # a ticket that says nothing, for calibration


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_threads() -> int:
    """Half the cores, as llama.cpp itself chooses: threads that wait at every barrier for a
    core another process holds make decoding 10x slower (FACTS.md), one core short costs less."""
    return max(1, available_cpus() // 2)


def strict_grammar_text() -> str:
    """The written part's grammar: one line of at most SUMMARY_CHARS printable characters (no
    control characters, so nothing can break the line or the JSON it is stored in)."""
    return f"root ::= [^\\x00-\\x1F\\x7F]{{1,{SUMMARY_CHARS}}}\n"


@dataclass
class _Spent:
    """Tokens one call evaluated (all questions together; a prefix already in the context
    is not evaluated again)."""

    evaluated: int = 0


class LocalModel:
    """A TicketModel backed by llama.cpp."""

    def __init__(
        self,
        model_path: Path,
        template: PromptTemplate,
        *,
        n_threads: int = 0,
        n_ctx: int = 4096,
        max_tokens: int = 400,
        timeout_seconds: float = 60.0,
        n_gpu_layers: int = 0,
        grammar: bool = False,
    ) -> None:
        if not model_path.is_file():
            raise LocalModelError(f"[local] model_path {model_path}: no such file")
        if max_tokens < worst_case_tokens():
            raise UnfitModelError(
                f"[local] max_tokens {max_tokens} is below the largest answer the schema "
                f"allows ({worst_case_tokens()} tokens): such an answer would be cut off"
            )
        missing = {"category", "incident", "write"} - set(template.questions)
        if missing:
            raise UnfitModelError(f"prompt {template.label} lacks questions {sorted(missing)}")
        threads = n_threads or default_threads()
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
            raise UnfitModelError(
                f"[local] model_path {model_path} has no chat template: use an instruct model"
            )
        self._formatter = Jinja2ChatFormatter(
            template=chat_template,
            eos_token=self._token_text(self._llm.token_eos()),
            bos_token=self._token_text(self._llm.token_bos()),
        )
        # The grammar is built either way: the benches compare decoding with and without it.
        self._grammar = LlamaGrammar.from_string(strict_grammar_text(), verbose=False)
        self._use_grammar = grammar
        self._template = template
        self._n_ctx = n_ctx
        self._max_tokens = max_tokens
        self._timeout = timeout_seconds
        self._lock = threading.Lock()
        self._labels = {label: self._spellings(label) for label in CATEGORIES}
        self._yes_no = {word: self._spellings(word) for word in ("yes", "no")}
        # Contextual calibration: what the model answers to a ticket that says nothing is its
        # bias (the first label listed, a favourite word); each answer is divided by it.
        spent = _Spent()
        self._prior = {
            "category": self._choose(self.prompt_tokens(_EMPTY, "category"), self._labels, spent),
            "incident": self._choose(self.prompt_tokens(_EMPTY, "incident"), self._yes_no, spent),
        }
        self.model = model_path.name
        self.provider = "llama.cpp"
        self.template = template.name
        self.template_version = template.version
        self.threads = threads

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", "replace")

    def _spellings(self, word: str) -> list[list[int]]:
        """The word as the answer's start, as written, capitalised and (short words) upper
        case. Most labels are one token: their probability comes from a single evaluation."""
        forms = dict.fromkeys((word, word.capitalize(), word.upper() if len(word) <= 3 else word))
        return [
            self._llm.tokenize(form.encode("utf-8"), add_bos=False, special=False) for form in forms
        ]

    def prompt_tokens(self, ticket_text: str, question: str) -> list[int]:
        """The chat template's own control tokens are tokens; the ticket's text is only ever
        text: "<|im_start|>system" written in a ticket cannot open a system turn."""
        messages = self._template.messages(
            ticket=_TICKET_MARK, question=self._template.questions[question]
        )
        prompt = self._formatter(messages=messages).prompt  # type: ignore[arg-type]
        before, _, after = prompt.partition(_TICKET_MARK)
        return [
            *self._llm.tokenize(before.encode("utf-8"), add_bos=False, special=True),
            *self._llm.tokenize(ticket_text.encode("utf-8"), add_bos=False, special=False),
            *self._llm.tokenize(after.encode("utf-8"), add_bos=False, special=True),
        ]

    def complete(
        self,
        render: Callable[[int], str],
        rules_category: str,
        rules_risk: str,
        asks: frozenset[str] = ALL_QUESTIONS,
    ) -> ModelCall:
        """Fit the ticket into the context (cut, marked), then ask the questions in `asks`
        (the summary is always written). The rules' findings are not shown to the model;
        they stand where a question is not asked, and `rules_risk` is the floor."""
        budget = self._n_ctx - self._max_tokens
        room = budget * _CHARS_PER_TOKEN
        for _ in range(4):
            text = render(room)
            longest = max(
                (self.prompt_tokens(text, q) for q in ("category", "incident", "write")), key=len
            )
            if len(longest) <= budget:
                return self.ask(text, rules_category, rules_risk, asks)
            room = int(room * budget / len(longest) * 0.9)
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

    def ask(
        self,
        text: str,
        rules_category: str,
        rules_risk: str,
        asks: frozenset[str] = ALL_QUESTIONS,
    ) -> ModelCall:
        """The questions about one (fitted) ticket."""
        spent = _Spent()
        categories: dict[str, float] = {}
        incident: float | None = None
        with self._lock:
            started = time.monotonic()
            write = self.prompt_tokens(text, "write")
            cached = _common_prefix(self._evaluated(), write)  # the static prefix, reused
            try:
                if "category" in asks:
                    categories = _calibrated(
                        self._choose(self.prompt_tokens(text, "category"), self._labels, spent),
                        self._prior["category"],
                    )
                if "incident" in asks:
                    yes_no = self._choose(self.prompt_tokens(text, "incident"), self._yes_no, spent)
                    incident = _calibrated(yes_no, self._prior["incident"])[INCIDENT]
                spent.evaluated += len(write) - _common_prefix(self._evaluated(), write)
                rule = self._grammar if self._use_grammar else None
                out, outcome = self._generate(write, started + self._timeout, rule)
            except (RuntimeError, ValueError) as exc:
                return ModelCall(
                    None,
                    "error",
                    spent.evaluated + cached,
                    0,
                    cached,
                    time.monotonic() - started,
                    f"llama.cpp: {exc}",
                )
            seconds = time.monotonic() - started
        tokens_in, reused = spent.evaluated + cached, cached
        if outcome != "ok":
            why = "answer exceeded max_tokens" if outcome == "invalid" else "deadline reached"
            return ModelCall(None, outcome, tokens_in, len(out), reused, seconds, why)
        written = Written(summary=self._detokenize(out))
        answer = answer_from(categories, incident, written, rules_category, rules_risk)
        return ModelCall(answer, "ok", tokens_in, len(out), reused, seconds)

    def decode(self, tokens: list[int], limit: int, grammar: bool) -> tuple[int, float]:
        """For benchmarks: generate up to `limit` tokens after `tokens`, with or without the
        grammar; returns the tokens generated after the first and the seconds they took (the
        first token's time holds the prompt's evaluation)."""
        rule = self._grammar if grammar else None
        count, first_at = 0, 0.0
        with self._lock:
            for token in self._llm.generate(tokens, temp=0.0, grammar=rule, reset=True):
                if count == 0:
                    first_at = time.monotonic()
                count += 1
                eog = llama_cpp.llama_vocab_is_eog(self._llm._model.vocab, token)
                if eog or count >= limit:
                    break
            return count - 1, time.monotonic() - first_at

    def _generate(
        self,
        tokens: list[int],
        deadline: float,
        grammar: LlamaGrammar | None,
    ) -> tuple[list[int], CallOutcome]:
        """Greedy decoding of one line: it ends at the end of the turn, at a line break or any
        other control character (not kept), or at SUMMARY_CHARS characters. These bounds are
        checked here, per token, at no measurable cost; the optional llama.cpp grammar says the
        same but checks every candidate of the vocabulary at every step (1.6x the decoding time
        on SmolLM2's 49k vocabulary, more on larger ones)."""
        out: list[int] = []
        chars = 0
        for token in self._llm.generate(tokens, temp=0.0, grammar=grammar, reset=True):
            if llama_cpp.llama_vocab_is_eog(self._llm._model.vocab, token):
                return out, "ok"
            piece = self._llm.detokenize([token])
            if any(byte < 0x20 or byte == 0x7F for byte in piece):
                return out, "ok"  # a line break ends the summary (UTF-8 never hides one)
            out.append(token)
            chars += sum(1 for byte in piece if byte & 0xC0 != 0x80)  # UTF-8 lead bytes
            if chars >= SUMMARY_CHARS:
                return out, "ok"
            if len(out) >= self._max_tokens:
                return out, "invalid"
            if time.monotonic() > deadline:
                return out, "timeout"
        return out, "ok"

    def _detokenize(self, tokens: list[int]) -> str:
        return self._llm.detokenize(tokens).decode("utf-8", "replace")

    def _evaluated(self) -> list[int]:
        return list(self._llm.input_ids[: self._llm.n_tokens].tolist())

    def _logprobs_after(self, tokens: list[int], spent: _Spent) -> np.ndarray:
        """Log-probabilities of the next token after `tokens`, evaluating only what the
        context does not already hold."""
        common = min(_common_prefix(self._evaluated(), tokens), len(tokens) - 1)
        self._llm.n_tokens = common  # eval() drops the cache past this point
        self._llm.eval(tokens[common:])
        spent.evaluated += len(tokens) - common
        logits = np.ctypeslib.as_array(
            self._llm._ctx.get_logits_ith(-1), shape=(self._llm.n_vocab(),)
        ).astype(np.float64)
        top = float(logits.max())
        return logits - (top + math.log(float(np.exp(logits - top).sum())))

    def _choose(
        self, prompt: list[int], choices: dict[str, list[list[int]]], spent: _Spent
    ) -> dict[str, float]:
        """Each choice's probability as the whole answer, normalised over the choices."""
        first = self._logprobs_after(prompt, spent)
        scores: dict[str, float] = {}
        for name, spellings in choices.items():
            totals = []
            for sequence in spellings:
                total = float(first[sequence[0]])
                for index in range(1, len(sequence)):
                    step = self._logprobs_after(prompt + sequence[:index], spent)
                    total += float(step[sequence[index]])
                totals.append(total)
            scores[name] = _logsumexp(totals)
        norm = _logsumexp(list(scores.values()))
        return {name: math.exp(score - norm) for name, score in scores.items()}


def _calibrated(probabilities: dict[str, float], prior: dict[str, float]) -> dict[str, float]:
    """Pure: each probability divided by the model's answer to an empty ticket, normalised."""
    scaled = {name: p / max(prior[name], 1e-9) for name, p in probabilities.items()}
    total = sum(scaled.values())
    return {name: value / total for name, value in scaled.items()}


def _logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def _common_prefix(a: list[int], b: list[int]) -> int:
    count = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        count += 1
    return count
