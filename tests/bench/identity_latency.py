"""Where an event's latency goes: input → first graph record → … → last graph record → announcement.

Every record of the graph topic is decoded (``wire.decode_record``); a message carrying a saga names its
event. For each event: when the input record was written, when each graph record carrying its saga was
written (Kafka CreateTime of each), when its contact came out on ``customer.contacts``. Reported as
percentiles of: intake (input → first graph record), graph (first → last graph record), the hops (graph
records per event), announce (last graph record → contact out) and the whole. A repeat contact applied at
intake has no graph record: it counts in the whole and as 0 hops only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from bus.config import OmnibusSettings
from bus.topics import IDENTITY_GRAPH
from processors.identity.wire import decode_record
from tests.support.kafka_io import read_raw


async def graph_times(settings: OmnibusSettings) -> dict[str, list[float]]:
    """``{event id: sorted epoch seconds of every graph record that carried its saga}``."""
    topic = IDENTITY_GRAPH.name(settings.topics)
    times: dict[str, list[float]] = defaultdict(list)
    for record in await read_raw(settings.kafka.bootstrap_servers, topic, timeout_s=60):
        try:
            pairs = decode_record(record.value, (record.key or b"").decode())
        except ValueError:
            continue
        for _, message in pairs:
            saga = getattr(message, "saga", None)
            if saga is not None and not saga.proposal:
                times[saga.event_id].append(record.timestamp / 1000)
    return {event_id: sorted(stamps) for event_id, stamps in times.items()}


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


def breakdown(ids: Sequence[str], sent: Mapping[str, float], graph: Mapping[str, list[float]],
              out: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Per part (``intake``, ``graph``, ``announce``, ``total`` in ms; ``hops`` in graph records), its
    p50, p99 and mean over the events of ``ids`` that have every timestamp."""
    parts: dict[str, list[float]] = defaultdict(list)
    for event_id in ids:
        stamps = graph.get(event_id)
        if event_id not in sent or event_id not in out:
            continue
        if not stamps:  # a repeat contact applied at intake: no graph record carries it (apply_here.py)
            parts["total"].append((out[event_id] - sent[event_id]) * 1000)
            parts["hops"].append(0.0)
            continue
        parts["intake"].append((stamps[0] - sent[event_id]) * 1000)
        parts["graph"].append((stamps[-1] - stamps[0]) * 1000)
        parts["announce"].append((out[event_id] - stamps[-1]) * 1000)
        parts["total"].append((out[event_id] - sent[event_id]) * 1000)
        parts["hops"].append(float(len(stamps)))
    return {name: {"p50": percentile(values, 0.5), "p99": percentile(values, 0.99),
                   "mean": sum(values) / len(values)} for name, values in parts.items() if values}


def table(parts: Mapping[str, Mapping[str, float]]) -> list[str]:
    """Markdown rows of ``breakdown``'s figures."""
    rows = ["| part | p50 | p99 | mean |", "|---|---|---|---|"]
    for name, unit in (("intake", "ms"), ("graph", "ms"), ("hops", "records"), ("announce", "ms"),
                       ("total", "ms")):
        if name in parts:
            figures = parts[name]
            rows.append(f"| {name} ({unit}) | {figures['p50']:,.1f} | {figures['p99']:,.1f} | {figures['mean']:,.1f} |")
    return rows
