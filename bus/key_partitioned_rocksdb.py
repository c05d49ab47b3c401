"""faust's RocksDB store for a key-partitioned table: values on disk, each key's partition derived from it (#9 memory).

faust's RocksDB store (``rocksdb://``, here through ``rocksdict``) keeps one database per changelog partition. It finds
a key's database from the event being processed (``current_event()``) or, without one, from an LRU index or by asking
every database in turn, and it writes only inside an event. Identity writes its tables in batches outside any event
(``processors/identity/store.py``), each key to Kafka's default partition of its bytes, or of a part of them
(``FencedTable.partition_key``). ``KeyPartitionedRocksDB`` is that store with the partition derived from the key, as
``bus.key_partitioned_store.KeyPartitionedStore`` derives it for the memory store:

* ``get``, ``table.data[key] = value``, ``del``, ``in`` go to the one database of the key's partition, raw bytes in and
  out (no codec, no index, no event needed); a restore or standby batch (``apply_changelog_batch``) writes each record
  to the database of its key's partition in one ``WriteBatch`` per partition, and so do the standby records taken in
  bulk from the fetch (``apply_partition``, ``bus.standby_apply``);
* the state lives as long as the memory store's does, and is restored the same way: ``persisted_offset`` is None, so
  faust restores every partition from the start of its changelog, into a new database: files a previous process
  left in the directory (which may hold writes the changelog never got: a worker killed mid-batch) are deleted when
  the partition's database is first opened. The directory is the app's ``tabledir``, by default in the process's own
  data directory (``bus.app.private_datadir``: removed when the process exits);
* after a recovery the databases of partitions that are not active are closed and deleted, as the memory store
  drops their keys (``on_recovery_completed``); a revoked partition's database is closed and deleted at once.

The process's memory then holds, per partition database, RocksDB's write buffers and block cache (bounded by the
table's ``options``: ``write_buffer_size``, ``max_write_buffer_number``, ``block_cache_size``, faust's
``RocksDBOptions``) and the open files' index and filter blocks, not one Python object per key: ``memory_bytes``
reports them (``tests/bench/identity_memory.py``).
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import rocksdict
from faust.stores.rocksdb import Store as RocksDBStore
from faust.types import TP, CollectionT, EventT

from bus.key_partitioned_store import KeyPartitioning, derived_partition
from bus.logging import get_logger

log = get_logger(__name__)

# RocksDB's figures of what a database holds in memory (``memory_bytes``): write buffers, block cache, index, filters.
MEMORY_PROPERTIES = ("rocksdb.cur-size-all-mem-tables", "rocksdb.block-cache-usage",
                     "rocksdb.estimate-table-readers-mem")


class KeyPartitionedRocksDB(KeyPartitioning, RocksDBStore):
    """faust's RocksDB store whose keys (``bytes``) live in the database of their derived partition (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.use_rocksdict:
            raise ValueError("KeyPartitionedRocksDB reads and writes through rocksdict (pip install rocksdict)")
        self._fresh: set[int] = set()  # partitions whose database this store created (none of another process's)

    def _open_for_partition(self, partition: int) -> Any:
        """The partition's database; the first time, a new one: files another process left there (a worker killed
        before its changelog writes were acknowledged, in a data directory given again) are deleted first."""
        if partition not in self._fresh:
            shutil.rmtree(self.partition_path(partition), ignore_errors=True)
            self._fresh.add(partition)
        return super()._open_for_partition(partition)

    def held(self) -> Iterator[tuple[bytes, bytes]]:
        """Every key and value of the open databases (tests and benches: what the store holds)."""
        for db in list(self._dbs.values()):
            yield from db.items()

    def _db_of(self, key: bytes) -> Any:
        partition = derived_partition(key, self.partitions, self.partition_key)
        if partition is None:
            raise TypeError(f"a key of {self.table_name} is {type(key).__name__}, not bytes")
        return self._db_for_partition(partition)

    def get(self, key: Any, default: Any = None) -> Any:
        value = self._db_of(key).get(key)
        return default if value is None else value

    def __getitem__(self, key: Any) -> Any:
        value = self._db_of(key).get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        self._db_of(key).put(key, value)

    def __delitem__(self, key: Any) -> None:
        self._db_of(key).delete(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, bytes):
            return False
        db = self._db_of(key)
        return bool(db.key_may_exist(key)) and db.get(key) is not None

    # faust's own paths (its table API, encoded keys) reach the same databases.
    def _get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._db_of(key).get(key)
        return value

    def _set(self, key: bytes, value: bytes | None) -> None:
        self._db_of(key).put(key, value)

    def _del(self, key: bytes) -> None:
        self._db_of(key).delete(key)

    def _contains(self, key: bytes) -> bool:
        return key in self

    def persisted_offset(self, tp: TP) -> int | None:
        """None: faust restores every partition from the start of its changelog, as into the memory store."""
        return None

    def set_persisted_offset(self, tp: TP, offset: int) -> None:
        """Nothing: no offset is kept beside the state (``persisted_offset``), the databases hold the table alone."""

    def apply_changelog_batch(self, batch: Iterable[EventT], to_key: Callable[[Any], Any],
                              to_value: Callable[[Any], Any]) -> None:
        """faust's restore and standby path: the records in offset order, one ``WriteBatch`` per partition database
        (a tombstone deletes), each record in the database of its key's partition."""
        self._write((event.message.key, event.message.value) for event in batch)

    def apply_partition(self, partition: int, values: dict[bytes, bytes | None]) -> None:
        """Apply the last value of each key of one standby changelog partition (None deletes the key), as taken in
        bulk from a fetch (``bus.fenced_table.FencedTable.apply_standby``): one ``WriteBatch``, not faust's
        per-record consumer path (~200 µs a record, ``tests/bench/results/two_workers.md``)."""
        self._write(values.items())

    def _write(self, records: Iterable[tuple[bytes | None, bytes | None]]) -> None:
        """``(key, value)`` pairs in order, one ``WriteBatch`` per partition database (None deletes the key)."""
        batches: defaultdict[Any, Any] = defaultdict(lambda: rocksdict.WriteBatch(raw_mode=True))
        for key, value in records:
            if key is None:
                continue  # no key, no entry (faust's memory store would keep it under None)
            if value is None:
                batches[self._db_of(key)].delete(key)
            else:
                batches[self._db_of(key)].put(key, value)
        for db, writes in batches.items():
            db.write(writes)

    def revoke_partitions(self, table: CollectionT, tps: set[TP]) -> None:
        """Close and delete the databases of revoked partitions: a later assignment restores them in full."""
        for tp in tps:
            if tp.topic in table.changelog_topic.topics:
                self.drop_partition(tp.partition)

    async def on_recovery_completed(self, active_tps: set[TP], standby_tps: set[TP]) -> None:
        """Close and delete the database of every partition that is not active now (the memory store's rule)."""
        active = {tp.partition for tp in active_tps}
        for partition in sorted(set(self._dbs) - active):
            self.drop_partition(partition)

    def drop_partition(self, partition: int) -> None:
        """Close ``partition``'s database, if open, and delete its files."""
        db = self._dbs.pop(partition, None)
        if db is not None:
            db.close()
        shutil.rmtree(self.partition_path(partition), ignore_errors=True)

    async def stop(self) -> None:
        for partition in list(self._dbs):
            self._dbs.pop(partition).close()

    def memory_bytes(self) -> dict[str, int]:
        """What the open databases hold in the process's memory, in bytes, by RocksDB's properties
        (``MEMORY_PROPERTIES``, summed over the databases; a block cache is counted once per database, as each
        has its own), and ``disk``: the size of their files."""
        held = dict.fromkeys(MEMORY_PROPERTIES, 0)
        disk = 0
        for partition, db in self._dbs.items():
            for name in MEMORY_PROPERTIES:
                held[name] += int(db.property_int_value(name) or 0)
            disk += sum(path.stat().st_size for path in self.partition_path(partition).rglob("*") if path.is_file())
        return {**held, "disk": disk}
