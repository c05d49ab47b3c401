"""A faust table whose changelog records carry a fencing version, and whose restore honours it (#13).

``fenced_table(app, name, ...)`` is ``app.Table(name, ...)`` with two changes (the rule: ``bus.fencing``):

* every change faust writes to the changelog (``table[key] = value``, ``del table[key]``) carries the
  header ``omnibus-fence`` = the consumer-group generation in which the event being processed was
  fetched (``event.message.generation_id``, faust's ``current_event()``); a processor that writes the
  changelog records itself (identity's ``FaustTables``) adds the same header (``bus.fencing.fence_headers``);
* a worker that takes over a changelog partition first writes a fence marker of its generation into it
  (``on_rebalance``, before faust's restore reads the partition);
* restore and standby replicas apply a changelog batch through ``ChangelogFence``: a record below the
  highest version already read in its partition was written late by a worker that had lost the
  partition, and is skipped (``omnibus_changelog_fenced_total``) instead of overwriting the new owner's state;
  markers are left out of the table;
* a table of raw keys written by Kafka's default partitioner (``use_partitioner``) in faust's memory store
  keeps its keys in ``bus.key_partitioned_store.KeyPartitionedStore``: no key -> partition index (#9 memory); in
  RocksDB (``store="rocksdb://"``), in ``bus.key_partitioned_rocksdb.KeyPartitionedRocksDB``: on disk;
  ``partition_key`` (key bytes -> the bytes partitioned) for a table whose keys are written to the partition of a
  part of them (identity's contact records: their customer's);
* a table of raw keys and values in faust's memory store or a key-partitioned store (memory or RocksDB) takes its
  standby records in bulk from the fetch (``bus.standby_apply``, ``apply_standby``: the fence, then the last record
  per key), not one by one through faust's per-record path;
* after a restore the owner writes the current value of each key whose late write it skipped again
  (``on_recovery_completed``), so the key's last record, the one compaction keeps, is the right one;
* tables restored together that share a ``DoneBatches`` (``batches``) restore a batch whole or not at all: after
  the restore, each takes back what it applied of a batch whose done marker it did not see, and writes those keys
  again (``bus.batch_restore``); a restore from the start of a partition first drops what a standby replica held of
  it (``_forget``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

import faust
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from faust.stores.memory import Store as MemoryStore
from faust.streams import current_event
from faust.types import TP, EventT, FutureMessage

from bus.batch_restore import DoneBatches, TailUndo, done_of, record_batch, take_back
from bus.config import TopicSettings
from bus.fencing import UNVERSIONED, ChangelogFence, batch_version, fence_headers, fence_marker, is_marker
from bus.key_partitioned_store import KeyPartitionedStore, KeyPartitioning, PartitionKey
from bus.logging import get_logger
from bus.metrics import BATCHES_TAKEN_BACK, CHANGELOG_FENCED
from bus.standby_apply import install as install_standby_apply

log = get_logger(__name__)
MARKER_TIMEOUT_S = 10.0  # within faust's rebalance, itself bounded by the session timeout


class FencedTable(faust.Table):
    """``faust.Table`` with fenced changelog records (see the module)."""

    def __init__(self, *args: Any, partition_key: PartitionKey | None = None, batches: DoneBatches | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partition_key = partition_key  # KeyPartitionedStore: which bytes of a key give its partition
        self.fence = ChangelogFence()
        self.batches = batches  # shared by the tables a batch writes (bus.batch_restore); None: record by record
        self._tail = TailUndo()
        self._active: set[int] = set()  # changelog partitions this worker owned in generation ``_generation``
        self._generation = UNVERSIONED
        self._late: set[tuple[int, Any]] = set()  # (partition, key) of late writes skipped in active partitions
        self._warned: set[int] = set()

    def _new_store_by_url(self, url: Any) -> Any:
        """faust's store for ``url``; for raw keys partitioned by key, ``KeyPartitionedStore`` (``memory://``) or
        ``bus.key_partitioned_rocksdb.KeyPartitionedRocksDB`` (``rocksdb://``, ``rocksdict://``)."""
        store: type[Any] | None = None
        if self.use_partitioner and self.key_serializer == "raw":
            if str(url).startswith("memory:"):
                store = KeyPartitionedStore
            elif str(url).startswith(("rocksdb:", "rocksdict:")):
                from bus.key_partitioned_rocksdb import KeyPartitionedRocksDB  # rocksdict only where a table asks

                store = KeyPartitionedRocksDB
        if store is None:
            return super()._new_store_by_url(url)
        return store(url, self.app, self, table_name=self.name, key_type=self.key_type,
                     key_serializer=self.key_serializer, value_serializer=self.value_serializer,
                     value_type=self.value_type, loop=self.loop, options=self.options)

    async def on_rebalance(self, assigned: set[TP], revoked: set[TP], newly_assigned: set[TP],
                           generation_id: int = 0) -> None:
        """faust calls this before the restore starts: mark every changelog partition taken over in this
        generation (``bus.fencing.fence_marker``) and wait for Kafka's acknowledgement, so the restore reads
        up to the marker and every late write of the previous owner lands after it."""
        await super().on_rebalance(assigned, revoked, newly_assigned, generation_id)
        name = self.changelog_topic_name
        active = {tp.partition for tp in self.app.assignor.assigned_actives() if tp.topic == name}
        kept = self._active if generation_id == self._generation + 1 else set()  # a generation missed: all taken
        self._active, self._generation = active, generation_id
        if self.batches is not None:
            self.batches.start(generation_id)
            for partition in active - kept:
                self._tail.clear(partition)
        if active - kept and generation_id >= 0:
            try:
                await asyncio.wait_for(self._mark(sorted(active - kept), generation_id), MARKER_TIMEOUT_S)
            except (TimeoutError, KafkaError) as exc:  # never hold a rebalance up: the restore goes on without
                log.warning("fence markers not acknowledged; late writes landing before them are not skipped",
                            table=self.name, error_type=type(exc).__name__)

    async def _mark(self, partitions: list[int], generation: int) -> None:
        key, value, headers = fence_marker(generation)
        sent = [await self.changelog_topic.send(key=key, value=value, partition=partition, headers=list(headers),
                                                key_serializer=self.key_serializer,
                                                value_serializer=self.value_serializer, force=True)
                for partition in partitions]
        await asyncio.gather(*sent)

    def apply_changelog_batch(self, batch: Iterable[EventT]) -> None:
        admitted = []
        batches = self.batches
        pending: dict[Any, Any] = {}  # key -> value admitted earlier in this call (not in the store yet)
        for event in batch:
            message = event.message
            partition = message.partition
            restored = batches is not None and partition in self._active
            if restored:
                last = self.fence.last_offset(partition)
                if last is None or message.offset <= last:  # read from the start again: a new restore
                    self._tail.clear(partition)
                    if last is not None:
                        self._forget(partition)
            if self.fence.admits(partition, message.offset, message.headers):
                if partition in self._active and self.fence.highest(partition) > self._generation:
                    self._ahead(partition)
                if not is_marker(message.key):
                    admitted.append(event)
                    if restored:
                        key = event.key
                        before = pending[key] if key in pending else self.data.get(key)
                        self._tail.applied(partition, record_batch(message.headers), key, before)
                        pending[key] = event.value
                elif restored and (done := done_of(message.key, message.value)) is not None:
                    batches.add(partition, done)  # type: ignore[union-attr]
            else:
                CHANGELOG_FENCED.labels(table=self.name).inc()
                if partition in self._active:
                    self._late.add((partition, event.key))
        super().apply_changelog_batch(admitted)

    def _forget(self, partition: int) -> None:
        """Drop what the store holds of ``partition`` (a standby replica's copy, applied with no tail) as a restore
        of it starts from the start of the changelog (faust's rule for a store that keeps no offset, pinned by
        ``tests/bus/test_fenced_table_promotion.py``): the restore rebuilds it, and a key's value before a batch it
        takes back is then the restore's (none, for a key the batch created), not the copy's."""
        store = self.data
        if isinstance(store, KeyPartitioning):  # KeyPartitionedStore, KeyPartitionedRocksDB
            store.drop_partition(partition)
        elif isinstance(store, MemoryStore):
            index = store._key_partition
            for key in [key for key, held in index.items() if held == partition]:
                store.data.pop(key, None)
                index.pop(key, None)

    @property
    def takes_standby_in_bulk(self) -> bool:
        """True when ``bus.standby_apply`` may hand this table its standby records as fetched: keys and values
        are stored as the bytes they came in, in faust's memory store or a key-partitioned store (memory or RocksDB:
        ``KeyPartitioning.apply_partition``), and nothing listens to changelog events."""
        return (self.key_serializer == "raw" and self.value_serializer == "raw"
                and isinstance(self.data, MemoryStore | KeyPartitioning) and self._on_changelog_event is None)

    def apply_standby(self, partition: int, records: Sequence[ConsumerRecord]) -> None:
        """Apply fetched records (one standby changelog partition, offset order) as faust's memory store would
        apply them one by one: through the fence (markers and late writes left out), and only each key's last
        record (a tombstone deletes the key)."""
        last: dict[bytes, bytes | None] = {}
        fence = self.fence
        for record in records:
            if fence.admits(partition, record.offset, record.headers):
                if record.key is not None and not is_marker(record.key):
                    last[record.key] = record.value
            else:
                CHANGELOG_FENCED.labels(table=self.name).inc()
        store = self.data
        if isinstance(store, KeyPartitioning):  # KeyPartitionedStore, KeyPartitionedRocksDB
            store.apply_partition(partition, last)
            return
        assert isinstance(store, MemoryStore)  # takes_standby_in_bulk
        data, partitions = store.data, store._key_partition
        for key, value in last.items():
            if value is None:
                data.pop(key, None)
                partitions.pop(key, None)
            else:
                data[key] = value
                partitions[key] = partition

    def _ahead(self, partition: int) -> None:
        if partition not in self._warned:
            self._warned.add(partition)
            log.error("a changelog partition this worker owns holds versions above its consumer-group generation: "
                      "another worker owns it now, or the group was deleted and created again (then delete the "
                      "changelog topics too, bus/fencing.py)", table=self.name, partition=partition,
                      generation=self._generation, highest=self.fence.highest(partition))

    async def on_recovery_completed(self, active_tps: set[TP], standby_tps: set[TP]) -> None:
        """After the restore, before processing resumes: write the current value of every key of an active
        partition whose last changelog record is a skipped late write again (a tombstone if it has none), and
        wait for Kafka's acknowledgement. Compaction keeps a key's last record whatever its version; without
        this it would drop the new owner's record and keep the stale one."""
        await super().on_recovery_completed(active_tps, standby_tps)
        late, self._late = self._late, set()
        late |= self._take_back_partial_batches()
        keys = [(partition, key) for partition, key in sorted(late, key=repr) if partition in self._active]
        if not keys:
            return
        try:
            await asyncio.wait_for(self._rewrite(keys), MARKER_TIMEOUT_S)
            log.info("changelog keys written again after late writes", table=self.name, keys=len(keys))
        except (TimeoutError, KafkaError) as exc:  # faust does not look at this callback's errors: say it here
            log.warning("changelog keys not written again after late writes; compaction may keep the late ones",
                        table=self.name, keys=len(keys), error_type=type(exc).__name__)

    def _take_back_partial_batches(self) -> set[tuple[int, Any]]:
        """Give every key that a batch without its done marker (or a later batch of its writer) wrote in an active
        partition restored the value it had before (``bus.batch_restore``); the (partition, key) pairs to write to
        the changelog again."""
        tail, self._tail = self._tail, TailUndo()
        if self.batches is None:
            return set()
        keys: set[tuple[int, Any]] = set()
        for partition in sorted(self._active):
            rollback = tail.roll_back(partition, self.batches.of(partition))
            take_back(self.data, rollback)
            keys.update((partition, key) for key in rollback.values)
            if rollback.beyond:
                log.error("a batch restored without its done marker began before the records kept to take it back: "
                          "it stays in part", table=self.name, partition=partition)
            if rollback.values:
                BATCHES_TAKEN_BACK.labels(table=self.name).inc(len(rollback.batches))
                log.warning("batches restored without their done marker taken back: their input is handled again",
                            table=self.name, partition=partition, batches=len(rollback.batches),
                            keys=len(rollback.values), kept_as_written_later=rollback.kept)
        return keys

    async def _rewrite(self, keys: list[tuple[int, Any]]) -> None:
        sent = []
        for partition, key in keys:
            value = self.data.get(key)
            sent.append(await self.changelog_topic.send(
                key=key, value=value, partition=partition, key_serializer=self.key_serializer,
                value_serializer=self.value_serializer if value is not None else "raw",
                headers=list(fence_headers(self.app.consumer_generation_id)), force=True))
        await asyncio.gather(*sent)

    def send_changelog(self, partition: int | None, key: Any, value: Any, key_serializer: Any = None,
                       value_serializer: Any = None) -> FutureMessage:
        """faust's ``send_changelog`` with the fencing header: the generation the current event was fetched
        in (outside an event, the worker's current generation)."""
        event = current_event()
        generation = event.message.generation_id if event is not None else self.app.consumer_generation_id
        return self.changelog_topic.send_soon(
            key=key, value=value, partition=partition,
            key_serializer=key_serializer or self.key_serializer,
            value_serializer=value_serializer or self.value_serializer,
            headers=list(fence_headers(batch_version([generation]))),
            callback=self._on_changelog_sent, eager_partitioning=True,
        )


def changelog_configs(topics: TopicSettings) -> dict[str, str]:
    """The topic configs of a table changelog faust creates: compacted sooner than the broker's defaults
    (7-day segments, dirty ratio 0.5, no maximum lag), so a restore reads about one record per key."""
    return {"segment.ms": str(topics.changelog_segment_ms),
            "min.cleanable.dirty.ratio": str(topics.changelog_min_cleanable_dirty_ratio),
            "max.compaction.lag.ms": str(topics.changelog_max_compaction_lag_ms)}


def fenced_table(app: faust.App, name: str, topics: TopicSettings, **kwargs: Any) -> FencedTable:
    """Define a ``FencedTable`` on ``app`` (the arguments of ``app.Table``; no windowed tables) whose changelog
    is created with ``changelog_configs(topics)``."""
    kwargs.setdefault("extra_topic_configs", changelog_configs(topics))
    table = FencedTable(app, name=name, beacon=app.tables.beacon, **kwargs)
    install_standby_apply()
    app.tables.add(table)
    return table
