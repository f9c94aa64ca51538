"""Real servers on 127.0.0.1 for the delivery tests: SMTP (aiosmtpd, optionally STARTTLS
with a login) with scripted replies, and an HTTP receiver (http.server) for webhooks."""

from __future__ import annotations

import contextlib
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.dovecot import free_port

LOGIN = (b"relay", b"relay-secret-pw")


class Inbox:
    """What the SMTP server accepted; `replies` are answered first, in order (e.g. a 451)."""

    def __init__(self, replies: list[str] | None = None) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.mail_options: list[list[str]] = []
        self.replies = list(replies or [])
        self.attempts = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.attempts += 1
            if self.replies:
                return self.replies.pop(0)
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            self.mail_options.append(list(envelope.mail_options))
        return "250 OK"


def make_ca(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA and a certificate for 127.0.0.1 signed by it: (the CA file, the server's context)."""

    def openssl(command: str) -> None:
        subprocess.run(["openssl", *command.split()], cwd=folder, check=True, capture_output=True)

    (folder / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-CA -keyout ca.key -out ca.pem"
    )
    openssl("req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout srv.key -out srv.csr")
    openssl(
        "x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
        "-extfile ext.cnf -out srv.pem"
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "srv.pem", folder / "srv.key")
    return folder / "ca.pem", context


@contextlib.contextmanager
def smtp_server(
    inbox: Inbox, tls: ssl.SSLContext | None = None, port: int | None = None
) -> Iterator[Controller]:
    """STARTTLS required and a login (LOGIN) when `tls` is given; plain otherwise."""

    def authenticate(server, session, envelope, mechanism, auth_data):
        # handled=False: aiosmtpd answers a refused login with 535 (a real server's reply).
        return AuthResult(success=(auth_data.login, auth_data.password) == LOGIN, handled=False)

    options = (
        {
            "tls_context": tls,
            "require_starttls": True,
            "authenticator": authenticate,
            "auth_require_tls": True,
        }
        if tls is not None
        else {}
    )
    controller = Controller(inbox, hostname="127.0.0.1", port=port or free_port(), **options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


class Received:
    """What the webhook receiver got; `statuses` are answered first, in order. `drip`: the
    answer is written one byte every `drip` seconds (a receiver that never quite stops);
    `location`: a Location header on every answer (for redirects)."""

    def __init__(
        self, statuses: list[int] | None = None, drip: float = 0.0, location: str = ""
    ) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses or [])
        self.drip = drip
        self.location = location
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.arrived = threading.Condition(self.lock)

    def wait_for(self, count: int, seconds: float) -> bool:
        """True once `count` requests have arrived, False after `seconds`."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, seconds)


@contextlib.contextmanager
def http_server(received: Received, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """The receiver on 127.0.0.1 (HTTPS with `tls`): yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with received.lock:
                status = received.statuses.pop(0) if received.statuses else 200
                if not received.drip:
                    received.requests.append((dict(self.headers.items()), body))
                    received.arrived.notify_all()
            if received.drip:
                self._drip(status)
                return
            self.send_response(status)
            self.send_header("Content-Length", "0")
            if received.location:
                self.send_header("Location", received.location)
            self.end_headers()

        def _drip(self, status: int) -> None:
            """The answer one byte at a time; counted as received only once all is out."""
            answer = f"HTTP/1.1 {status} OK\r\nContent-Length: 0\r\n\r\n".encode()
            self.close_connection = True
            try:
                for byte in answer:
                    if received.stopped.wait(received.drip):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            except OSError:
                return  # the client gave up on us

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_port}/hook"
    finally:
        received.stopped.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
