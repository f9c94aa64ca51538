"""What `triage check` says about delivery: the relay's SMTP server reached with its login,
the acknowledgements' settings, the metrics outputs, and what the store holds that keeps
failing. (name, ok, detail)."""

from __future__ import annotations

import smtplib
import ssl

from triage.config.settings import Settings
from triage.delivery.ack import ack_problem
from triage.delivery.queue import problems
from triage.delivery.smtp import RELAY_HOST_EMPTY, SmtpTransport
from triage.ports import DeliveryStore
from triage.runtime.metrics import parse_listen

Finding = tuple[str, bool, str]


def delivery_checks(settings: Settings, store: DeliveryStore | None) -> list[Finding]:
    found = [_relay(settings), _ack(settings)]
    hooks = settings.webhooks
    found.append(("webhooks", True, f"{len(hooks)} configured" if hooks else "none configured"))
    found.append(_metrics(settings))
    stuck = problems(store) if store is not None else []
    found.append(
        ("deliveries", not stuck, "; ".join(stuck) if stuck else "nothing failing or refused")
    )
    return found


def _relay(settings: Settings) -> Finding:
    relay = settings.relay
    if not relay.enabled:
        return ("relay", True, "disabled")
    if not relay.host:
        return ("relay", False, RELAY_HOST_EMPTY)
    count = len(relay.routes)
    routes = f"{count} route{'' if count == 1 else 's'}"
    return _reach(
        settings, "relay", f"{routes}, default to {', '.join(relay.default_to) or 'nowhere'}"
    )


def _ack(settings: Settings) -> Finding:
    """[ack] sends through the relay's server, whether or not the relay itself is on."""
    ack = settings.ack
    if not ack.enabled:
        return ("ack", True, "disabled")
    problem = ack_problem(ack, settings.relay)
    if problem is not None:
        return ("ack", False, problem)
    said = f"from {ack.sender}, at most {ack.per_hour} an hour per address"
    if settings.relay.enabled:
        return ("ack", True, f"{said}, through the relay's server")
    return _reach(settings, "ack", said)


def _reach(settings: Settings, name: str, ok: str) -> Finding:
    relay = settings.relay
    login = f"{relay.username}@" if relay.username else ""
    label = f"{name} ({login}{relay.host}:{relay.port}, {relay.tls})"
    try:
        SmtpTransport(relay).reach()
    except smtplib.SMTPAuthenticationError as exc:
        return (label, False, f"login refused ({exc.smtp_code}): check username and password")
    except smtplib.SMTPException as exc:
        return (label, False, f"the server refused ({exc}): check tls, port and the login")
    except ssl.SSLError as exc:
        return (label, False, f"TLS failed ({exc.reason}): check tls, port and ca_file")
    except OSError as exc:
        return (label, False, f"cannot connect ({exc}): check host, port and the firewall")
    # Without a username nothing logs in: say the server was reached, not "login ok".
    return (label, True, f"{'login ok' if relay.username else 'reached, no login'}; {ok}")


def _metrics(settings: Settings) -> Finding:
    metrics = settings.metrics
    outputs = []
    if metrics.listen:
        host, port = parse_listen(metrics.listen)
        outputs.append(f"http://{host}:{port}/metrics")
    if metrics.textfile is not None:
        folder = metrics.textfile.parent
        if not folder.is_dir():
            return ("metrics", False, f"{folder} does not exist: the textfile cannot be written")
        outputs.append(str(metrics.textfile))
    return ("metrics", True, ", ".join(outputs) if outputs else "disabled")
