"""The key-partitioned RocksDB store holds what the key-partitioned memory store holds, on disk (#9 memory)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import faust
from faust.types import TP
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.config import TopicSettings
from bus.fenced_table import FencedTable, fenced_table
from bus.key_partitioned_rocksdb import KeyPartitionedRocksDB
from bus.key_partitioned_store import KeyPartitionedStore
from bus.partitioner import key_hash
from tests.bus.test_fenced_table import changelog_event

PARTITIONS = 4
CHANGELOG = "contacts-changelog"


def by_customer(key: bytes) -> bytes:
    return key.split(b"/", 1)[0]  # as identity's contact records: on their customer's partition


def table(datadir: Path, name: str = "contacts", store: str = "rocksdict:contacts", **kwargs: Any) -> FencedTable:
    app = faust.App(f"rocksdb-{name}", broker="kafka://127.0.0.1:1", store="memory://", datadir=str(datadir))
    options = {"key_type": bytes, "value_type": bytes, "partitions": PARTITIONS, "use_partitioner": True,
               "partition_key": by_customer, "store": store,
               "options": {"write_buffer_size": 1 << 16, "block_cache_size": 1 << 16}, **kwargs}
    return fenced_table(app, "contacts", TopicSettings(), **options)


def partition_of(key: bytes) -> int:
    return key_hash(by_customer(key)) % PARTITIONS


def recovered(store: Any, active: set[int]) -> None:
    asyncio.run(store.on_recovery_completed({TP(CHANGELOG, p) for p in active}, set()))


def keys(customers: int = 30, each: int = 3) -> list[bytes]:
    return [b"cus_%024x/%012x" % (c, n) for c in range(customers) for n in range(each)]


def test_a_key_partitioned_table_of_raw_keys_asking_for_rocksdb_gets_it(tmp_path: Path) -> None:
    assert isinstance(table(tmp_path).data, KeyPartitionedRocksDB)
    assert isinstance(table(tmp_path, store="memory://").data, KeyPartitionedStore)


def test_writes_outside_any_event_land_in_the_database_of_the_key_s_partition(tmp_path: Path) -> None:
    store = table(tmp_path).data
    for key in keys():
        store[key] = b"record " + key  # as processors/identity/store.py writes: no current event
    assert all(store.get(key) == b"record " + key and key in store for key in keys())
    for partition, db in store._dbs.items():  # noqa: SLF001
        assert {key for key, _ in db.items()} == {key for key in keys() if partition_of(key) == partition}
    assert store.get(b"cus_0/absent") is None and b"cus_0/absent" not in store
    del store[keys()[0]]
    assert store.get(keys()[0]) is None and keys()[0] not in store


def test_a_restore_reads_the_whole_changelog_into_the_databases_tombstones_included(tmp_path: Path) -> None:
    contacts = table(tmp_path)
    assert contacts.data.persisted_offset(TP(CHANGELOG, 0)) is None  # from the start, as the memory store
    written = keys()
    batch = [changelog_event(partition_of(key), offset, key, b"v%d" % offset, 1) for offset, key in enumerate(written)]
    batch += [changelog_event(partition_of(key), len(batch) + n, key, None, 1) for n, key in enumerate(written[::5])]
    contacts.apply_changelog_batch(batch)
    expected = {key: b"v%d" % offset for offset, key in enumerate(written) if key not in set(written[::5])}
    assert dict(contacts.data.held()) == expected
    assert contacts.data.persisted_offset(TP(CHANGELOG, 0)) is None  # no offset kept beside the state


def test_partitions_that_are_not_active_after_a_recovery_are_closed_and_deleted(tmp_path: Path) -> None:
    store = table(tmp_path).data
    recovered(store, set(range(PARTITIONS)))
    for key in keys():
        store[key] = b"record"
    recovered(store, {0, 1})  # partitions 2 and 3 went to another worker
    assert dict(store.held()) == {key: b"record" for key in keys() if partition_of(key) in {0, 1}}
    assert not store.partition_path(2).exists() and not store.partition_path(3).exists()
    store.revoke_partitions(store.table, {TP(store.table.changelog_topic_name, 1)})
    assert {partition_of(key) for key, _ in store.held()} == {0} and not store.partition_path(1).exists()


def test_a_data_directory_given_again_starts_empty_whatever_a_killed_worker_left_there(tmp_path: Path) -> None:
    """A write the changelog never got (the worker killed before Kafka acknowledged it) must not outlive the
    process: the next worker restores the changelog alone, as into the memory store."""
    first = table(tmp_path, name="first").data
    first[keys()[0]] = b"never acknowledged"
    asyncio.run(first.stop())
    again = table(tmp_path, name="again")
    key = keys()[1]
    again.apply_changelog_batch([changelog_event(partition_of(key), 0, key, b"restored", 1)])
    assert dict(again.data.held()) == {key: b"restored"} and again.data.get(keys()[0]) is None


def test_what_it_holds_in_memory_is_bounded_by_its_options_not_by_its_records(tmp_path: Path) -> None:
    store = table(tmp_path).data
    for n, key in enumerate(keys(customers=2_000, each=2)):
        store[key] = b"%d" % n + bytes(200)
    held = store.memory_bytes()
    assert held["disk"] > 4_000 * 200 // 10  # flushed to files (zeros compress)
    in_memory = sum(value for name, value in held.items() if name != "disk")
    assert in_memory < PARTITIONS * (2 * (1 << 16) + (1 << 16)) * 2  # two write buffers and a cache each, x2 slack


@given(st.lists(st.tuples(st.integers(0, 30), st.booleans(), st.booleans()), max_size=60),
       st.sets(st.integers(0, PARTITIONS - 1)), st.sets(st.integers(0, PARTITIONS - 1)))
@settings(max_examples=60, deadline=None)
def test_after_a_restore_live_writes_and_a_recovery_it_holds_what_the_memory_store_holds(
        records: list[tuple[int, bool, bool]], first: set[int], then: set[int]) -> None:
    """Any records restored (tombstones too) and a recovery with the partitions ``first`` assigned, then any written
    live in those, then a recovery with ``then`` active: the same keys and values as the key-partitioned memory
    store at each step."""
    import tempfile

    with tempfile.TemporaryDirectory() as datadir:
        disk, memory = table(Path(datadir)).data, table(Path(datadir), store="memory://").data
        restored = [(offset, number, tombstone) for offset, (number, live, tombstone) in enumerate(records) if not live]
        batch = [changelog_event(partition_of(key), offset, key, None if tombstone else b"v%d" % offset, 1)
                 for offset, number, tombstone in restored for key in [b"cus_%d/%012x" % (number % 7, number)]]
        for store in (disk, memory):
            store.apply_changelog_batch(batch, lambda key: key, lambda value: value)
            recovered(store, first)
        assert dict(disk.held()) == dict(memory.data)
        for offset, (number, live, tombstone) in enumerate(records):
            key = b"cus_%d/%012x" % (number % 7, number)
            if not live or partition_of(key) not in first:
                continue
            for store in (disk, memory):
                if not tombstone:
                    store[key] = b"live %d" % offset
                elif store.get(key) is not None:
                    del store[key]
        assert dict(disk.held()) == dict(memory.data)
        for store in (disk, memory):
            recovered(store, then)
        assert dict(disk.held()) == dict(memory.data)


def test_a_rocksdb_table_takes_its_standby_records_in_bulk_and_holds_what_faust_s_record_by_record_path_holds(
        tmp_path: Path) -> None:
    """#9, two workers: identity's contact records are in RocksDB by default, and their standby records went through
    faust's per-record consumer path (~200 µs a record) while the memory tables' were taken in bulk."""
    from tests.bus.test_standby_apply import record

    one_by_one, bulk = table(tmp_path / "slow", "slow"), table(tmp_path / "bulk", "bulk")
    assert bulk.takes_standby_in_bulk
    written = keys(customers=6, each=2)
    rows = [(partition_of(key), offset, key, b"v%d" % offset, 4) for offset, key in enumerate(written)]
    rows += [(partition_of(key), len(rows) + n, key, value, version)  # a late stale write, a tombstone, a new value
             for n, (key, value, version) in enumerate([(written[0], b"late", 3), (written[1], None, 4),
                                                        (written[2], b"again", 4)])]
    one_by_one.apply_changelog_batch([changelog_event(*row) for row in rows])
    for partition in range(PARTITIONS):
        bulk.apply_standby(partition, [record(*row, topic=CHANGELOG) for row in rows if row[0] == partition])
    assert dict(bulk.data.held()) == dict(one_by_one.data.held())
    assert dict(bulk.data.held())[written[0]] == b"v0" and written[1] not in bulk.data
    assert bulk.data.get(written[2]) == b"again"
