"""A loopback stand-in for Runpod's serverless job API (/v2/{endpoint}/...), for the real
`runpod` SDK. /run queues a job and runs the project's real worker handler through
`runpod.serverless.modules.rp_job.run_job`, which gives the deployed worker's output/error
envelope. The terminal status can be scripted: COMPLETED (default), FAILED, TIMED_OUT,
CANCELLED, or NEVER (stays IN_PROGRESS for ever).
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from runpod.serverless.modules.rp_job import run_job


@dataclass
class RunpodStandIn:
    handler: Callable[[dict[str, Any]], dict[str, Any]]
    endpoint_id: str = "ep-test"
    script: deque[str] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)  # bodies of /run
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    delay_ms: int = 1200
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v2"

    def start(self) -> RunpodStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self) -> list[str] | None:
                parts = self.path.strip("/").split("/")
                if len(parts) < 3 or parts[0] != "v2" or parts[1] != stand_in.endpoint_id:
                    self._reply(404, {"error": "no such endpoint"})
                    return None
                if not self.headers.get("Authorization", "").startswith("Bearer "):
                    self._reply(401, {"error": "unauthorized"})
                    return None
                return parts[2:]

            def do_POST(self) -> None:
                route = self._route()
                if route is None:
                    return None
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                if route[0] == "run":
                    stand_in.requests.append(body)
                    job_id = str(uuid.uuid4())
                    behaviour = stand_in.script.popleft() if stand_in.script else "COMPLETED"
                    stand_in.jobs[job_id] = {"id": job_id, "status": "IN_QUEUE"}
                    threading.Thread(
                        target=stand_in._work, args=(job_id, body, behaviour), daemon=True
                    ).start()
                    return self._reply(200, {"id": job_id, "status": "IN_QUEUE"})
                if route[0] == "cancel" and len(route) == 2:
                    stand_in.cancelled.append(route[1])
                    stand_in.jobs.setdefault(route[1], {})["status"] = "CANCELLED"
                    return self._reply(200, {"id": route[1], "status": "CANCELLED"})
                return self._reply(404, {"error": "unknown"})

            def do_GET(self) -> None:
                route = self._route()
                if route is None:
                    return None
                if route[0] == "status" and len(route) == 2 and route[1] in stand_in.jobs:
                    return self._reply(200, stand_in.jobs[route[1]])
                if route[0] == "health":
                    return self._reply(200, {"workers": {"idle": 1}})
                return self._reply(404, {"error": "unknown job"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def _work(self, job_id: str, body: dict[str, Any], behaviour: str) -> None:
        job = self.jobs[job_id]
        job["status"] = "IN_PROGRESS"
        if behaviour == "NEVER":
            return
        if behaviour in ("TIMED_OUT", "CANCELLED"):
            job.update(status=behaviour, delayTime=self.delay_ms, executionTime=0)
            return
        if behaviour == "FAILED":  # the worker crashed at once
            job.update(status="FAILED", delayTime=self.delay_ms, executionTime=300)
            job.update(error="worker crashed (scripted)")
            return
        result = asyncio.run(run_job(self.handler, {"id": job_id, "input": body.get("input")}))
        status = "FAILED" if "error" in result and "output" not in result else "COMPLETED"
        job.update(status=status, delayTime=self.delay_ms, executionTime=800, **result)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
