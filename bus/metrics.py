"""Prometheus metrics shared by every process, and the HTTP endpoint that serves them.

Names follow Prometheus conventions: base units (seconds, bytes), ``_total`` on counters, and labels
drawn from small fixed sets (topic, component, error type), never from identifiers or free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Histogram, start_http_server

from bus.config import MetricsSettings
from bus.logging import get_logger

log = get_logger(__name__)
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
CHANGELOG_FENCED = Counter(
    "omnibus_changelog_fenced_total",
    "Changelog records skipped at restore: written late by a worker that had lost the partition (bus.fencing).",
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


def serve_metrics(settings: MetricsSettings) -> MetricsServer | None:
    """Serve ``/metrics`` on a background thread; ``None`` when metrics are disabled."""
    if not settings.enabled:
        return None
    server, thread = start_http_server(settings.port, addr=settings.host)
    metrics = MetricsServer(server, thread)
    # Logged always: with port 0 this line is the only place that says which port was chosen.
    log.info("metrics endpoint listening", host=settings.host, port=metrics.port, path="/metrics")
    return metrics
