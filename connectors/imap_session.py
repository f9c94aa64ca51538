"""Opening an IMAP session: TLS as configured, certificate checks, password or XOAUTH2 login."""

from __future__ import annotations

import contextlib
import shlex
import ssl
import subprocess
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from imapclient.util import to_unicode

from triage.config.sections import ImapAccountConfig
from triage.errors import ImapAuthError, ImapSetupError


@dataclass(frozen=True)
class SessionInfo:
    idle: bool
    move: bool
    delimiter: str


def tls_context(config: ImapAccountConfig) -> ssl.SSLContext:
    if config.ca_file is not None:
        return ssl.create_default_context(cafile=str(config.ca_file))
    return ssl.create_default_context()


def open_session(config: ImapAccountConfig) -> IMAPClient:
    """Connect and log in. Raises ImapAuthError, ImapSetupError, or OSError/IMAP errors."""
    timeout = config.timeout_seconds
    if config.tls == "ssl":
        client = IMAPClient(
            config.host, config.port, ssl=True, ssl_context=tls_context(config), timeout=timeout
        )
    else:
        client = IMAPClient(config.host, config.port, ssl=False, timeout=timeout)
        if config.tls == "starttls":
            client.starttls(tls_context(config))
    try:
        _login(client, config)
    except BaseException:
        _close_quietly(client)
        raise
    return client


def _login(client: IMAPClient, config: ImapAccountConfig) -> None:
    if config.oauth2_token_command:
        # A token may have expired since the command cached it: ask once more before giving up.
        for attempt in (1, 2):
            try:
                client.oauth2_login(config.username, fetch_token(config.oauth2_token_command))
                return
            except LoginError as exc:
                if attempt == 2:
                    raise ImapAuthError(_why(exc)) from exc
    if config.password is None:
        raise ImapSetupError("no password and no oauth2_token_command configured")
    try:
        client.login(config.username, config.password.get_secret_value())
    except LoginError as exc:
        raise ImapAuthError(_why(exc)) from exc


def fetch_token(command: str) -> str:
    """Run the configured token command (as isync's PassCmd does) and return its output."""
    try:
        done = subprocess.run(
            shlex.split(command), capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ImapSetupError(f"oauth2_token_command could not run: {exc}") from exc
    token = done.stdout.strip()
    if done.returncode != 0 or not token:
        raise ImapSetupError(
            f"oauth2_token_command exited {done.returncode} without a token"
            f" ({done.stderr.strip()[:200]})"
        )
    return token


def session_info(client: IMAPClient) -> SessionInfo:
    capabilities = set(client.capabilities())
    folders = client.list_folders(directory="", pattern="INBOX")
    delimiter = to_unicode(folders[0][1]) if folders and folders[0][1] else "/"
    return SessionInfo(
        idle=b"IDLE" in capabilities, move=b"MOVE" in capabilities, delimiter=delimiter
    )


def close_session(client: IMAPClient) -> None:
    _close_quietly(client)


def _close_quietly(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection may already be gone; close the socket either way
        with contextlib.suppress(Exception):
            client.shutdown()


def _why(exc: Exception) -> str:
    text = str(exc)
    return text.replace("b'", "").replace("'", "") or type(exc).__name__
