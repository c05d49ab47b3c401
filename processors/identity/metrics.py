"""Prometheus metrics of the identity processor (labels: identifier type, rule, kind; never values).

Counters, summed over workers; current sizes follow from them, e.g. customers now:
``sum(omnibus_identity_customers_created_total) + sum(omnibus_identity_splits_total)
- sum(omnibus_identity_merges_total)``, identifiers now: ``sum(omnibus_identity_identifiers_linked_total)``.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from bus.metrics import LATENCY_BUCKETS_S
from processors.identity.graph.outputs import (
    Assigned,
    Created,
    Linked,
    Merged,
    Output,
    Refused,
    Resolved,
    SharedMarked,
    Split,
    Unresolved,
)
from processors.identity.rules import kind_of

IDENTIFIERS_LINKED = Counter(
    "omnibus_identity_identifiers_linked_total",
    "Identifiers given their first customer (by creation or by linking).", ["type"],
)
CUSTOMERS_CREATED = Counter("omnibus_identity_customers_created_total", "Customers created.")
MERGES = Counter("omnibus_identity_merges_total", "Customers merged into another customer.")
SPLITS = Counter("omnibus_identity_splits_total", "Operator splits carried out.")
REFUSED_LINKS = Counter(
    "omnibus_identity_refused_links_total", "Identifiers not linked, by the rule that refused them.", ["rule"]
)
SHARED_IDENTIFIERS = Counter(
    "omnibus_identity_shared_identifiers_total", "Identifiers found shared by too many customers.", ["type"]
)
ASSIGNMENTS = Counter(
    "omnibus_identity_assignments_total", "Identifier-to-customer assignments published (compacted topic)."
)
EVENTS_RESOLVED = Counter(
    "omnibus_identity_events_resolved_total", "Input events resolved to a customer, or left without one.",
    ["outcome"],
)
GRAPH_MESSAGES = Counter(
    "omnibus_identity_graph_messages_total", "Protocol messages handled, by kind.", ["kind"]
)
UPDATE_LATENCY = Histogram(
    "omnibus_identity_graph_update_latency_seconds",
    "From taking an event in until the graph settled it (its customer known and its profile updated).",
    buckets=LATENCY_BUCKETS_S,
)


def observe(outputs: list[Output], now: float) -> None:
    for output in outputs:
        if isinstance(output, Created):
            CUSTOMERS_CREATED.inc()
            for key in output.identifiers:
                IDENTIFIERS_LINKED.labels(type=kind_of(key)).inc()
        elif isinstance(output, Linked):
            IDENTIFIERS_LINKED.labels(type=kind_of(output.identifier)).inc()
        elif isinstance(output, Merged):
            MERGES.inc()
        elif isinstance(output, Split):
            SPLITS.inc()
        elif isinstance(output, Refused):
            REFUSED_LINKS.labels(rule=output.lineage.rule).inc()
        elif isinstance(output, SharedMarked):
            SHARED_IDENTIFIERS.labels(type=kind_of(output.identifier)).inc()
        elif isinstance(output, Assigned):
            ASSIGNMENTS.inc()
        elif isinstance(output, Resolved | Unresolved):
            EVENTS_RESOLVED.labels(outcome="resolved" if isinstance(output, Resolved) else "unresolved").inc()
            if output.started_at:
                UPDATE_LATENCY.observe(max(now - output.started_at, 0.0))
