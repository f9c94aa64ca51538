"""A loopback stand-in for an OpenAI-compatible chat-completions API, for the real `openai` SDK.

Serves GET <prefix>/models and POST <prefix>/chat/completions on 127.0.0.1, under any prefix:
"/v1" (OpenAI, OpenRouter, LiteLLM, vLLM) or Runpod's "/v2/<endpoint>/openai/v1". Every
request is recorded (path, headers, JSON body) so tests can prove what left the machine.

What a completion answers is scripted: a queue of behaviours ("ok", "429", "500", "400",
"hang", "invalid": text that is not the JSON asked for), then "ok" for ever. An "ok" answer
is, by what was asked:
- `logprobs` asked with max_tokens 1 (a scored question): one token with `top_logprobs`
  from `category_tops` / `incident_tops` (`empty_...` for the calibration ticket that says
  nothing; omitted when `logprobs_supported` is False);
- a JSON answer (response_format given, or the system text asks for JSON): `analysis`;
- otherwise the written summary, `summary`.
`supports_schema = False` answers any request with a json_schema response_format with 400,
as servers without structured outputs do. Usage carries prompt_tokens_details.cached_tokens.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.standins.anthropic_api import DEFAULT_ANALYSIS


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class ChatStandIn:
    prefix: str = "/v1"
    models: list[str] = field(default_factory=lambda: ["gpt-test"])
    api_key: str | None = None  # when set, requests without "Bearer <key>" get 401
    script: deque[str] = field(default_factory=deque)
    analysis: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_ANALYSIS))
    summary: str = "The user cannot connect to the VPN since this morning."
    # (token, probability) alternatives of a scored question's one token
    category_tops: list[tuple[str, float]] = field(
        default_factory=lambda: [("network", 0.6), (" network", 0.1), ("vpn", 0.2), ("other", 0.1)]
    )
    incident_tops: list[tuple[str, float]] = field(
        default_factory=lambda: [("no", 0.8), ("yes", 0.2)]
    )
    # what the empty calibration ticket ("Subject: N/A") gets: an even prior
    empty_category_tops: list[tuple[str, float]] = field(
        default_factory=lambda: [
            ("other", 0.25),
            ("network", 0.25),
            ("vpn", 0.25),
            ("software", 0.25),
        ]
    )
    empty_incident_tops: list[tuple[str, float]] = field(
        default_factory=lambda: [("no", 0.5), ("yes", 0.5)]
    )
    logprobs_supported: bool = True
    supports_schema: bool = True
    retry_after: str = "0"
    hang_seconds: float = 5.0
    usage: dict[str, int] = field(
        default_factory=lambda: {"prompt_tokens": 900, "completion_tokens": 180, "cached": 600}
    )
    requests: list[Recorded] = field(default_factory=list)
    # CPU seconds each written summary costs the server (a model's decoding; bench/fleet.py),
    # spent on the answering thread's own clock, so waiting for a core does not count
    summary_cpu_seconds: float = 0.0
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    def completions(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> ChatStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _authorised(self) -> bool:
                if stand_in.api_key is None:
                    return True
                if self.headers.get("Authorization") == f"Bearer {stand_in.api_key}":
                    return True
                self._json(401, _error("invalid_api_key", "Incorrect API key provided"))
                return False

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                stand_in.requests.append(Recorded(self.path, headers, {}))
                if not self._authorised():
                    return None
                if self.path != f"{stand_in.prefix}/models":
                    return self._json(404, _error("not_found", "no such path"))
                data = [
                    {"id": m, "object": "model", "created": 0, "owned_by": "standin"}
                    for m in stand_in.models
                ]
                return self._json(200, {"object": "list", "data": data})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                stand_in.requests.append(
                    Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                if not self._authorised():
                    return None
                if self.path != f"{stand_in.prefix}/chat/completions":
                    return self._json(404, _error("not_found", "no such path"))
                schema = (body.get("response_format") or {}).get("type") == "json_schema"
                if schema and not stand_in.supports_schema:
                    return self._json(
                        400, _error("invalid_request_error", "response_format is not supported")
                    )
                behaviour = stand_in.script.popleft() if stand_in.script else "ok"
                if behaviour == "hang":
                    time.sleep(stand_in.hang_seconds)
                    behaviour = "ok"
                if behaviour in ("ok", "invalid"):
                    return self._json(200, stand_in._answer(body, behaviour == "invalid"))
                status = int(behaviour)
                kind = {429: "rate_limit_exceeded", 400: "invalid_request_error"}.get(
                    status, "server_error"
                )
                return self._json(
                    status,
                    _error(kind, f"scripted {status}"),
                    {"retry-after": stand_in.retry_after},
                )

            def _json(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)  # the client may have given up (a timeout test)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _answer(self, body: dict[str, Any], invalid: bool) -> dict[str, Any]:
        messages = body.get("messages", [])
        asked = str(messages[-1].get("content", "")) if messages else ""
        system = str(messages[0].get("content", "")) if messages else ""
        logprobs = None
        if body.get("logprobs") and body.get("max_tokens") == 1:
            empty = "Subject: N/A" in asked
            if "Category?" in asked:
                tops = self.empty_category_tops if empty else self.category_tops
            else:
                tops = self.empty_incident_tops if empty else self.incident_tops
            content = tops[0][0]
            if self.logprobs_supported:
                alternatives = [
                    {"token": token, "logprob": math.log(p), "bytes": None} for token, p in tops
                ]
                first = alternatives[0]
                logprobs = {"content": [{**first, "top_logprobs": alternatives}]}
        elif body.get("response_format") or "JSON" in system:
            content = "Sure! Here is my analysis." if invalid else json.dumps(self.analysis)
        else:
            content = self.summary
            _burn(self.summary_cpu_seconds)
        usage = self.usage
        return {
            "id": f"chatcmpl-standin-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "unknown"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "logprobs": logprobs,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": usage["prompt_tokens"],
                "completion_tokens": usage["completion_tokens"],
                "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"],
                "prompt_tokens_details": {"cached_tokens": usage["cached"]},
            },
        }


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


def _burn(cpu_seconds: float) -> None:
    """Spend `cpu_seconds` of this thread's CPU time."""
    until = time.thread_time() + cpu_seconds
    while time.thread_time() < until:
        pass
