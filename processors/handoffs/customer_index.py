"""The customer index: which handoffs of a partition a directory change concerns, whatever their status.

Derived state like the due index: per partition, identifier key -> open handoff ids and customer id ->
handoff ids (a handoff whose placement changed is concerned by its id), rebuilt from the table after
a start or a rebalance and kept current on every save.
A stale entry costs one look at a handoff that turns out unchanged, never a missed change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from processors.handoffs.directory import Changes
from processors.handoffs.metrics import OPEN_STATUSES
from processors.handoffs.tier_facts import identifier_key


def _keys(state: Mapping[str, Any]) -> set[str]:
    """An open handoff's identifiers and customer; a resolved or closed one's customer only (it follows identity's
    placement and merges, never an identifier's owner: ``customers``)."""
    keys: set[str] = set()
    if state.get("status") in OPEN_STATUSES:
        keys = {"id:" + identifier_key(i) for i in state.get("customer_identifiers") or ()}
    if state.get("customer_id"):
        keys.add("customer:" + state["customer_id"])
    return keys


class CustomerIndex:
    def __init__(self) -> None:
        self._by_key: dict[int, dict[str, set[str]]] = {}
        self._keys_of: dict[str, tuple[int, set[str]]] = {}
        self._built: set[int] = set()

    def invalidate(self) -> None:
        self._by_key.clear()
        self._keys_of.clear()
        self._built.clear()

    def is_built(self, partition: int) -> bool:
        return partition in self._built

    def rebuild(self, states: Iterable[tuple[str, Mapping[str, Any] | None]], partitions: Iterable[int]) -> int:
        """Index every handoff of the table (one pass), marking ``partitions`` built; returns the count."""
        self.invalidate()
        count = 0
        for handoff_id, state in states:
            if state and state.get("partition") is not None:
                self._built.add(state["partition"])
                count += self.update(handoff_id, state)
        self._built |= set(partitions)
        return count

    def update(self, handoff_id: str, state: Mapping[str, Any]) -> int:
        """Re-index one handoff from its saved state; returns 1 if indexed (0: no partition, or not built)."""
        old = self._keys_of.pop(handoff_id, None)
        if old is not None:
            for key in old[1]:
                self._by_key.get(old[0], {}).get(key, set()).discard(handoff_id)
        partition = state.get("partition")
        if partition is None or partition not in self._built:
            return 0
        keys = _keys(state)
        index = self._by_key.setdefault(partition, {})
        for key in keys:
            index.setdefault(key, set()).add(handoff_id)
        self._keys_of[handoff_id] = (partition, keys)
        return 1

    def affected(self, partition: int, changes: Changes | None) -> list[str]:
        """Handoffs of ``partition`` a change concerns; all of them when ``changes`` is None."""
        index = self._by_key.get(partition, {})
        if changes is None:  # a finished case without a customer has no key, only its id
            return sorted(h for h, (p, _) in self._keys_of.items() if p == partition)
        found: set[str] = set()
        for key in changes.identifiers:
            found |= index.get("id:" + key, set())
        for customer in changes.customers:
            found |= index.get("customer:" + customer, set())
        found.update(h for h in changes.handoffs if self._keys_of.get(h, (None,))[0] == partition)
        return sorted(found)
