"""A real PostgreSQL server for the tests: Debian's `postgresql` binaries, a cluster made by
`initdb` in a temporary folder, listening on 127.0.0.1 (a free port) and a Unix socket in
that folder, stopped and removed at the end.

`initdb` and `postgres` refuse to run as root, and CI runs as root: then both run as the
`postgres` user (runuser), in a folder that user owns. A fresh database per test is made
from the one server (`create_database`), which keeps the start-up (~2 s) once per session.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

SERVICE_USER = "postgres"


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None when none is installed."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One throw-away cluster. `durable=False` (the tests) turns fsync off: nothing here must
    survive a power cut, and every commit is much cheaper. Benchmarks keep it on."""

    def __init__(
        self, durable: bool = False, max_connections: int = 200, log_statements: bool = False
    ) -> None:
        bin_dir = binaries()
        if bin_dir is None:
            raise RuntimeError(
                "PostgreSQL is not installed: apt-get install -y postgresql (see .ci/run)"
            )
        self._bin = bin_dir
        self._as_root = os.geteuid() == 0
        self.folder = Path(tempfile.mkdtemp(prefix="triage-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        if self._as_root:
            shutil.chown(self.folder, SERVICE_USER, SERVICE_USER)
        self.folder.chmod(0o755)
        settings = [
            f"-p {self.port}",
            f"-k {self.folder}",
            "-c listen_addresses=127.0.0.1",
            f"-c max_connections={max_connections}",
            "-c shared_buffers=32MB",
        ]
        if log_statements:  # every statement the server runs, one log line each (bench/)
            settings += ["-c log_statement=all", "-c log_min_duration_statement=-1"]
        if not durable:
            settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        try:
            self._run(
                "initdb", "-D", str(self.data), "-A", "trust", "-U", SERVICE_USER, "-E", "UTF8"
            )
            self._run(
                "pg_ctl",
                "-D",
                str(self.data),
                "-l",
                str(self.folder / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                " ".join(settings),
                "start",
            )
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def _run(self, program: str, *args: str) -> None:
        argv = [str(self._bin / program), *args]
        if self._as_root:
            argv = ["runuser", "-u", SERVICE_USER, "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=self.folder, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr or done.stdout}"
            )

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVICE_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "t") -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
