"""A standby replica promoted to active (``bus.fenced_table``, ``bus.batch_restore``).

faust-streaming 0.15.3 restores a changelog partition that becomes active on a worker from the start of the
changelog when its store keeps no offset (``faust/tables/recovery.py``: ``Recovery._add`` takes the store's
``persisted_offset``, None for faust's memory store and for ``KeyPartitionedRocksDB``; ``on_rebalance`` keeps an
active offset only for a partition active before; ``_build_offsets`` then starts at the earliest offset): a promoted
standby is restored like any partition taken over, and its restore's tail covers every batch of the changelog. What
the standby had applied (in bulk, with no tail: ``FencedTable.apply_standby``) is still in the store when that restore
starts: the restore drops it first, so a key a cut batch created is taken back to no value, not to the standby's copy
of the cut batch's write.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.types import TP

from bus.batch_restore import DoneBatches, batch_header, done_marker
from bus.config import TopicSettings
from bus.fenced_table import FencedTable, fenced_table
from bus.fencing import fence_headers, fence_marker
from bus.key_partitioned_rocksdb import KeyPartitionedRocksDB
from bus.key_partitioned_store import KeyPartitionedStore

STORES = ["memory", "key-partitioned memory", "key-partitioned rocksdb"]


def _record(offset: int, key: bytes, value: bytes | None, headers: list[tuple[str, bytes]]) -> Any:
    return SimpleNamespace(partition=0, offset=offset, key=key, value=value, headers=headers)


def changelog() -> list[Any]:
    """Partition 0 of a node changelog: batch w:1 done, batch w:2 cut by a stop (no done marker: its k2 created,
    k1 rewritten), then the new owner's fence marker."""
    done_key, done_value, done_headers = done_marker(("w", 1), 7)
    written = [*fence_headers(7)]
    return [_record(0, b"k1", b"v1", [*written, batch_header("w:1")]),
            _record(1, done_key, done_value, list(done_headers)),
            _record(2, b"k1", b"cut", [*written, batch_header("w:2")]),
            _record(3, b"k2", b"cut", [*written, batch_header("w:2")]),
            _record(4, fence_marker(8)[0].encode(), b"taken", list(fence_headers(8)))]


def promoted_table(store: str, tmp_path: Path) -> tuple[faust.App, FencedTable, list[tuple[bytes, bytes | None]]]:
    app = faust.App("promotion-test", broker="kafka://127.0.0.1:1", store="memory://", datadir=str(tmp_path))
    options: dict[str, Any] = {"key_type": bytes, "value_type": bytes}  # identity's tables (processors/identity)
    if store != "memory":
        options["use_partitioner"] = True
    if store == "key-partitioned rocksdb":
        options["store"] = "rocksdict:nodes"  # as identity's contacts table (processors/identity/store.py)
    table = fenced_table(app, "nodes", TopicSettings(), partitions=1, batches=DoneBatches(), **options)
    sent: list[tuple[bytes, bytes | None]] = []

    async def send(**kwargs: Any) -> Any:
        sent.append((kwargs["key"], kwargs["value"]))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    table.changelog_topic.send = send  # type: ignore[method-assign]
    return app, table, sent


def _event(record: Any) -> Any:
    return SimpleNamespace(key=record.key, value=record.value, message=record)


@pytest.mark.parametrize("store", STORES)
async def test_a_promoted_standby_takes_back_a_cut_batch_its_replica_had_applied(store: str, tmp_path: Path) -> None:
    app, table, sent = promoted_table(store, tmp_path)
    tp = TP(table.changelog_topic_name, 0)
    if store == "memory":
        assert type(table.data).__name__ == "Store"
    elif store == "key-partitioned memory":
        assert isinstance(table.data, KeyPartitionedStore)
    else:
        assert isinstance(table.data, KeyPartitionedRocksDB)
    app.assignor.assigned_actives = lambda: set()  # type: ignore[method-assign]  # generation 7: a standby
    await table.on_rebalance(set(), set(), set(), 7)
    table.apply_standby(0, changelog()[:4])  # the replica, in bulk: w:2 as the stopped worker sent it
    assert table.data.get(b"k2") == b"cut"
    app.assignor.assigned_actives = lambda: {tp}  # type: ignore[method-assign]  # generation 8: promoted
    await table.on_rebalance(set(), set(), set(), 8)
    sent.clear()
    app.consumer_generation_id = 8
    table.apply_changelog_batch([_event(record) for record in changelog()])  # faust: from the start
    await table.on_recovery_completed({tp}, set())
    assert dict(table.data.items()) == {b"k1": b"v1"}
    assert sorted(sent, key=repr) == [(b"k1", b"v1"), (b"k2", None)]


@pytest.mark.parametrize("store", STORES)
async def test_faust_restores_a_promoted_standby_of_a_store_without_an_offset_from_the_earliest_offset(
        store: str, tmp_path: Path) -> None:
    """Pins the rule ``test_a_promoted_standby_...`` relies on, in faust's own recovery (fails if faust changes it):
    a standby that had read up to offset 41, made active, is sought to the changelog's earliest offset."""
    app, table, _ = promoted_table(store, tmp_path)
    tp = TP(table.changelog_topic_name, 0)
    assert table.data.persisted_offset(tp) is None
    recovery = app.tables.recovery
    app.tables._changelogs[tp.topic] = table  # noqa: SLF001 - as faust's TableManager.add does on start
    assignor: Any = app.assignor
    assignor.assigned_standbys, assignor.assigned_actives = (lambda: {tp}), (lambda: set())
    await _rebalance(app, recovery, {tp}, 7)
    recovery.standby_offsets[tp] = 41  # what the standby had read
    assignor.assigned_standbys, assignor.assigned_actives = (lambda: set()), (lambda: {tp})
    await _rebalance(app, recovery, {tp}, 8)
    assert recovery.active_offsets[tp] is None
    sought: dict[TP, int] = {}

    async def earliest_offsets(*tps: TP) -> dict[TP, int]:
        return dict.fromkeys(tps, 0)

    async def seek_wait(offsets: dict[TP, int]) -> None:
        sought.update(offsets)

    consumer: Any = SimpleNamespace(earliest_offsets=earliest_offsets, seek_wait=seek_wait)
    await recovery._build_offsets(consumer, {tp}, recovery.active_offsets, "active")  # noqa: SLF001
    await recovery._seek_offsets(consumer, {tp}, recovery.active_offsets, "active")  # noqa: SLF001
    assert sought == {tp: 0}


async def _rebalance(app: faust.App, recovery: Any, assigned: set[TP], generation: int) -> None:
    app.consumer_generation_id = generation
    await recovery.on_rebalance(assigned, set(), set(), generation)
