"""A loopback stand-in for Anthropic's Messages API, for the real `anthropic` SDK.

Serves POST /v1/messages and POST /v1/messages/count_tokens on 127.0.0.1. Each request is
recorded (headers and JSON body) so tests can prove what left the machine. What /v1/messages
answers is scripted: a queue of behaviours ("ok", "429", "529", "500", "400", "hang"), then
"ok" for ever. An "ok" answers with a tool_use block whose input the test provides.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_ANALYSIS = {
    "severity": "high",
    "category": "security",
    "priority": "P1",
    "next_steps": ["Reset the user's password", "Check the sign-in logs"],
    "draft_reply": "Thank you, we are on it.",
    "confidence": 90,
}


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class MessagesStandIn:
    script: deque[str] = field(default_factory=deque)
    analysis: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_ANALYSIS))
    requests: list[Recorded] = field(default_factory=list)
    retry_after: str = "0"
    tool_name: str = "record_analysis"  # another name: a model calling a tool it was not given
    hang_seconds: float = 5.0
    usage: dict[str, int] = field(
        default_factory=lambda: {
            "input_tokens": 900,
            "output_tokens": 180,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 600,
        }
    )
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def messages(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/messages"]

    def start(self) -> MessagesStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                stand_in.requests.append(Recorded(self.path, dict(self.headers), body))
                if self.path == "/v1/messages/count_tokens":
                    text = json.dumps(body)
                    return self._json(200, {"input_tokens": len(text) // 4})
                if self.path != "/v1/messages":
                    return self._json(404, _error("not_found_error", "no such path"))
                behaviour = stand_in.script.popleft() if stand_in.script else "ok"
                if behaviour == "hang":
                    time.sleep(stand_in.hang_seconds)
                    return self._json(200, stand_in._ok(body))
                if behaviour == "ok":
                    return self._json(200, stand_in._ok(body))
                status = int(behaviour)
                kind = {
                    429: "rate_limit_error",
                    529: "overloaded_error",
                    400: "invalid_request_error",
                }.get(status, "api_error")
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

    def _ok(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"msg_standin_{len(self.requests)}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "unknown"),
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_standin",
                    "name": self.tool_name,
                    "input": self.analysis,
                }
            ],
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": dict(self.usage),
        }


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}
