"""`triage check`: validate the set-up and reach every enabled part, saying what to fix."""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from triage.config import ImapAccountConfig, LoadedSettings, Settings
from triage.errors import StoreError
from triage.store import SqliteStore


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(loaded: LoadedSettings) -> list[Check]:
    settings = loaded.settings
    where = str(loaded.source) if loaded.source else "built-in defaults (no config file found)"
    checks = [Check("config", True, f"{where}; {len(settings.rules)} rules")]
    checks.append(_store(settings.store.path))
    checks.append(_folder("outbox", settings.outbox.dir))
    if settings.dropfolder.enabled:
        folders = settings.dropfolder
        for name, path in (
            ("dropfolder inbox", folders.inbox),
            ("dropfolder processed", folders.processed),
            ("dropfolder failed", folders.failed),
        ):
            checks.append(_folder(name, path))
    else:
        checks.append(Check("dropfolder", True, "disabled"))
    checks.append(_local(settings))
    checks.append(_paid(settings))
    checks.append(_runpod(settings))
    if settings.imap.enabled:
        checks.extend(_imap(name, account) for name, account in settings.imap.account_list())
    else:
        checks.append(Check("imap", True, "disabled"))
    checks.extend(Check(*found) for found in _deliveries(settings))
    return checks


def _deliveries(settings: Settings) -> list[tuple[str, bool, str]]:
    from triage.delivery.checks import delivery_checks

    try:
        store = SqliteStore(settings.store.path)
    except StoreError:
        return delivery_checks(settings, None)  # the store check says why
    try:
        return delivery_checks(settings, store)
    finally:
        store.close()


def _local(settings: Settings) -> Check:
    from triage.compose import build_local_model

    config = settings.local
    if not config.enabled:
        return Check("local model", True, "not configured: the rules tier answers alone")
    try:
        from models.local import LocalModelError
    except ImportError:
        return Check(
            "local model",
            False,
            "llama-cpp-python is not installed: "
            "CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install 'triage[local]'",
        )
    try:
        model = build_local_model(settings)
    except LocalModelError as exc:
        return Check("local model", False, str(exc))
    threads = getattr(model, "threads", "?")
    return Check(
        "local model", True, f"{config.model_path} loads ({threads} threads, n_ctx {config.n_ctx})"
    )


def _paid(settings: Settings) -> Check:
    from triage.compose import build_escalator
    from triage.errors import ConfigError

    if not settings.paid.enabled:
        return Check("paid tier", True, "disabled")
    store = SqliteStore(":memory:")
    try:
        escalator = build_escalator(settings, store)
    except ConfigError as exc:
        return Check("paid tier", False, str(exc))
    finally:
        store.close()
    import anthropic

    from models.paid import PaidModel

    assert escalator is not None and isinstance(escalator.paid, PaidModel)
    try:
        escalator.paid.ping()
    except anthropic.APIError as exc:
        return Check(
            "paid tier",
            False,
            f"the API refused a token count ({exc}): check [paid] api_key, base_url and model",
        )
    return Check(
        "paid tier",
        True,
        f"{settings.paid.model}: key accepted, price known, budget "
        f"${settings.paid.monthly_budget_usd:.2f}/month",
    )


def _runpod(settings: Settings) -> Check:
    from triage.compose import build_offloader
    from triage.errors import ConfigError

    if not settings.runpod.enabled:
        return Check("runpod tier", True, "disabled")
    store = SqliteStore(":memory:")
    try:
        from models.gpu import RunpodBatches

        offloader = build_offloader(settings, store)
        assert offloader is not None and isinstance(offloader.gpu, RunpodBatches)
        health = offloader.gpu.health()
    except ConfigError as exc:
        return Check("runpod tier", False, str(exc))
    except Exception as exc:
        return Check(
            "runpod tier",
            False,
            f"endpoint not reachable ({exc}): check [runpod] endpoint_id, api_key and base_url",
        )
    finally:
        store.close()
    return Check("runpod tier", True, f"endpoint {settings.runpod.endpoint_id}: {health}")


def _imap(name: str, account: ImapAccountConfig) -> Check:
    from connectors.imap_session import (
        ImapAuthError,
        ImapSetupError,
        close_session,
        open_session,
        session_info,
    )

    label = f"imap {name} ({account.username}@{account.host}:{account.port}, {account.tls})"
    try:
        client = open_session(account)
    except ImapAuthError as exc:
        return Check(
            label,
            False,
            f"login refused ({exc}): check username and password or oauth2_token_command",
        )
    except ImapSetupError as exc:
        return Check(label, False, str(exc))
    except ssl.SSLError as exc:
        return Check(label, False, f"TLS failed ({exc.reason}): check tls, port and ca_file")
    except OSError as exc:
        return Check(label, False, f"cannot connect ({exc}): check host, port and the firewall")
    except Exception as exc:
        return Check(label, False, f"{type(exc).__name__}: {exc}")
    try:
        info = session_info(client)
        existing = {str(folder[2]) for folder in client.list_folders()}
        watched = [f"{f}{'' if f in existing else ' (MISSING)'}" for f in account.folders]
        missing = [f for f in account.folders if f not in existing]
    finally:
        close_session(client)
    detail = (
        f"login ok; watching {', '.join(watched)}; "
        f"IDLE {'available' if info.idle else 'not offered: polling'}"
        f"{'' if account.idle else ' (idle = false: polling)'}; "
        f"MOVE {'available' if info.move else 'not offered: mail is copied'}"
    )
    if missing:
        return Check(label, False, detail + "; create the missing folders or fix [imap] folder")
    return Check(label, True, detail)


def _store(path: Path) -> Check:
    try:
        store = SqliteStore(path)
    except StoreError as exc:
        return Check("store", False, f"{exc}; check [store] path and its folder's permissions")
    try:
        count = store.count_tickets()
        quarantined = store.count_quarantined()
        version = store.schema_version
    finally:
        store.close()
    waiting = f", {quarantined} in quarantine: see `triage replay`" if quarantined else ""
    return Check("store", True, f"{path} (schema v{version}, {count} tickets{waiting})")


def _folder(name: str, path: Path) -> Check:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".triage-check-"):
            pass
    except OSError as exc:
        return Check(name, False, f"{path}: {exc.strerror or exc}; create it or fix its owner")
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        return Check(name, False, f"{path}: not readable and writable by this user")
    return Check(name, True, str(path))
