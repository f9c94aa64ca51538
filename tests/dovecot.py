"""A real Dovecot IMAP server for the tests, on 127.0.0.1, in a temp folder.

Plain IMAP (with STARTTLS) and IMAPS on free ports, a CA and a server certificate made with
openssl, users in a passwd-file created before start. Runs as an unprivileged user (Dovecot's
login processes refuse root). Readiness is the "* OK" greeting; stop is SIGTERM to the
process group (see shared/FACTS.md).
"""

from __future__ import annotations

import base64
import grp
import hashlib
import hmac
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from imapclient import IMAPClient

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/tls/server.pem
ssl_key = <{root}/tls/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
first_valid_gid = {gid}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf.ext
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0666
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    user = {user}
  }}
  unix_listener stats-writer {{
    user = {user}
  }}
}}
protocol imap {{
  mail_max_userip_connections = 200
  imap_idle_notify_interval = 1 secs
}}
"""


OAUTH2 = """\
introspection_mode = local
local_validation_key_dict = fs:posix:prefix={root}/oauth2-keys/
username_attribute = email
"""
# The HMAC key tokens are signed with (HS256); Dovecot validates them locally.
OAUTH2_KEY = b"triage-test-oauth2-signing-key-32b"


def jwt_for(user: str, lifetime: int = 300) -> str:
    """An HS256 access token for `user`, as an identity provider would issue it."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    header = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": user, "email": user, "iat": now, "nbf": now - 5, "exp": now + lifetime}
    payload = part(json.dumps(claims).encode())
    signature = hmac.new(OAUTH2_KEY, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{part(signature)}"


def available() -> bool:
    return shutil.which("dovecot") is not None and shutil.which("openssl") is not None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Dovecot:
    root: Path
    users: dict[str, str] = field(default_factory=dict)
    imap_port: int = 0
    imaps_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def ca_file(self) -> Path:
        return self.root / "tls" / "ca.pem"

    def prepare(self) -> None:
        for sub in ("run", "state", "mail", "home", "tls"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._certificates()
        keys = self.root / "oauth2-keys" / "default" / "HS256"
        keys.mkdir(parents=True, exist_ok=True)
        (keys / "default").write_text(base64.b64encode(OAUTH2_KEY).decode())
        (self.root / "oauth2.conf.ext").write_text(OAUTH2.format(root=self.root))
        self.imap_port, self.imaps_port = free_port(), free_port()
        self._write_users()
        if os.geteuid() == 0:
            account = pwd.getpwnam("nobody")
            user, group, uid, gid = (
                "nobody",
                grp.getgrgid(account.pw_gid).gr_name,
                account.pw_uid,
                account.pw_gid,
            )
        else:
            uid, gid = os.getuid(), os.getgid()
            user, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
        (self.root / "dovecot.conf").write_text(
            CONFIG.format(
                root=self.root,
                user=user,
                group=group,
                uid=uid,
                gid=gid,
                imap_port=self.imap_port,
                imaps_port=self.imaps_port,
            )
        )
        if os.geteuid() == 0:
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, uid, gid)
            os.chmod(self.root, 0o755)  # noqa: S103 - dovecot's own user must enter it
            parent = self.root.parent
            while parent != parent.parent:  # dovecot's user must reach its folder
                os.chmod(parent, os.stat(parent).st_mode | 0o005)
                if parent == Path("/tmp") or str(parent).count("/") <= 1:
                    break
                parent = parent.parent

    def add_user(self, name: str, password: str) -> None:
        """Users are read at start: add them before `start` (or restart after)."""
        self.users[name] = password
        if (self.root / "passwd").exists():
            self._write_users()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["dovecot", "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.log()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.imap_port), timeout=1) as s:
                    if s.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not greet: {self.log()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def login(self, user: str) -> IMAPClient:
        """A plain-text IMAP session of `user` (a test's own, beside the daemon's)."""
        client = IMAPClient("127.0.0.1", self.imap_port, ssl=False)
        client.login(user, self.users[user])
        return client

    def count_marked(self, user: str, keyword: str = "$Triaged") -> int:
        client = self.login(user)
        try:
            client.select_folder("INBOX", readonly=True)
            return len(client.search(["KEYWORD", keyword]))
        finally:
            client.logout()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _write_users(self) -> None:
        lines = [f"{name}:{{PLAIN}}{password}::::::" for name, password in self.users.items()]
        passwd = self.root / "passwd"
        passwd.write_text("\n".join(lines) + "\n")
        if os.geteuid() == 0:
            account = pwd.getpwnam("nobody")
            os.chown(passwd, account.pw_uid, account.pw_gid)

    def _certificates(self) -> None:
        tls = self.root / "tls"

        def openssl(command: str) -> None:
            subprocess.run(["openssl", *command.split()], cwd=tls, check=True, capture_output=True)

        (tls / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl(
            "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=triage-test-CA "
            "-keyout ca.key -out ca.pem"
        )
        openssl(
            "req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr"
        )
        openssl(
            "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
            "-extfile ext.cnf -out server.pem"
        )


def serving(root: Path, users: dict[str, str]) -> Iterator[Dovecot]:
    """A Dovecot with these users for the length of a fixture (`yield from serving(...)`)."""
    server = Dovecot(root)
    for name, password in users.items():
        server.add_user(name, password)
    server.prepare()
    server.start()
    try:
        yield server
    finally:
        server.stop()
