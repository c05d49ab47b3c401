"""Stage two: the partial counts of every input partition summed into one aggregate per window, as Avro.

Stage one publishes, for each window a record touched, that partition's full counts (``{"p", "seq",
"counts"}``, JSON, keyed by the window key) on the internal partials topic. Here the latest partial of
each partition (highest ``seq``) replaces the previous one, the partials are summed, and a
``KpiAggregate`` is published when the sum differs from the last one published: a redelivered
partial changes nothing, a late event's partial republishes its window with the next revision.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka.partitioner import murmur2

from bus.envelope import KPI_AGGREGATE_IDS, PROCESSOR_CHANNEL, envelope
from bus.serde import Event
from schemas.enums import CHANNELS
from processors.kpis.measures import KPIS, MEASURE_NAMES, OPEN_PREFIX, Measure, open_by_band, ratio
from processors.kpis.rules import merge_counts
from processors.kpis.windows import WindowKey, from_micros

AGGREGATE = "omnibus.kpi.KpiAggregate"


def decode_partial(raw: bytes | None) -> dict[str, Any]:
    """A partial from the wire; raises ``ValueError`` when it is not one."""
    try:
        partial = json.loads(raw or b"")
        if not isinstance(partial["p"], int) or not isinstance(partial["seq"], int):
            raise TypeError("p and seq must be integers")
        if not all(isinstance(k, str) and isinstance(v, int) for k, v in partial["counts"].items()):
            raise TypeError("counts must map measure names to integers")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a KPI partial: {exc}") from exc
    return partial


def encode_partial(partial: dict[str, Any]) -> bytes:
    return json.dumps(partial, separators=(",", ":"), sort_keys=True).encode()


def total(parts: dict[str, Any]) -> dict[str, int]:
    summed: dict[str, int] = {}
    for _, counts in parts.values():
        for measure, count in counts.items():
            summed[measure] = summed.get(measure, 0) + count
    return {m: n for m, n in sorted(summed.items()) if n}


@dataclass(frozen=True)
class Rolled:
    """A window's new state and, when its sum changed, the aggregate to publish."""

    state: dict[str, Any]
    aggregate: Event | None


class Rollup:
    """The store maps a window key to ``{"parts": {partition: [seq, counts]}, "sum": counts, "digest": str,
    "revision": int}``; ``sum`` is kept up to date so a partial costs its own counts, not every partition's."""

    def __init__(self, store: MutableMapping[str, Any], source_system: str, clock: Any) -> None:
        self.store, self.source_system, self.clock = store, source_system, clock

    def receive(self, window_key: str, partial: dict[str, Any]) -> Rolled | None:
        """None when the partial is stale or changes nothing; the caller publishes, then saves it."""
        state = self.store.get(window_key) or {"parts": {}, "digest": "", "revision": 0}
        part = str(partial["p"])
        known = state["parts"].get(part)
        if known is not None and known[0] >= partial["seq"]:
            return None
        parts = {**state["parts"], part: [partial["seq"], partial["counts"]]}
        counts = dict(state["sum"]) if "sum" in state else total(state["parts"])
        merge_counts(counts, partial["counts"].items())
        merge_counts(counts, ((m, -n) for m, n in (known[1] if known else {}).items()))
        if counts == (state["sum"] if "sum" in state else total(state["parts"])) and state["revision"]:
            return Rolled({**state, "parts": parts, "sum": counts}, None)
        digest = hashlib.sha256(json.dumps(counts, sort_keys=True).encode()).hexdigest()[:16]
        revision = state["revision"] + 1
        new_state = {"parts": parts, "sum": counts, "digest": digest, "revision": revision}
        return Rolled(new_state, aggregate_event(window_key, counts, revision, digest, self.source_system,
                                                 self.clock()))

    def save(self, window_key: str, rolled: Rolled) -> None:
        self.store[window_key] = rolled.state

    def current(self, owns: Callable[[str], bool] = lambda key: True) -> dict[str, dict[str, int]]:
        """Window key -> summed counts of every window this store holds that ``owns`` accepts (a worker's
        table may also hold standby copies of windows another worker owns: those are not its to show)."""
        return {key: dict(sorted(state["sum"].items())) if "sum" in state else total(state["parts"])
                for key, state in self.store.items() if state and owns(key)}


def partition_of(window_key: str, partitions: int) -> int:
    """The partials topic partition of a window key: the producer's default partitioner (murmur2, as Java's)."""
    return (murmur2(window_key.encode()) & 0x7FFFFFFF) % partitions


def aggregate_event(
    window_key: str, counts: dict[str, int], revision: int, digest: str, source_system: str, now: datetime
) -> Event:
    window = WindowKey.parse(window_key)
    event_id = KPI_AGGREGATE_IDS.derive(window_key, digest)
    value: dict[str, Any] = {
        "envelope": envelope(event_id=event_id, occurred_at=now, received_at=now, source_system=source_system,
                             channel=PROCESSOR_CHANNEL, correlation_id=event_id),
        "granularity": window.granularity.value, "window_start": from_micros(window.start_us),
        "window_end": from_micros(window.end_us),
        "channel": window.channel if window.channel in CHANNELS else "UNKNOWN", "site": window.site or None,
        "revision": revision,
        **{name: counts.get(name, 0) for name in MEASURE_NAMES},
        "open_handoffs": {band: n for band, n in open_by_band(counts).items() if n},
        **{kpi.name: ratio(counts, kpi) for kpi in KPIS},
    }
    return Event(AGGREGATE, value)


def counts_of(aggregate: dict[str, Any]) -> dict[str, int]:
    """The counts an aggregate record carries, in the processor's own measure names (for comparisons)."""
    counts = {m.value: aggregate[m.value] for m in Measure if aggregate.get(m.value)}
    counts.update({OPEN_PREFIX + band: n for band, n in (aggregate.get("open_handoffs") or {}).items() if n})
    return dict(sorted(counts.items()))
