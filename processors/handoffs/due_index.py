"""The due index: which handoffs of a partition have a timer due, without scanning every handoff.

The index is *derived* state: every due instant lives in the handoff's durable state (``next_due_us``
in the changelog-backed table). The index is a per-partition min-heap over those instants, rebuilt from
the table after a start or a rebalance, so it can never hold anything the table does not; losing it
(a restart) costs one pass over the table, never a deadline. Entries go stale when a handoff's due
instant moves; a stale entry pops as a no-op, and a fresh one is pushed on every change.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import Any


class DueIndex:
    def __init__(self) -> None:
        self._heaps: dict[int, list[tuple[int, str]]] = {}
        self._built: set[int] = set()

    def invalidate(self) -> None:
        """Forget everything (after a rebalance): the next tick of each partition rebuilds it."""
        self._heaps.clear()
        self._built.clear()

    def is_built(self, partition: int) -> bool:
        return partition in self._built

    def rebuild(self, states: Iterable[tuple[str, Mapping[str, Any] | None]], partitions: Iterable[int]) -> int:
        """Index every state of the table (one pass), marking ``partitions`` built; returns the entries."""
        heaps: dict[int, list[tuple[int, str]]] = {}
        for handoff_id, state in states:
            if not state:
                continue
            due, partition = state.get("next_due_us"), state.get("partition")
            if due is not None and partition is not None:
                heaps.setdefault(partition, []).append((due, handoff_id))
        for heap in heaps.values():
            heapq.heapify(heap)
        self._heaps = heaps
        self._built |= set(partitions) | set(heaps)
        return sum(len(h) for h in heaps.values())

    def schedule(self, partition: int | None, handoff_id: str, due_us: int | None) -> None:
        if due_us is None or partition is None or partition not in self._built:
            return  # an unbuilt partition gets the entry from the table when it is rebuilt
        heapq.heappush(self._heaps.setdefault(partition, []), (due_us, handoff_id))

    def pop_due(self, partition: int, now_us: int, limit: int | None = None) -> list[str]:
        """Handoff ids with an entry due at ``now_us`` (each once), removed from the index."""
        heap = self._heaps.get(partition)
        found: dict[str, None] = {}
        while heap and heap[0][0] <= now_us and (limit is None or len(found) < limit):
            found[heapq.heappop(heap)[1]] = None
        return list(found)

    def next_due(self, partition: int) -> int | None:
        heap = self._heaps.get(partition)
        return heap[0][0] if heap else None

    def __len__(self) -> int:
        return sum(len(h) for h in self._heaps.values())
