"""Prometheus metrics of the identity processor (labels: identifier type, rule, kind; never values).

Counters, summed over workers; current sizes follow from them, e.g. customers now:
``sum(omnibus_identity_customers_created_total) + sum(omnibus_identity_splits_total)
- sum(omnibus_identity_merges_total)``, identifiers now: ``sum(omnibus_identity_identifiers_linked_total)``.
"""

from __future__ import annotations

from collections import Counter as Counter_
from typing import Any

from prometheus_client import Counter, Histogram

from bus.metrics import LATENCY_BUCKETS_S
from processors.identity.graph.outputs import (
    Assigned,
    Created,
    Linked,
    Merged,
    Output,
    RefusalRepeated,
    Refused,
    Resolved,
    Send,
    SharedMarked,
    SharedRevoked,
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
    "omnibus_identity_refused_links_total",
    "Refusals announced (LinkRefused: an identifier not linked), by the rule that refused them.", ["rule"],
)
REFUSALS_REPEATED = Counter(
    "omnibus_identity_refusals_repeated_total",
    "Refusals decided again as announced before (the same rule, identifier, customers and weight band: a shared "
    "landline's next call), counted instead of announced (graph/refusals.py), by rule and identifier type.",
    ["rule", "type"],
)
SHARED_IDENTIFIERS = Counter(
    "omnibus_identity_shared_identifiers_total", "Identifiers found shared by too many customers.", ["type"]
)
SHARED_REVOKED = Counter(
    "omnibus_identity_shared_revoked_total",
    "Shared flags revoked because the evidence kept no longer supports them (graph/evidence.py).", ["type"]
)
ASSIGNMENTS = Counter(
    "omnibus_identity_assignments_total", "Identifier-to-customer assignments published (compacted topic)."
)
EVENTS_RESOLVED = Counter(
    "omnibus_identity_events_resolved_total", "Input events resolved to a customer, or left without one.",
    ["outcome"],
)
EVENTS_WITHOUT_IDENTIFIER = Counter(
    "omnibus_identity_events_without_identifier_total",
    "Events a profile section reads that carry no identifier to place them (intake.py), by schema and outcome: "
    "unresolved (an anonymous contact, or every identifier refused) or dead_lettered (it must name its customer).",
    ["schema", "outcome"],
)
GRAPH_MESSAGES = Counter(
    "omnibus_identity_graph_messages_total", "Protocol messages handled, by kind.", ["kind"]
)
STAGE_RESTARTS = Counter(
    "omnibus_identity_stage_restarts_total",
    "Bulk stage loops (intake, graph) that ended without being stopped and were started again (bulk_intake.py), by "
    "stage and cause: task_cancelled (Task.cancel from elsewhere) or future_cancelled (a future it awaited was "
    "cancelled by another of its awaiters or its owner).",
    ["stage", "cause"],
)
UPDATE_LATENCY = Histogram(
    "omnibus_identity_graph_update_latency_seconds",
    "From taking an event in until the graph settled it (its customer known and its profile updated).",
    buckets=LATENCY_BUCKETS_S,
)


def observe(outputs: list[Output], now: float) -> None:
    """Count a batch's decisions: each counter is moved once per label per batch, not once per output."""
    tally: Counter_[tuple[Any, ...]] = Counter_()
    for output in outputs:
        kind = type(output)
        if kind is Send:
            continue  # a graph message, no decision (most outputs): not through the isinstance chain below (#9)
        if kind is Resolved or kind is Unresolved:
            if kind is Resolved and output.moved_by:  # type: ignore[union-attr]
                continue  # a contact an operator's split moved: resolved once already, not an input event
            tally[(EVENTS_RESOLVED, "resolved" if kind is Resolved else "unresolved")] += 1
            if output.started_at:  # type: ignore[union-attr]
                UPDATE_LATENCY.observe(max(now - output.started_at, 0.0))  # type: ignore[union-attr]
        elif kind is Assigned:
            tally[(ASSIGNMENTS,)] += 1
        elif isinstance(output, Created):
            tally[(CUSTOMERS_CREATED,)] += 1
            for key in output.identifiers:
                tally[(IDENTIFIERS_LINKED, kind_of(key))] += 1
        elif isinstance(output, Linked):
            tally[(IDENTIFIERS_LINKED, kind_of(output.identifier))] += 1
        elif isinstance(output, Merged):
            tally[(MERGES,)] += 1
        elif isinstance(output, Split):
            tally[(SPLITS,)] += 1
        elif isinstance(output, Refused):
            tally[(REFUSED_LINKS, output.lineage.rule)] += 1
        elif isinstance(output, RefusalRepeated):
            tally[(REFUSALS_REPEATED, output.rule, kind_of(output.identifier))] += 1
        elif isinstance(output, SharedMarked):
            tally[(SHARED_IDENTIFIERS, kind_of(output.identifier))] += 1
        elif isinstance(output, SharedRevoked):
            tally[(SHARED_REVOKED, kind_of(output.identifier))] += 1
    for (metric, *labels), count in tally.items():
        (metric.labels(*labels) if labels else metric).inc(count)
