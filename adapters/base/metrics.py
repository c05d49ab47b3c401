"""Metrics every adapter reports, labelled by adapter name and by bounded reason codes."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from bus.metrics import LATENCY_BUCKETS_S

RECEIVED = Counter("omnibus_adapter_records_received_total", "Native records received.", ["adapter"])
PUBLISHED = Counter("omnibus_adapter_events_published_total", "Events acknowledged by Kafka.", ["adapter"])
DUPLICATES = Counter(
    "omnibus_adapter_duplicates_total", "Native records skipped because their source id was already published.",
    ["adapter"],
)
CHANGED = Counter(
    "omnibus_adapter_changed_records_total",
    "Native records published as a newer fact: their business key was published before with other content.",
    ["adapter"],
)
REJECTED = Counter("omnibus_adapter_records_rejected_total", "Native records refused.", ["adapter", "reason"])
UNAVAILABLE = Counter(
    "omnibus_adapter_unavailable_total", "Requests answered 503 because Kafka did not acknowledge.", ["adapter"]
)
ACK_LATENCY = Histogram(
    "omnibus_adapter_ack_latency_seconds",
    "From receiving a native record to Kafka acknowledging its events.",
    ["adapter"],
    buckets=LATENCY_BUCKETS_S,
)
