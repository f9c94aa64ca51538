"""`triage check`: validate the set-up and reach every enabled part, saying what to fix.

It changes nothing: the store is opened read-only, folders are looked at, not made (one that
`triage run` will make is fine), and the daemon's health is read from what it publishes."""

from __future__ import annotations

import argparse
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from triage.cli.common import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, Commands
from triage.config.paths import writable_paths
from triage.config.sections import ImapAccountConfig
from triage.config.settings import LoadedSettings, Settings
from triage.errors import StoreError
from triage.records import Lease
from triage.runtime.fleet import NODE_PREFIX
from triage.store import open_store
from triage.store.guard import missing_store, running_daemon

_STATUS_STALE_SECONDS = 60.0  # the daemon publishes its status every 10 s

if TYPE_CHECKING:
    from models.port import TicketModel
    from triage.ports import Store


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    config: bool = False  # a failure that is a configuration error (exit 78)


def run_checks(loaded: LoadedSettings) -> list[Check]:
    settings = loaded.settings
    where = str(loaded.source) if loaded.source else "built-in defaults (no config file found)"
    rules = f"{loaded.custom_rules} own rules + {loaded.default_rules} default rules active"
    if settings.rules_options.replace_defaults:
        rules += " (replace_defaults = true)"
    checks = [Check("config", True, f"{where}; {rules}")]
    checks.append(_paths(loaded, os.environ.get("STATE_DIRECTORY")))
    if settings.store.url is not None:
        from triage.compose.app import node_name

        checks.extend(_shared_store(settings.store.url.get_secret_value(), node_name(settings)))
    else:
        checks.append(_store(settings.store.path, settings.outbox.dir))
        checks.append(_daemon(settings.store.path))
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
    checks.append(_learned(settings))
    checks.append(_knowledge(settings))
    checks.append(_local(settings))
    checks.extend(_paid(settings))
    checks.append(_runpod(settings))
    if settings.imap.enabled:
        checks.extend(_imap(name, account) for name, account in settings.imap.account_list())
    else:
        checks.append(Check("imap", True, "disabled"))
    checks.extend(Check(*found) for found in _deliveries(settings))
    return checks


def _learned(settings: Settings) -> Check:
    from triage.errors import ModelFileError
    from triage.learned.card import render_card
    from triage.learned.model_file import load

    config = settings.learned
    if not config.enabled or config.model_path is None:
        return Check("learned tier", True, "disabled (train one with `triage learn`)")
    try:
        _, card = load(config.model_path)
    except ModelFileError as exc:
        return Check("learned tier", False, str(exc))
    return Check(
        "learned tier",
        True,
        f"{config.model_path} loads, min_probability {config.min_probability}\n"
        + render_card(card, config.min_probability),
    )


def _knowledge(settings: Settings) -> Check:
    """The folders and the history export are there; what the index holds (read-only)."""
    from triage.knowledge.articles import scan

    config = settings.knowledge
    if not config.enabled:
        return Check("knowledge", True, "disabled (set [knowledge] dirs to folders of articles)")
    found, missing = scan(config.dirs)
    problems = [
        f"folder {path} is a file, not a folder: fix [knowledge] dirs"
        if path.is_file()
        else f"folder {path} is missing: make it or fix [knowledge] dirs"
        for path in missing
    ]
    if config.history is not None and config.history.is_dir():
        problems.append(
            f"history {config.history} is a folder, not the export file: fix [knowledge] history"
        )
    elif config.history is not None and not config.history.is_file():
        problems.append(f"history {config.history} is missing: fix [knowledge] history")
    indexed = _indexed(settings)
    folders = len(config.dirs) - len(missing)
    detail = f"{len(found)} articles in {folders} folder{'s' if folders != 1 else ''}; {indexed}"
    if problems:
        return Check("knowledge", False, "; ".join([*problems, detail]))
    return Check("knowledge", True, detail)


def _indexed(settings: Settings) -> str:
    """What the store's index holds, read-only: "indexed: 25 articles, 0 solved tickets"."""
    from triage.store import open_shared

    url, path = settings.store.url, settings.store.path
    if url is None and not path.exists():
        return "not indexed yet (`triage run` or `triage knowledge` builds the index)"
    try:
        store: Store = (
            open_store(path, read_only=True)
            if url is None
            else open_shared(url.get_secret_value(), node="check", migrate=False)
        )
    except (ImportError, StoreError) as exc:
        return f"index not read ({exc})"
    try:
        sources = store.knowledge_digests()
    except StoreError:
        return "not indexed yet (`triage run` migrates the store and builds the index)"
    finally:
        store.close()
    articles = sum(source.startswith("kb/") for source in sources)
    return f"indexed: {articles} articles, {len(sources) - articles} solved tickets"


FLEET_SEEN_MINUTES = 5  # `check` lists the daemons whose heartbeat is this recent


def _shared_store(url: str, own: str) -> list[Check]:
    """A fleet's PostgreSQL store: reached, its server's version and schema, whether this
    config's node name is free or this host's, and the daemons seen in the last minutes with
    what each said. Migrates nothing."""
    from datetime import UTC, datetime, timedelta

    from triage.store import open_shared, safe_url

    where = safe_url(url)
    try:
        store = open_shared(url, node="check", pool_size=1, migrate=False)
    except ImportError as exc:
        missing = f"psycopg is missing ({exc}): pip install 'triage[postgres]'"
        return [Check("store", False, missing)]
    except StoreError as exc:
        return [Check("store", False, f"{exc}; check [store] url, the server and its pg_hba.conf")]
    try:
        version, server = store.schema_version, store.server_version()
        latest = store.schema_latest
        if version > latest:
            return [Check("store", False, f"{where}: schema v{version} is newer than this triage")]
        if version < latest:
            return [
                Check(
                    "store",
                    True,
                    f"PostgreSQL {server} at {where} (schema v{version}: `triage run` migrates "
                    f"it to v{latest})",
                )
            ]
        count, quarantined = store.count_tickets(), store.count_quarantined()
        now = datetime.now(UTC)
        seen = store.fleet(now - timedelta(minutes=FLEET_SEEN_MINUTES))
        held = store.all_leases(now)
        named = store.lease_of(NODE_PREFIX + own, now)
    except StoreError as exc:
        return [Check("store", False, f"{where}: {exc}")]
    finally:
        store.close()
    checks = [
        Check(
            "store",
            True,
            f"PostgreSQL {server} at {where}, schema v{version}, shared by a fleet; "
            f"{count} tickets, {quarantined} quarantined",
        ),
        _node_name(own, named, os.uname().nodename),
    ]
    if not seen:
        checks.append(
            Check("fleet", True, f"no daemon seen in the last {FLEET_SEEN_MINUTES} minutes")
        )
        return checks
    lines = []
    for node in seen:
        age = (now - node.seen_at).total_seconds()
        holds = [name for name, holder in held if holder == node.name]
        lines.append(
            f"{node.name} (pid {node.pid}) seen {age:.0f} s ago"
            + (f", holds {', '.join(holds)}" if holds else "")
            + f": {node.status}"
        )
    summary = f"{len(seen)} daemons seen in the last {FLEET_SEEN_MINUTES} minutes"
    return [*checks, Check("fleet", True, summary + "\n" + "\n".join(lines))]


def _node_name(node: str, held: Lease | None, host: str) -> Check:
    """Pure: is this config's node name free, or held by a daemon here? Held from another
    host, a daemon started here under it would be refused (triage.runtime.fleet)."""
    if held is None:
        return Check("node", True, f"{node!r}: no daemon of the fleet runs under this name now")
    if held.host == host:
        return Check("node", True, f"{node!r}: the daemon on this host (pid {held.pid})")
    return Check(
        "node",
        False,
        f"{node!r} ([store] node) is in use by a daemon on host {held.host} (pid {held.pid}): "
        "a daemon started here with this config would be refused. Give it its own name: set "
        "[store] node in its config.toml (or TRIAGE_STORE__NODE) to a name no other daemon uses",
    )


def _deliveries(settings: Settings) -> list[tuple[str, bool, str]]:
    from triage.cli.check_delivery import delivery_checks

    if settings.store.url is not None:
        return delivery_checks(settings, None)  # the store check says how the store is
    path = settings.store.path
    if not path.exists():
        return delivery_checks(settings, None)  # nothing delivered yet: nothing can fail
    try:
        store = open_store(path, read_only=True)  # `check` changes nothing
    except StoreError:
        return delivery_checks(settings, None)  # the store check says why
    try:
        current = store.schema_version >= store.schema_latest
        return delivery_checks(settings, store if current else None)
    finally:
        store.close()


def _local(settings: Settings) -> Check:
    from triage.compose.tiers import build_local_model

    config = settings.local
    if not config.enabled:
        return Check("local model", True, "not configured: the rules tier answers alone")
    if config.base_url is not None:
        return _local_server(settings)
    try:
        from triage.errors import LocalModelError
    except ImportError:
        return Check(
            "local model",
            False,
            "llama-cpp-python is not installed: "
            "CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install 'triage[local]'",
        )
    from triage.errors import ConfigError

    try:
        model = build_local_model(settings)
    except LocalModelError as exc:
        return Check("local model", False, str(exc), config=isinstance(exc, ConfigError))
    if model is None:
        return Check("local model", True, "not configured: the rules tier answers alone")
    return _local_trial(model, settings)


def _local_server(settings: Settings) -> Check:
    """The model server reached (its model list), then the same trial as an in-process model;
    a server that returns no token probabilities is named: the tier then only summarises."""
    from models.local_server import ServerModel
    from triage.compose.tiers import build_local_model

    config = settings.local
    model = build_local_model(settings)
    assert isinstance(model, ServerModel)
    try:
        said = model.reach()
    except Exception as exc:
        return Check(
            "local model",
            False,
            f"the model server at {config.base_url} did not answer ({type(exc).__name__}: "
            f"{str(exc)[:200]}): check [local] base_url and that the server runs",
        )
    trial = _local_trial(model, settings)
    if not trial.ok:
        return trial
    if model.logprobs is not True:
        return Check(
            "local model",
            True,
            f"{trial.detail}; WARNING: the server returns no token probabilities (logprobs), so "
            "the local tier only writes summaries: no category change, no risk raise "
            "(llama-server, vLLM and recent Ollama return them)",
        )
    return Check("local model", True, f"{trial.detail}; server {said}, token probabilities ok")


def _local_trial(model: TicketModel, settings: Settings) -> Check:
    """The loaded model on a few known tickets: a model that calls everything high or parrots
    the prompt is refused as a configuration error."""
    from models.prompt import load_prompt
    from triage.errors import ConfigError
    from triage.evaluation.probe import probe_model
    from triage.tiers.trust import load_trust

    config = settings.local
    threads = getattr(model, "threads", "?")
    loads = (
        f"{config.model} at {config.base_url} answers"
        if config.base_url is not None
        else f"{config.model_path} loads ({threads} threads, n_ctx {config.n_ctx})"
    )
    template = load_prompt(model.template)
    instructions = "\n".join([template.system, *template.questions.values()])
    refused, answers = probe_model(model, instructions)
    if refused is not None:
        return Check("local model", False, f"{loads}, but refused: {refused}", config=True)
    try:
        trust = load_trust(config.trust_profile)
    except ConfigError as exc:
        return Check("local model", False, f"{loads}; {exc}", config=True)
    if trust is None:
        standing = "no trust profile: its opinions are review notes"
    elif (trust.model, trust.template) != (model.model, f"{template.name}@v{template.version}"):
        standing = (
            f"trust profile {config.trust_profile} is for {trust.model} ({trust.template}): "
            "ignored, its opinions are review notes"
        )
    else:
        standing = f"trust profile measured on {trust.tickets} tickets of {trust.labels}"
    high = sum(a.says_high for a in answers)
    return Check(
        "local model",
        True,
        f"{loads}; trial of {len(answers)} known tickets passed ({high} called high); {standing}",
    )


def _paid(settings: Settings) -> list[Check]:
    """Each provider of the chain reached with its cheapest call (a token count for
    Anthropic, the model list for an OpenAI-compatible API): which answered, which did not.
    A model without a price is a configuration error (exit 78), as at start."""
    from triage.compose.tiers import paid_client, paid_fallbacks
    from triage.errors import ConfigError

    paid = settings.paid
    if not paid.enabled:
        return [Check("paid tier", True, "disabled")]
    try:
        chain = [paid_client(settings), *paid_fallbacks(settings)]
    except ConfigError as exc:
        return [Check("paid tier", False, str(exc), config=True)]
    checks = []
    for number, (client, _) in enumerate(chain):
        name = "paid tier" if number == 0 else f"paid fallback #{number}"
        label = f"{client.model} ({client.provider})"
        try:
            said = _reach_paid(client)
        except Exception as exc:
            where = "[paid]" if number == 0 else f"[[paid.fallback]] #{number}"
            checks.append(
                Check(
                    name,
                    False,
                    f"{label}: did not answer ({type(exc).__name__}: {str(exc)[:200]}): "
                    f"check {where} api_key, base_url and model",
                )
            )
            continue
        checks.append(Check(name, True, f"{label}: answered ({said}), price known"))
    budget = f"budget ${paid.monthly_budget_usd:.2f}/month for the whole chain"
    answered = [c for c in checks if c.ok]
    checks.append(
        Check(
            "paid chain",
            bool(answered),
            f"{len(answered)} of {len(checks)} providers answered; {budget}",
        )
    )
    return checks


def _reach_paid(client: object) -> str:
    from models.paid import PaidModel
    from models.paid_openai import ChatPaidModel

    if isinstance(client, PaidModel):
        return f"key accepted, a token count of {client.ping()}"
    if isinstance(client, ChatPaidModel):
        return client.reach()
    return "not checked"


def _runpod(settings: Settings) -> Check:
    from triage.compose.tiers import build_offloader
    from triage.errors import ConfigError

    if not settings.runpod.enabled:
        return Check("runpod tier", True, "disabled")
    store = open_store(":memory:")
    try:
        offloader = build_offloader(settings, store)
        assert offloader is not None
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
    mode = " (Runpod's vLLM worker, openai mode)" if settings.runpod.mode == "openai" else ""
    return Check("runpod tier", True, f"endpoint {settings.runpod.endpoint_id}{mode}: {health}")


def _imap(name: str, account: ImapAccountConfig) -> Check:
    from connectors.imap_session import (
        close_session,
        open_session,
        session_info,
    )
    from triage.errors import ImapAuthError, ImapSetupError

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


def _store(path: Path, outbox: Path) -> Check:
    """Opened read-only: `check` creates nothing, migrates nothing."""
    problem = missing_store(path, outbox)
    if problem:
        return Check("store", False, problem)
    if not path.exists():
        return _to_be_made("store", path, "`triage run` creates it")
    try:
        store = open_store(path, read_only=True)
    except StoreError as exc:
        return Check("store", False, f"{exc}; check [store] path and its folder's permissions")
    try:
        version = store.schema_version
        if version < store.schema_latest:
            count = quarantined = 0
        else:
            count, quarantined = store.count_tickets(), store.count_quarantined()
    except StoreError as exc:
        return Check("store", False, f"{path}: {exc}")
    finally:
        store.close()
    if version > store.schema_latest:
        return Check("store", False, f"{path}: schema v{version} is newer than this triage")
    if version < store.schema_latest:
        return Check(
            "store",
            True,
            f"{path} (schema v{version}: `triage run` migrates it to v{store.schema_latest})",
        )
    if not os.access(path, os.R_OK | os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
        return Check("store", False, f"{path}: not writable by this user (nor its folder)")
    waiting = f", {quarantined} in quarantine: see `triage replay`" if quarantined else ""
    return Check("store", True, f"{path} (schema v{version}, {count} tickets{waiting})")


def _paths(loaded: LoadedSettings, systemd_state: str | None) -> Check:
    """Under systemd (StateDirectory=) the hardened unit may write only its state directory:
    every path triage writes must be under it."""
    state = loaded.state_dir or Path.cwd()
    outside = [
        f"{key} = {path}"
        for key, path in writable_paths(loaded.settings)
        if not path.is_relative_to(state)
    ]
    if not outside:
        return Check("paths", True, f"everything triage writes is under {state}")
    detail = f"outside the state directory {state}: {', '.join(outside)}"
    if systemd_state:
        return Check("paths", False, f"{detail}; the service cannot write there: move them")
    return Check("paths", True, detail)


def _daemon(store: Path) -> Check:
    """The daemon on this store, from its lock and the status line it publishes."""
    running = running_daemon(store)
    if running is None:
        return Check("daemon", True, "not running on this store")
    who = f"pid {running.pid}" if running.pid else "running"
    if running.status is None or running.age_seconds is None:
        return Check("daemon", True, f"{who}, starting (no status yet)")
    if running.age_seconds > _STATUS_STALE_SECONDS:
        return Check(
            "daemon",
            False,
            f"{who} has not said how it is for {running.age_seconds:.0f} s: it may hang "
            "(see its log; systemd's watchdog restarts it)",
        )
    if running.status.startswith("STALLED"):
        return Check("daemon", False, f"{who}: {running.status}")
    return Check("daemon", True, f"{who}: {running.status}")


def _folder(name: str, path: Path) -> Check:
    """Looked at, never made: a missing folder is fine when `triage run` can make it."""
    if path.is_dir():
        if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            return Check(name, False, f"{path}: not readable and writable by this user")
        return Check(name, True, str(path))
    if path.exists() or path.is_symlink():
        return Check(name, False, f"{path}: not a folder; remove it or fix the key")
    return _to_be_made(name, path, "`triage run` creates it")


def _to_be_made(name: str, path: Path, who: str) -> Check:
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor.is_dir() and os.access(ancestor, os.W_OK | os.X_OK):
        return Check(name, True, f"{path} does not exist yet: {who} (under {ancestor})")
    return Check(
        name,
        False,
        f"{path} does not exist and cannot be made ({ancestor} is not a folder writable by "
        "this user): create it or fix its owner",
    )


def register(commands: Commands) -> None:
    check = commands.add_parser("check", help="validate the config and reach every enabled part")
    check.set_defaults(handler=_check)


def _check(loaded: LoadedSettings, _args: argparse.Namespace) -> int:
    results = run_checks(loaded)
    for check in results:
        mark = "ok  " if check.ok else "FAIL"
        print(f"{mark} {check.name}: {check.detail}")
    if all(check.ok for check in results):
        return EXIT_OK
    return EXIT_CONFIG if any(c.config for c in results if not c.ok) else EXIT_FAILURE
