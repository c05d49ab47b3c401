"""Stage one: events and clock ticks in, per-partition window counters out (independent of faust).

The store is any mutable mapping (a faust Table in the worker, a dict in tests and in ``omnibus replay``)
holding the entities (``state``), the window counters of each input partition (``w|<p>|<window key>``:
measure -> count) and each partition's clock (``clock|<p>``: the end of the last window closed, µs) and
sequence number (``seq|<p>``). ``apply`` and ``tick`` only compute: they return a ``Change`` holding
everything to write and the partial aggregates to publish; the caller publishes the partials, waits for
Kafka's acknowledgement, then ``commit``\\ s. A crash in between re-computes the same change from the
redelivered record; a crash after the commit finds the event id applied and changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bus.serde import Event
from processors.kpis import rules
from processors.kpis.config import KpisSettings
from processors.kpis.state import Entity, HandoffFacts, from_dict, split_contribution
from processors.kpis.windows import HOUR_US, WindowKey

Source = Literal["contacts", "customer-contacts", "handoffs", "offers"]
BOOKKEEPING = ("w|", "clock|", "seq|")


@dataclass
class Change:
    partition: int
    writes: dict[str, Any] = field(default_factory=dict)  # table key -> new value (None: delete)
    windows: dict[str, dict[str, int]] = field(default_factory=dict)  # window key -> counts of this partition
    seq: int = 0

    @property
    def empty(self) -> bool:
        return not self.writes and not self.windows

    def partials(self) -> list[tuple[str, dict[str, Any]]]:
        """(window key, partial) to publish on the partials topic, one per window this change touched."""
        return [(key, {"p": self.partition, "seq": self.seq, "counts": counts})
                for key, counts in sorted(self.windows.items())]


def _end_us(contribution: str) -> int:
    return WindowKey.parse(split_contribution(contribution)[0]).end_us


class KpiLedger:
    def __init__(self, settings: KpisSettings, store: MutableMapping[str, Any]) -> None:
        self.settings, self.store = settings, store
        self.too_late = 0  # events older than the horizon, not applied

    # --- per-partition bookkeeping ------------------------------------------------------------

    def closed_through(self, partition: int) -> int:
        return self.store.get(f"clock|{partition}") or 0

    def floor_of(self, closed_through_us: int) -> int:
        """Windows ending at or before this are final: contributions to them are no longer changed."""
        return closed_through_us - self.settings.horizon_us if closed_through_us else 0

    def window_counts(self, partition: int, window_key: str) -> dict[str, int]:
        return dict(self.store.get(f"w|{partition}|{window_key}") or {})

    def windows(self) -> dict[tuple[int, str], dict[str, int]]:
        """Every (partition, window key) counter in the store."""
        found = {}
        for key, value in self.store.items():
            if key.startswith("w|"):
                _, partition, window_key = key.split("|", 2)
                found[(int(partition), window_key)] = dict(value)
        return found

    # --- events ----------------------------------------------------------------------------------

    def apply(self, event: Event, source: Source, partition: int, key: str | None = None) -> Change:
        """The change one decoded record makes; ``key`` is the record's key (the customer id on customer contacts)."""
        change = Change(partition)
        closed = self.closed_through(partition)
        floor = self.floor_of(closed)
        if floor and rules.occurred_us(event) < floor:
            self.too_late += 1
            return change
        entity_key, old, new = self._update(event, source, key)
        if new is not None:
            self._replace(change, entity_key, old, new.with_(partition=partition), closed, floor)
        return change

    def _update(self, event: Event, source: Source, key: str | None) -> tuple[str, Entity | None, Entity | None]:
        event_id = event.value["envelope"]["event_id"]
        if source in ("contacts", "offers") and event.schema != rules.CALL_COMPLETED:
            entity_key = f"e:{event_id}"
            return entity_key, None, None if entity_key in self.store else rules.one_shot(event)
        if source == "contacts":
            entity_key = f"call:{event.value['envelope']['source_system']}:{event.value['contact_id']}"
            old = self._load(entity_key)
            return entity_key, old, rules.call_update(old, event)  # type: ignore[arg-type]
        if source == "customer-contacts":
            entity_key = f"cust:{key}"
            old = self._load(entity_key)
            return entity_key, old, rules.customer_update(old, event) if key else None  # type: ignore[arg-type]
        entity_key = f"h:{event.value.get('handoff_id')}"
        old = self._load(entity_key)
        return entity_key, old, rules.handoff_update(old, event)  # type: ignore[arg-type]

    def _load(self, entity_key: str) -> Entity | None:
        raw = self.store.get(entity_key)
        return from_dict(raw) if raw else None

    def _replace(
        self, change: Change, entity_key: str, old: Entity | None, new: Entity, closed: int, floor: int
    ) -> None:
        fresh = rules.contributions_of(new, self.settings, closed, floor)
        kept = {k: n for k, n in fresh.items() if _end_us(k) > floor}
        delta = Counter(kept)
        delta.subtract({k: n for k, n in (old.contributions if old else {}).items() if _end_us(k) > floor})
        for contribution, amount in delta.items():
            if not amount:
                continue
            window_key, measure = split_contribution(contribution)
            if window_key not in change.windows:
                change.windows[window_key] = self.window_counts(change.partition, window_key)
            rules.merge_counts(change.windows[window_key], [(measure, amount)])
        change.writes[entity_key] = new.with_(contributions=kept).to_dict()
        if change.windows:
            change.seq = (self.store.get(f"seq|{change.partition}") or 0) + 1

    # --- the clock -----------------------------------------------------------------------------------

    def tick(self, partition: int, now_us: int) -> Change:
        """Close the hours that ended by ``now_us``: snapshot open handoffs at each window end, and forget
        entities and counters past the horizon (their windows are final: the aggregates keep them)."""
        change = Change(partition)
        closed = now_us - now_us % HOUR_US
        if closed <= self.closed_through(partition):
            return change
        change.writes[f"clock|{partition}"] = closed
        floor = self.floor_of(closed)
        counters = f"w|{partition}|"
        for entity_key, raw in list(self.store.items()):
            if entity_key.startswith(BOOKKEEPING):
                if entity_key.startswith(counters) and WindowKey.parse(entity_key[len(counters):]).end_us <= floor:
                    change.writes[entity_key] = None
                continue
            entity = from_dict(raw)
            if entity.partition != partition:
                continue
            if rules.latest_instant(entity) < floor - self.settings.repeat_window_us:
                change.writes[entity_key] = None
            elif isinstance(entity, HandoffFacts):
                self._replace(change, entity_key, entity, entity, closed, floor)
        return change

    def commit(self, change: Change) -> None:
        for key, counts in change.windows.items():
            self.store[f"w|{change.partition}|{key}"] = counts
        for key, value in change.writes.items():
            if value is None:
                self.store.pop(key, None)
            else:
                self.store[key] = value
        if change.windows:
            self.store[f"seq|{change.partition}"] = change.seq
