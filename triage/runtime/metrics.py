"""Prometheus metrics, counted from the store at each scrape (totals survive restarts):
tickets, model calls, spend and budgets, deliveries, queue depth, source freshness and the
quarantine. Served over HTTP and/or written for node_exporter's textfile collector. No label
ever holds ticket text: sources, statuses, categories, risks and tiers are closed sets or
names from the configuration."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from prometheus_client import CollectorRegistry, make_wsgi_app, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from triage.ports import Clock, MetricsStore
from triage.records import month_window

log = structlog.get_logger("triage.runtime.metrics")


@dataclass(frozen=True)
class MetricsSources:
    """What the collector reads besides the store (wired in triage.compose.app)."""

    budgets: Mapping[str, float]  # tier -> the month's budget in USD (paid, runpod)
    zone: str = "UTC"  # the budget month's time zone ([digest] timezone)
    queue_depth: Callable[[], Mapping[str, int]] = dict  # queue name -> items waiting
    last_pass: Callable[[], Mapping[str, datetime]] = dict  # source -> last successful pass
    # In a fleet (PostgreSQL store): this node's name, and what it holds now (lease names,
    # and "claimed" -> drop-folder files claimed and not yet acknowledged).
    node: str | None = None
    holds: Callable[[], Mapping[str, int]] = dict


class StoreCollector(Collector):
    def __init__(self, store: MetricsStore, clock: Clock, sources: MetricsSources) -> None:
        self._store = store
        self._clock = clock
        self._sources = sources

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        tickets = CounterMetricFamily(
            "triage_tickets",
            "Tickets with a committed result.",
            labels=["source", "status", "category", "risk", "tier"],
        )
        for total in self._store.ticket_totals():
            labels = [total.source, total.status, total.category, total.risk, total.tier]
            tickets.add_metric(labels, float(total.count))
        yield tickets

        calls = CounterMetricFamily(
            "triage_model_calls",
            "Model calls booked, by tier and outcome.",
            labels=["tier", "outcome"],
        )
        tokens = CounterMetricFamily(
            "triage_model_tokens", "Model tokens booked.", labels=["tier", "direction"]
        )
        seconds = CounterMetricFamily(
            "triage_model_seconds", "Seconds spent in model calls.", labels=["tier"]
        )
        by_tier: dict[str, list[float]] = {}
        for call in self._store.call_totals():
            calls.add_metric([call.tier, call.outcome], float(call.calls))
            sums = by_tier.setdefault(call.tier, [0.0, 0.0, 0.0, 0.0])
            for index, value in enumerate(
                (call.tokens_in, call.tokens_out, call.cached_tokens, call.seconds)
            ):
                sums[index] += value
        for tier, (t_in, t_out, t_cached, secs) in sorted(by_tier.items()):
            tokens.add_metric([tier, "in"], t_in)
            tokens.add_metric([tier, "out"], t_out)
            tokens.add_metric([tier, "cached"], t_cached)
            seconds.add_metric([tier], secs)
        yield from (calls, tokens, seconds)

        start, end = month_window(now, self._sources.zone)
        spend = GaugeMetricFamily(
            "triage_spend_month_usd", "Cost booked this budget month.", labels=["tier"]
        )
        spent = self._store.spent_by_tier(start, end)
        for tier in sorted(set(spent) | set(self._sources.budgets)):
            spend.add_metric([tier], spent.get(tier, 0.0))
        yield spend
        left = GaugeMetricFamily(
            "triage_budget_remaining_usd", "The month's budget not yet spent.", labels=["tier"]
        )
        for tier, budget in sorted(self._sources.budgets.items()):
            left.add_metric([tier], max(0.0, budget - spent.get(tier, 0.0)))
        yield left

        deliveries = GaugeMetricFamily(
            "triage_deliveries",
            "Deliveries (relay mail, webhooks) by state: pending, done, quarantined.",
            labels=["kind", "state"],
        )
        for (kind, state), n in sorted(self._store.delivery_counts().items()):
            deliveries.add_metric([kind, state], float(n))
        yield deliveries
        failing = GaugeMetricFamily(
            "triage_deliveries_failing",
            "Pending deliveries that failed at least once.",
            labels=["kind"],
        )
        for kind, n in sorted(self._store.deliveries_retrying().items()):
            failing.add_metric([kind], float(n))
        yield failing

        wrong = GaugeMetricFamily(
            "triage_deliveries_misconfigured",
            "Destinations set up wrong (a webhook URL that redirects); their deliveries are"
            " kept until the configuration is fixed.",
            labels=["kind"],
        )
        found: dict[str, float] = {"smtp": 0.0, "webhook": 0.0}
        for held in self._store.deliveries_misconfigured():
            found[held.kind] = found.get(held.kind, 0.0) + 1
        for kind, destinations in sorted(found.items()):
            wrong.add_metric([kind], destinations)
        yield wrong

        depth = GaugeMetricFamily("triage_queue_depth", "Input waiting.", labels=["queue"])
        for name, n in sorted(self._sources.queue_depth().items()):
            depth.add_metric([name], float(n))
        yield depth

        age = GaugeMetricFamily(
            "triage_source_last_success_age_seconds",
            "Seconds since each source's last successful pass.",
            labels=["source"],
        )
        passes = self._store.cursor_times()
        passes.update(self._sources.last_pass())
        for source, at in sorted(passes.items()):
            age.add_metric([source], max(0.0, (now - at).total_seconds()))
        yield age

        quarantine = GaugeMetricFamily(
            "triage_quarantine_size", "Inputs quarantined and not (yet) replayed."
        )
        quarantine.add_metric([], float(self._store.count_quarantined()))
        yield quarantine

        if self._sources.node is not None:
            node = GaugeMetricFamily(
                "triage_node_info", "This daemon's node name in the fleet.", labels=["node"]
            )
            node.add_metric([self._sources.node], 1.0)
            yield node
            holds = GaugeMetricFamily(
                "triage_node_holds",
                "What this node holds: a lease (1), or claimed inputs (their number).",
                labels=["node", "what"],
            )
            for what, n in sorted(self._sources.holds().items()):
                holds.add_metric([self._sources.node, what], float(n))
            yield holds


def inbox_depth(inbox: Path) -> Callable[[], Mapping[str, int]]:
    """Files waiting in the drop folder (not counting names still being written)."""

    def count() -> Mapping[str, int]:
        try:
            with os.scandir(inbox) as entries:
                waiting = sum(
                    1
                    for entry in entries
                    if entry.is_file(follow_symlinks=False)
                    and not entry.name.startswith(".")
                    and not entry.name.endswith((".tmp", ".part"))
                )
        except OSError:
            waiting = 0
        return {"dropfolder": waiting}

    return count


def registry_for(collector: Collector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def parse_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return (host.strip("[]") or "127.0.0.1"), int(port)


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


def metrics_only(app: WsgiApp) -> WsgiApp:
    """`app` at /metrics (a query string allowed); 404 on every other path."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == "/metrics":
            return app(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Not found: only /metrics is served here.\n"]

    return serve


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a scrape in flight never holds up shutdown


class _ThreadingServer6(_ThreadingServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No line on stderr per scrape."""


class MetricsServer:
    """/metrics over HTTP and/or the textfile, until stop()."""

    def __init__(
        self,
        registry: CollectorRegistry,
        listen: str,
        textfile: Path | None,
        textfile_seconds: float,
    ) -> None:
        self._registry = registry
        self._listen = listen
        self._textfile = textfile
        self._every = textfile_seconds
        self._server: WSGIServer | None = None
        self._http: threading.Thread | None = None
        self._writer: threading.Thread | None = None
        self._stop = threading.Event()
        self.port: int | None = None

    def start(self) -> None:
        if self._listen:
            host, port = parse_listen(self._listen)
            server = make_server(
                host,
                port,
                metrics_only(make_wsgi_app(self._registry)),
                server_class=_ThreadingServer6 if ":" in host else _ThreadingServer,
                handler_class=_QuietHandler,
            )
            self._server = server
            self._http = threading.Thread(
                target=server.serve_forever, name="metrics-http", daemon=True
            )
            self._http.start()
            self.port = server.server_port
        if self._textfile is not None:
            self.write_textfile()
            self._writer = threading.Thread(target=self._write_loop, name="metrics", daemon=True)
            self._writer.start()

    def write_textfile(self) -> None:
        if self._textfile is not None:
            self._textfile.parent.mkdir(parents=True, exist_ok=True)
            write_to_textfile(str(self._textfile), self._registry)  # atomic: tmp + rename

    def _write_loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self.write_textfile()
            except OSError as exc:  # a full disk must not end the daemon
                log.warning("metrics.textfile_failed", path=str(self._textfile), error=str(exc))

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._http is not None:
            self._http.join(5)
        if self._writer is not None:
            self._writer.join(5)
