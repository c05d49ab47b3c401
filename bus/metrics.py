"""Prometheus metrics shared by every process, and the HTTP endpoint that serves them.

Names follow Prometheus conventions: base units (seconds, bytes), ``_total`` on counters, and labels
drawn from small fixed sets (topic, component, error type), never from identifiers or free text.

No ``*_created`` series: prometheus_client exports, by default, one per counter, histogram and summary child (the
time it was created), which roughly doubled the series every process exports and which no rule or
panel of ours reads (``increase``/``rate`` handle counter resets). ``disable_created_metrics()`` runs when this
module is imported, before any scrape, for every process (all of them import it through the producer).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from threading import Thread
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Histogram, disable_created_metrics, make_wsgi_app, start_http_server

from bus.config import MetricsSettings
from bus.heartbeat import Heartbeat
from bus.logging import get_logger, ports_logger
from bus.readiness import LIVE_PATH

disable_created_metrics()
log = get_logger(__name__)
METRICS_PATH = "/metrics"  # Prometheus' default metrics_path (scrape_config)
LISTENING_EVENT = "metrics endpoint listening"  # the log line with the port, the one place that names it for port 0
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

EVENTS_PUBLISHED = Counter(
    "omnibus_events_published_total", "Events acknowledged by Kafka.", ["topic"]
)
PUBLISH_FAILURES = Counter(
    "omnibus_publish_failures_total", "Publishes Kafka did not acknowledge.", ["topic", "retriable"]
)
PUBLISH_LATENCY = Histogram(
    "omnibus_publish_latency_seconds",
    "Time from handing events to the producer until Kafka acknowledged them: one observation per publish call"
    " and topic (the call's events share it).",
    ["topic"],
    buckets=LATENCY_BUCKETS_S,
)
DEAD_LETTERS = Counter(
    "omnibus_dead_letters_total", "Records sent to the dead-letter topic.", ["component", "error_type"]
)
DECODE_FAILURES = Counter(
    "omnibus_decode_failures_total", "Records whose bytes could not be decoded.", ["topic"]
)
PUBLISH_FENCED = Counter(
    "omnibus_publish_fenced_total",
    "Batches whose outputs a worker did not publish because it lost a partition meanwhile (bus.fencing).",
    ["component"],
)
TICK_SCANS = Counter(
    "omnibus_tick_scans_total",
    "Clock ticks by what became of their scan (bus.tick_gate): scanned at once, deferred until the inputs "
    "published before them were read, caught_up (a deferred scan ran), forced (deferred too long).",
    ["component", "outcome"],
)
CHANGELOG_FENCED = Counter(
    "omnibus_changelog_fenced_total",
    "Changelog records skipped at restore: written late by a worker that had lost the partition (bus.fencing).",
    ["table"],
)
BATCHES_TAKEN_BACK = Counter(
    "omnibus_changelog_batches_taken_back_total",
    "Batches a restore took back because it did not see their done marker: their input is handled again "
    "(bus.batch_restore).",
    ["table"],
)


@dataclass(frozen=True)
class MetricsServer:
    server: WSGIServer
    thread: Thread

    @property
    def port(self) -> int:
        return self.server.server_port

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def only_metrics(app: WsgiApp, heartbeat: Heartbeat | None = None) -> WsgiApp:
    """``app`` (prometheus_client's, which answers every path with the metrics) on ``/metrics`` only, and ``/live``
    from ``heartbeat`` when given (200, or 503 when its loop stopped moving; ``bus.heartbeat``); any other path is a
    404, so a probe such as ``/ready`` pointed at the metrics port by mistake fails instead of looking healthy (a new
    user's finding)."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") == METRICS_PATH:
            return app(environ, start_response)
        if heartbeat is not None and environ.get("PATH_INFO", "") == LIVE_PATH:
            alive, body = heartbeat.live()
            start_response("200 OK" if alive else "503 Service Unavailable",
                           [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [f"not found: this port serves {METRICS_PATH} only\n".encode()]

    return serve


def serve_metrics(settings: MetricsSettings, heartbeat: Heartbeat | None = None, *,
                  component: str) -> MetricsServer | None:
    """Serve ``/metrics`` (and ``/live`` from ``heartbeat`` when given; nothing else: 404) on a background thread;
    ``None`` when metrics are disabled. ``component``: whose metrics (``adapter.web``, ``identity``...), named with
    the process id in the line that gives the port."""
    if not settings.enabled:
        return None
    server, thread = start_http_server(settings.port, addr=settings.host)
    server.set_app(only_metrics(make_wsgi_app(), heartbeat))
    metrics = MetricsServer(server, thread)
    # Logged always: with port 0 this line is the only place that says which port was chosen, and whose it is.
    ports_logger().info(LISTENING_EVENT, component=component, pid=os.getpid(), host=settings.host,
             port=metrics.port, path=METRICS_PATH)
    return metrics
