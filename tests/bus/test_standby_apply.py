from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
from aiokafka.structs import ConsumerRecord
from faust.types import TP

from bus import standby_apply
from bus.config import TopicSettings
from bus.fenced_table import FencedTable, fenced_table
from bus.fencing import fence_headers, fence_marker
from bus.partitioner import key_hash
from tests.bus.test_fenced_table import changelog_event

CHANGELOG = "identity-nodes-changelog"


def table(name: str = "nodes", **kwargs: Any) -> FencedTable:
    app = faust.App(f"standby-apply-{name}", broker="kafka://127.0.0.1:1", store="memory://")
    kwargs = {"key_type": bytes, "value_type": bytes, **kwargs}
    return fenced_table(app, name, TopicSettings(), partitions=2, **kwargs)


def record(partition: int, offset: int, key: bytes, value: bytes | None, version: int | None,
           topic: str = CHANGELOG) -> ConsumerRecord:
    headers = list(fence_headers(version)) if version is not None else []
    return ConsumerRecord(topic, partition, offset, 0, 0, key, value, None, len(key), len(value or b""), headers)


SEQUENCE = [  # (partition, offset, key, value, version): owners, a late stale write, tombstones, a marker
    (0, 0, b"cus_1", b"first owner", 3), (0, 1, b"cus_1", b"new owner", 4), (0, 2, b"cus_1", b"paused", 3),
    (0, 3, b"cus_2", b"paused", 3), (0, 4, b"cus_3", b"kept", 4), (0, 5, b"cus_3", None, 4),
    (0, 6, b"cus_4", b"legacy", None), (0, 7, b"cus_4", b"again", 4), (0, 8, b"cus_5", b"x", 4),
    (0, 9, b"cus_5", b"y", 4), (0, 10, b"cus_6", None, 4),
]


def test_a_bulk_standby_batch_leaves_the_table_and_its_fence_as_faust_s_record_by_record_path() -> None:
    one_by_one, bulk = table("slow"), table("bulk")
    marker_key, marker_value, marker_headers = fence_marker(4)
    one_by_one.apply_changelog_batch([changelog_event(*row) for row in SEQUENCE])
    bulk.apply_standby(0, [record(*row) for row in SEQUENCE[:5]])
    bulk.apply_standby(0, [record(*row) for row in SEQUENCE[5:]]
                       + [ConsumerRecord(CHANGELOG, 0, 11, 0, 0, marker_key.encode(), marker_value.encode(), None,
                                         0, 0, list(marker_headers))])
    assert dict(bulk.data.data) == dict(one_by_one.data.data) == {b"cus_1": b"new owner", b"cus_4": b"again",
                                                                  b"cus_5": b"y"}
    assert bulk.fence.highest(0) == one_by_one.fence.highest(0) == 4
    assert dict(bulk.data._key_partition) == {b"cus_1": 0, b"cus_4": 0, b"cus_5": 0}  # noqa: SLF001


def test_only_tables_of_raw_bytes_in_the_memory_store_take_their_standbys_in_bulk() -> None:
    assert table("raw").takes_standby_in_bulk
    assert not table("decoded", key_type=str, value_type=str).takes_standby_in_bulk


def fetch_state(tables: dict[TP, FencedTable], standby: set[TP], active: set[TP]) -> Any:
    recovery = SimpleNamespace(standby_tps=standby, active_tps=active, tp_to_table=tables,
                               standby_offsets={tp: None for tp in standby})
    return SimpleNamespace(app=SimpleNamespace(tables=SimpleNamespace(recovery=recovery)), _read_offset={},
                           flow_active=True, _buffered_partitions=set())


def test_the_records_of_standby_partitions_are_taken_from_the_fetch_and_the_rest_left_to_faust() -> None:
    nodes, decoded = table("nodes"), table("decoded", key_type=str, value_type=str)
    standby, active, other = TP(CHANGELOG, 0), TP(CHANGELOG, 1), TP("decoded-changelog", 0)
    consumer = fetch_state({standby: nodes, active: nodes, other: decoded}, {standby, other}, {active})
    records = {standby: [record(0, 0, b"cus_1", b"a", 1), record(0, 1, b"cus_1", b"b", 1)],
               active: [record(1, 0, b"cus_2", b"c", 1)], other: [record(0, 0, b"k", b"v", 1, "decoded-changelog")]}
    assert standby_apply.take(consumer, records) == 2
    assert set(records) == {active, other}  # the active restore and the decoded table keep faust's path
    assert nodes.data[b"cus_1"] == b"b" and b"cus_2" not in nodes.data
    recovery = consumer.app.tables.recovery
    assert recovery.standby_offsets[standby] == 1 and consumer._read_offset[standby] == 1  # noqa: SLF001
    again = {standby: [record(0, 1, b"cus_1", b"stale copy", 1), record(0, 2, b"cus_1", b"d", 1)]}
    assert standby_apply.take(consumer, again) == 1  # offsets already applied are dropped, as faust does
    assert nodes.data[b"cus_1"] == b"d" and recovery.standby_offsets[standby] == 2


def test_the_records_of_a_paused_standby_partition_are_left_to_be_fetched_again() -> None:
    """CI: faust's ConsistencyError "persisted offset 24 > highwater 19". A fetch made while faust's set of active
    partitions emptied returns the records of paused standby partitions too (``bus.changelog_rewind``); applied
    between faust's highwater read and its check, their offsets passed the highwater. Only resumed partitions are
    taken; the others stay in the map for ``bus.changelog_rewind`` to seek back."""
    nodes = table("paused")
    standby, resumed = TP(CHANGELOG, 0), TP(CHANGELOG, 1)
    consumer = fetch_state({standby: nodes, resumed: nodes}, {standby, resumed}, set())
    records = {standby: [record(0, offset, b"cus_1", b"v%d" % offset, 1) for offset in range(20, 25)],
               resumed: [record(1, 3, b"cus_2", b"c", 1)]}
    assert standby_apply.take(consumer, records, active={resumed}) == 1
    recovery = consumer.app.tables.recovery
    assert recovery.standby_offsets[standby] is None and b"cus_1" not in nodes.data  # nothing applied
    assert set(records) == {standby} and recovery.standby_offsets[resumed] == 3
    consumer.flow_active = False  # a rebalance: faust drops the whole fetch, so is nothing taken
    assert standby_apply.take(consumer, records, active={standby}) == 0 and set(records) == {standby}


def test_the_patch_installs_once_whichever_wrapper_comes_first() -> None:
    from faust.transport.consumer import Consumer

    from bus import consume_bulk

    table("installed")
    consume_bulk.install()
    assert standby_apply.installed()
    method = Consumer._wait_next_records
    standby_apply.install()
    consume_bulk.install()
    assert Consumer._wait_next_records is method
    chain: list[Any] = []
    while method is not None:
        chain.append(method)
        method = getattr(method, "__wrapped__", None)
    assert sum(getattr(m, "omnibus_standby_apply", False) for m in chain) == 1
    assert len(chain) <= 3  # faust's own, this module's and consume_bulk's at most


def test_the_records_of_a_rocksdb_table_s_standby_partitions_are_taken_from_the_fetch_too(tmp_path: Path) -> None:
    """#9, two workers: the identity-contacts table (RocksDB by default) replayed the other worker's changelog
    through faust's per-record path; its standby records are taken in bulk like the memory tables'."""
    contacts = fenced_table(faust.App("standby-apply-rocksdb", broker="kafka://127.0.0.1:1", store="memory://",
                                      datadir=str(tmp_path)), "contacts", TopicSettings(), key_type=bytes,
                            value_type=bytes, partitions=2, use_partitioner=True, store="rocksdict:contacts")
    standby = TP(CHANGELOG, 0)
    consumer = fetch_state({standby: contacts}, {standby}, set())
    key = next(b"cus_%d" % n for n in range(100) if key_hash(b"cus_%d" % n) % 2 == 0)
    records = {standby: [record(0, 0, key, b"a", 1), record(0, 1, key, b"b", 1)]}
    assert standby_apply.take(consumer, records) == 2
    assert records == {} and contacts.data.get(key) == b"b"
    assert consumer.app.tables.recovery.standby_offsets[standby] == 1
