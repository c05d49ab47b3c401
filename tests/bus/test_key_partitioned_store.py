"""The key-partitioned store holds what faust's memory store holds, without its key -> partition index (#9)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import faust
import pytest
from faust.stores.memory import Store as MemoryStore
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
CHANGELOG = "nodes-changelog"


def table(name: str, **kwargs: Any) -> FencedTable:
    app = faust.App(f"key-partitioned-{name}", broker="kafka://127.0.0.1:1", store="memory://")
    options = {"key_type": bytes, "value_type": bytes, "partitions": PARTITIONS, "use_partitioner": True, **kwargs}
    return fenced_table(app, "nodes", TopicSettings(), **options)


def faust_store(name: str) -> MemoryStore:
    """faust's own memory store, as a table of ``fenced_table`` without ``use_partitioner`` has it."""
    store = table(name, use_partitioner=False).data
    assert type(store) is MemoryStore
    return store


def partition_of(key: bytes) -> int:
    return key_hash(key) % PARTITIONS  # Kafka's default partitioner: how identity's tables write a key


def recovered(store: Any, active: set[int]) -> None:
    asyncio.run(store.on_recovery_completed({TP(CHANGELOG, p) for p in active}, set()))


def test_tables_of_raw_keys_written_by_the_default_partitioner_use_it_and_others_faust_s() -> None:
    assert isinstance(table("raw").data, KeyPartitionedStore)
    assert type(table("by-event", use_partitioner=False).data) is MemoryStore
    assert type(table("decoded", key_type=str, value_type=str).data) is MemoryStore
    assert table("raw").takes_standby_in_bulk


def test_a_restore_keeps_no_index_for_keys_in_their_own_partition() -> None:
    nodes, plain = table("restore"), faust_store("restore-plain")
    keys = [f"PHONE:+861390000{i:04d}".encode() for i in range(200)]
    batch = [changelog_event(partition_of(key), offset, key, b"state", 1) for offset, key in enumerate(keys)]
    nodes.apply_changelog_batch(batch)
    plain.apply_changelog_batch(batch, to_key=lambda key: key, to_value=lambda value: value)
    assert dict(nodes.data.data) == dict(plain.data)
    assert len(plain._key_partition) == 200  # noqa: SLF001  # faust's store: an entry per restored key
    assert len(nodes.data._key_partition) == 0  # noqa: SLF001


def test_standby_records_taken_in_bulk_keep_no_index_either() -> None:
    nodes = table("standby")
    keys = [f"cus_{i:024x}".encode() for i in range(50)]
    for partition in range(PARTITIONS):
        mine = [key for key in keys if partition_of(key) == partition]
        nodes.apply_standby(partition, [_record(partition, offset, key) for offset, key in enumerate(mine)])
    assert len(nodes.data.data) == 50 and len(nodes.data._key_partition) == 0  # noqa: SLF001


def _record(partition: int, offset: int, key: bytes) -> Any:
    from tests.bus.test_standby_apply import record

    return record(partition, offset, key, b"v", 1, CHANGELOG)


def test_keys_the_processor_wrote_itself_are_dropped_with_their_revoked_partition() -> None:
    nodes = table("live")
    keys = [f"EMAIL:p{i}@example.org".encode() for i in range(100)]
    recovered(nodes.data, set(range(PARTITIONS)))  # the first assignment: every partition
    for key in keys:
        nodes.data.data[key] = b"state"  # as processors/identity/store.py writes
    recovered(nodes.data, {0, 1})  # partitions 2 and 3 went to another worker
    assert set(nodes.data.data) == {key for key in keys if partition_of(key) in {0, 1}}


def test_a_table_whose_keys_go_to_the_partition_of_a_part_of_them_derives_it_from_that_part() -> None:
    """Identity's contact records (``<customer id>/<hash>``) are written to their customer's partition."""
    contacts = table("by-part", partition_key=lambda key: key.split(b"/", 1)[0])
    customers = [f"cus_{i:024x}".encode() for i in range(40)]
    keys = [customer + b"/%012x" % n for customer in customers for n in range(3)]
    restored = [changelog_event(partition_of(key.split(b"/")[0]), offset, key, b"record", 1)
                for offset, key in enumerate(keys[::2])]
    contacts.apply_changelog_batch(restored)
    assert len(contacts.data._key_partition) == 0  # noqa: SLF001  # no index: the rule gives each one's partition
    recovered(contacts.data, set(range(PARTITIONS)))
    for key in keys[1::2]:
        contacts.data.data[key] = b"record"  # written live, as processors/identity/store.py writes
    recovered(contacts.data, {0, 1})
    assert set(contacts.data.data) == {key for key in keys if partition_of(key.split(b"/")[0]) in {0, 1}}


def test_the_keys_are_scanned_only_when_a_partition_may_have_been_lost(monkeypatch: Any) -> None:
    store = table("scan").data
    assert isinstance(store, KeyPartitionedStore)
    scans: list[set[int]] = []
    plain_scan = store.drop_partitions_but
    monkeypatch.setattr(store, "drop_partitions_but", lambda active: scans.append(active) or plain_scan(active))
    recovered(store, {0})
    recovered(store, {0, 1})  # a partition gained: nothing to drop
    store.apply_changelog_batch([changelog_event(2, 0, b"k", b"v", 1)], lambda key: key, lambda value: value)
    recovered(store, {0, 1})  # partition 2 was replayed as a standby: its keys go, as faust's store drops them
    recovered(store, {0})
    assert scans == [{0, 1}, {0}]


@given(st.lists(st.tuples(st.integers(0, 30), st.booleans(), st.booleans()), max_size=60),
       st.sets(st.integers(0, PARTITIONS - 1)))
@settings(max_examples=150, deadline=None)
def test_after_a_restore_and_a_recovery_it_holds_what_faust_s_store_holds(
        records: list[tuple[int, bool, bool]], active: set[int]) -> None:
    """Any records: in the key's own partition or another one (a key sent to an explicit partition, or a
    changelog of another partition count), tombstones; then faust's recovery drops what is not active."""
    store, plain = KeyPartitionedStore("memory://", *_owner()), MemoryStore("memory://", *_owner())
    batch = []
    for offset, (number, elsewhere, tombstone) in enumerate(records):
        key = f"key-{number}".encode()
        partition = (partition_of(key) + 1) % PARTITIONS if elsewhere else partition_of(key)
        batch.append(changelog_event(partition, offset, key, None if tombstone else b"v%d" % offset, 1))
    for target in (store, plain):
        target.apply_changelog_batch(batch, lambda key: key, lambda value: value)
    assert dict(store.data) == dict(plain.data)
    assert set(store._key_partition) <= set(plain._key_partition)  # noqa: SLF001
    recovered(store, active)
    recovered(plain, active)
    assert dict(store.data) == dict(plain.data)


def _owner() -> tuple[Any, Any]:
    owner = table("owner")
    return owner.app, owner


def held(table: FencedTable) -> dict[bytes, bytes]:
    """Every key and value a table's store holds: in memory, or on disk (``KeyPartitionedRocksDB``)."""
    store = table.data
    return dict(store.held()) if isinstance(store, KeyPartitionedRocksDB) else dict(store.data)


@pytest.mark.kafka
@pytest.mark.timeout(240)
async def test_a_restarted_identity_worker_restores_its_tables_without_a_key_index(
        bootstrap_servers: str, tmp_path: Path) -> None:
    """Through Kafka: a worker builds state on 2 partitions; a fresh worker restores its tables from their
    changelogs (faust's recovery) into the key-partitioned store: the same keys and values, no index entry. The
    contact records (written to their customer's partition: ``split_contacts.partition_key``) are on disk
    (``contacts_store`` rocksdb): the restarted worker, given the same data directory, holds what the changelog
    holds, not a record a killed worker left in its files."""
    import rocksdict

    from processors.identity.graph.customer_codec import profile_part
    from tests.processors.identity.broker import running_workers, wait_until_quiet, watched_topics
    from tests.processors.identity.support import unlimited_settings
    from tests.processors.identity.test_agent import publish, workload
    from tests.support.settings import settings_with_topics

    settings = await settings_with_topics(bootstrap_servers, partitions=2)
    await publish(settings, workload(size=40, universe=15, seed=7))
    async with running_workers(settings, unlimited_settings(), tmp_path, 1) as (worker,):
        await wait_until_quiet(settings, watched_topics(worker), worker.app.conf.id)
        await asyncio.sleep(1)  # the last batch's changelog records
        tables = {"nodes": worker.nodes, "profiles": worker.profiles, "contacts": worker.contacts}
        built = {name: held(table) for name, table in tables.items()}
        planted = worker.contacts.data.partition_path(0)
    assert built["nodes"] and built["contacts"]
    # the profiles are kept in their customers' node values (customer_codec.CUSTOMER_WITH_PROFILE), not as rows
    assert any(profile_part(value) for value in built["nodes"].values())
    assert {key_hash(key) % 2 for key in built["nodes"]} == {0, 1}  # both partitions hold state
    stale = rocksdict.Rdict(str(planted), options=rocksdict.Options(raw_mode=True))  # a write Kafka never got
    stale.put(b"cus_000000000000000000000000/000000000000", b"never acknowledged")
    stale.close()
    async with running_workers(settings, unlimited_settings(), tmp_path, 1) as (worker,):
        tables = {"nodes": worker.nodes, "profiles": worker.profiles, "contacts": worker.contacts}
        deadline = time.monotonic() + 60
        while any(held(tables[name]) != built[name] for name in tables) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        for name, table in tables.items():
            assert held(table) == built[name]
            if name == "contacts":
                assert isinstance(table.data, KeyPartitionedRocksDB)
                continue
            assert isinstance(table.data, KeyPartitionedStore)
            assert len(table.data._key_partition) == 0  # noqa: SLF001  # faust's store: one entry per key
