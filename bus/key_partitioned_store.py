"""faust's memory store without its key -> partition index: a key's partition is derived from the key (#9 memory).

faust's memory store (``faust.stores.memory.Store``) keeps ``_key_partition``, a dict of every key it restored
from a changelog or replayed as a standby to the key's changelog partition, only so that
``on_recovery_completed`` can drop the keys of partitions this worker no longer owns. At 1 M identifiers that
dict costs about 100 bytes per identifier on top of the state itself (``tests/bench/results/identity_memory.md``).

``KeyPartitionedStore`` is that store, with the same restore, standby and recovery semantics, for tables whose
changelog partition is Kafka's default partition of the raw key bytes (``murmur2(key) % partitions``: raw keys
and ``use_partitioner``, as identity's tables are written, ``processors/identity/store.py``):

* a restored or standby record whose partition is the key's derived one is stored without an index entry;
  any other record (a key that is not bytes, a changelog with another partition count, a record sent to an
  explicit partition) is remembered in ``_key_partition`` as faust does, so the store is never wrong, only
  as large as faust's when the rule does not hold;
* ``on_recovery_completed`` drops every key whose partition (remembered, else derived) is not one of the
  table's active changelog partitions, as faust's store does; it also drops keys the processor wrote itself
  (``table.data[key] = value``), which faust's store never drops, so a revoked partition's state is released;
* the scan over the keys runs only when a partition may have been lost since the last one (the partitions
  applied or owned since are not all active): a worker that only gains partitions pays nothing.

Keys that are not ``bytes`` are never derived: they are indexed (restored) or kept (written live), as by faust.
A table whose keys are written to the partition of a part of them (``FencedTable.partition_key``: identity's
contact records, ``<customer id>/<hash>``, on their customer's partition) derives it from that part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from faust.stores.memory import Store as MemoryStore
from faust.types import TP, EventT

from bus.partitioner import murmur2_positive

PartitionKey = Callable[[bytes], bytes]  # a key's bytes -> the bytes its partition is computed from


def derived_partition(key: Any, partitions: int, partition_key: PartitionKey | None = None) -> int | None:
    """The changelog partition ``key`` is written to by rule, Kafka's default partitioner on the raw key bytes, or on
    ``partition_key(key)`` (None: a key that is not ``bytes``)."""
    if not isinstance(key, bytes):
        return None
    return murmur2_positive(partition_key(key) if partition_key is not None else key) % partitions


class KeyPartitioning:
    """What a store of a key-partitioned table knows of it: ``partitions``, the changelog's partition count (the
    table's ``partitions``, else the app's ``topic_partitions``), and ``partition_key``, the table's rule for the
    bytes a key's partition is computed from (``FencedTable.partition_key``; None: the whole key)."""

    table: Any
    app: Any

    @property
    def partitions(self) -> int:
        return int(getattr(self.table, "partitions", None) or self.app.conf.topic_partitions)

    @property
    def partition_key(self) -> PartitionKey | None:
        return getattr(self.table, "partition_key", None)

    def apply_partition(self, partition: int, values: dict[bytes, bytes | None]) -> None:
        """Apply the last value of each key of one standby changelog partition (None deletes the key), taken in bulk
        from a fetch (``bus.fenced_table.FencedTable.apply_standby``)."""
        raise NotImplementedError

    def drop_partition(self, partition: int) -> None:
        """Remove every key of ``partition`` (a standby replica's copy, before a restore rebuilds it)."""
        raise NotImplementedError


class KeyPartitionedStore(KeyPartitioning, MemoryStore):
    """faust's memory store (``memory://``) whose key -> partition index holds only the keys whose changelog
    partition is not ``murmur2(key) % partitions`` (see the module)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._held: set[int] = set()  # partitions whose keys may be in ``data`` since the last scan

    def _place(self, key: Any, partition: int, partitions: int) -> None:
        """Remember ``key``'s partition only when the rule would not give it."""
        index = self._key_partition
        if derived_partition(key, partitions, self.partition_key) == partition:
            if index:
                index.pop(key, None)
        else:
            index[key] = partition

    def apply_changelog_batch(self, batch: Iterable[EventT], to_key: Callable[[Any], Any],
                              to_value: Callable[[Any], Any]) -> None:
        """faust's restore and standby path: each record in offset order, a tombstone (value None) deletes."""
        data, index, held, partitions = self.data, self._key_partition, self._held, self.partitions
        for event in batch:
            key, partition = to_key(event.key), event.message.partition
            held.add(partition)
            if event.message.value is None:
                data.pop(key, None)
                index.pop(key, None)
            else:
                data[key] = to_value(event.value)
                self._place(key, partition, partitions)

    def apply_partition(self, partition: int, values: dict[bytes, bytes | None]) -> None:
        """Apply the last value of each key of one changelog partition (None deletes the key): the standby
        records ``bus.fenced_table.FencedTable.apply_standby`` took in bulk from a fetch."""
        data, index, partitions = self.data, self._key_partition, self.partitions
        self._held.add(partition)
        for key, value in values.items():
            if value is None:
                data.pop(key, None)
                index.pop(key, None)
            else:
                data[key] = value
                self._place(key, partition, partitions)

    async def on_recovery_completed(self, active_tps: set[TP], standby_tps: set[TP]) -> None:
        """Drop the keys of every partition that is not active now (faust's rule), keys written live included."""
        active = {tp.partition for tp in active_tps}
        if self._held - active:
            self.drop_partitions_but(active)
        self._held = set(active)

    def drop_partitions_but(self, active: set[int]) -> int:
        """Remove every key whose partition is not in ``active``; returns how many were removed."""
        return self._drop(lambda partition: partition not in active)

    def drop_partition(self, partition: int) -> None:
        """Remove every key of ``partition``."""
        self._drop(lambda held: held == partition)
        self._held.discard(partition)

    def _drop(self, dropped: Callable[[int], bool]) -> int:
        index, partitions, partition_key = self._key_partition, self.partitions, self.partition_key
        gone = []
        for key in self.data:
            partition = index.get(key)
            if partition is None:
                partition = derived_partition(key, partitions, partition_key)
                if partition is None:
                    continue  # written live, partition unknown: kept, as faust's store keeps it
            if dropped(partition):
                gone.append(key)
        for key in gone:
            del self.data[key]
            index.pop(key, None)
        return len(gone)
