from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.types import TP

from bus.batch_restore import DoneBatches, batch_header, done_marker
from bus.config import TopicSettings
from bus.fenced_table import FencedTable, fenced_table
from bus.fencing import fence_headers, fence_marker, is_marker
from bus.metrics import CHANGELOG_FENCED


def changelog_event(partition: int, offset: int, key: bytes, value: bytes | None, version: int | None) -> Any:
    headers = list(fence_headers(version)) if version is not None else None
    message = SimpleNamespace(partition=partition, offset=offset, headers=headers, value=value, key=key)
    return SimpleNamespace(key=key, value=value, message=message)


def table() -> FencedTable:
    app = faust.App("fenced-table-test", broker="kafka://127.0.0.1:1", store="memory://")
    return fenced_table(app, "nodes", TopicSettings(), key_type=bytes, value_type=bytes, partitions=2)


def test_restore_keeps_the_new_owners_state_when_a_stale_record_comes_after_it() -> None:
    nodes = table()
    before = CHANGELOG_FENCED.labels(table="nodes")._value.get()  # noqa: SLF001
    nodes.apply_changelog_batch([
        changelog_event(0, 0, b"cus_1", b"S(v)", 3),  # the first owner, generation 3
        changelog_event(0, 1, b"cus_1", b"new owner", 4),  # the worker that took over, generation 4
        changelog_event(0, 2, b"cus_1", b"paused worker", 3),  # the paused worker's record, landing late
        changelog_event(0, 3, b"cus_2", b"paused worker", 3),  # a key the new owner did not write again
    ])
    assert nodes.data[b"cus_1"] == b"new owner"
    assert b"cus_2" not in nodes.data  # the new owner never saw it: neither does a restore
    assert CHANGELOG_FENCED.labels(table="nodes")._value.get() == before + 2  # noqa: SLF001


def test_a_record_without_a_version_loses_to_a_versioned_one_and_is_read_before_any() -> None:
    nodes = table()
    nodes.apply_changelog_batch([changelog_event(1, 0, b"cus_1", b"legacy", None)])
    assert nodes.data[b"cus_1"] == b"legacy"  # written before versions: still read
    nodes.apply_changelog_batch([changelog_event(1, 1, b"cus_1", b"versioned", 1),
                                 changelog_event(1, 2, b"cus_1", b"legacy, late", None)])
    assert nodes.data[b"cus_1"] == b"versioned"


def test_equal_versions_apply_in_offset_order_and_a_late_tombstone_deletes_nothing() -> None:
    nodes = table()
    nodes.apply_changelog_batch([
        changelog_event(0, 0, b"cus_1", b"first", 5), changelog_event(0, 1, b"cus_1", b"second", 5),
        changelog_event(0, 2, b"cus_2", b"kept", 6), changelog_event(0, 3, b"cus_2", None, 5),
    ])
    assert nodes.data[b"cus_1"] == b"second" and nodes.data[b"cus_2"] == b"kept"
    nodes.apply_changelog_batch([changelog_event(0, 4, b"cus_1", None, 6)])  # the owner's own delete
    assert b"cus_1" not in nodes.data


def test_a_change_faust_writes_carries_the_generation_its_event_was_fetched_in(monkeypatch: Any) -> None:
    import bus.fenced_table

    nodes = table()
    sent: list[dict[str, Any]] = []
    nodes.changelog_topic.send_soon = lambda **kwargs: sent.append(kwargs)  # type: ignore[method-assign]
    event = SimpleNamespace(message=SimpleNamespace(partition=1, generation_id=7))
    monkeypatch.setattr(bus.fenced_table, "current_event", lambda: event)
    nodes.send_changelog(1, b"cus_1", b"value")  # what faust calls on table[key] = value
    monkeypatch.setattr(bus.fenced_table, "current_event", lambda: None)
    nodes.app.consumer_generation_id = 9
    nodes.send_changelog(0, b"cus_1", None, value_serializer="raw")  # del table[key] outside an event
    assert [(s["headers"], s["partition"]) for s in sent] == [(list(fence_headers(7)), 1), (list(fence_headers(9)), 0)]


async def test_a_worker_marks_each_changelog_partition_it_takes_over_before_the_restore() -> None:
    nodes = table()
    sent: list[tuple[int, bytes]] = []

    async def send(**kwargs: Any) -> Any:
        sent.append((kwargs["partition"], kwargs["key"]))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    nodes.changelog_topic.send = send  # type: ignore[method-assign]
    actives: set[TP] = set()
    nodes.app.assignor.assigned_actives = lambda: actives  # type: ignore[method-assign]
    name = nodes.changelog_topic_name
    actives.update({TP(name, 0), TP("source", 1)})
    await nodes.on_rebalance(set(), set(), set(), 4)
    actives.add(TP(name, 1))
    await nodes.on_rebalance(set(), set(), set(), 5)  # keeps 0, takes 1
    await nodes.on_rebalance(set(), set(), set(), 7)  # a generation it missed: another worker may have had both
    assert sent == [(0, fence_marker(4)[0]), (1, fence_marker(5)[0]), (0, fence_marker(7)[0]),
                    (1, fence_marker(7)[0])]
    nodes.apply_changelog_batch([changelog_event(0, 0, fence_marker(4)[0], b"taken", 4)])
    assert fence_marker(4)[0] not in nodes.data  # a marker is no table entry


async def test_after_a_restore_the_owner_writes_again_each_key_whose_last_record_was_a_skipped_late_write() -> None:
    nodes = table()
    sent: list[tuple[int, bytes, bytes | None, bytes]] = []

    async def send(**kwargs: Any) -> Any:
        sent.append((kwargs["partition"], kwargs["key"], kwargs["value"], kwargs["headers"][0][1]))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    nodes.changelog_topic.send = send  # type: ignore[method-assign]
    nodes.app.assignor.assigned_actives = lambda: {TP(nodes.changelog_topic_name, 0)}  # type: ignore[method-assign]
    await nodes.on_rebalance(set(), set(), set(), 8)
    sent.clear()
    nodes.app.consumer_generation_id = 8
    nodes.apply_changelog_batch([
        changelog_event(0, 0, b"cus_1", b"owner", 8), changelog_event(0, 1, b"cus_1", b"late", 7),
        changelog_event(0, 2, b"cus_2", b"late", 7),  # a key the owner does not hold
        changelog_event(1, 0, b"cus_3", b"v", 8), changelog_event(1, 1, b"cus_3", b"late", 7),  # not its partition
    ])
    active = {TP(nodes.changelog_topic_name, 0)}
    await nodes.on_recovery_completed(active, set())
    assert sorted(sent) == [(0, b"cus_1", b"owner", b"8"), (0, b"cus_2", None, b"8")]
    sent.clear()
    await nodes.on_recovery_completed(active, set())
    assert sent == []  # written once


def test_a_changelog_is_created_to_be_compacted_sooner_than_the_broker_defaults() -> None:
    topics = TopicSettings(changelog_segment_ms=600_000)
    nodes = fenced_table(faust.App("fenced-configs", broker="kafka://127.0.0.1:1"), "nodes", topics)
    assert nodes.changelog_topic.config == {"segment.ms": "600000", "min.cleanable.dirty.ratio": "0.1",
                                            "max.compaction.lag.ms": "21600000"}
    assert nodes.changelog_topic.compacting


def test_a_marker_through_a_json_tables_serializers_is_still_a_marker_on_the_topic_and_once_decoded() -> None:
    from faust.serializers import codecs

    key, value, _ = fence_marker(3)
    on_topic = codecs.dumps("json", key)
    assert is_marker(on_topic) and is_marker(codecs.loads("json", on_topic))
    assert codecs.loads("json", codecs.dumps("json", value)) == value
    assert not is_marker(codecs.dumps("json", "handoff-1"))


def batch_event(partition: int, offset: int, key: bytes, value: bytes | None, version: int, batch: str | None,
                ) -> Any:
    event = changelog_event(partition, offset, key, value, version)
    if batch is not None:
        event.message.headers.append(batch_header(batch))
    return event


def done_event(partition: int, offset: int, batch: tuple[str, int], version: int) -> Any:
    key, value, headers = done_marker(batch, version)
    message = SimpleNamespace(partition=partition, offset=offset, headers=list(headers), value=value, key=key)
    return SimpleNamespace(key=key, value=value, message=message)


async def restored_together(cut: str | None) -> tuple[dict[str, FencedTable], list[tuple[str, bytes, bytes | None]]]:
    """Three tables restored in generation 8 from partition 0 of their changelogs: batch w:1 whole, with its done
    marker; batch w:2 in all three tables except ``cut`` (never landed), no done marker; w:3 in nodes only."""
    app = faust.App("batch-restore-test", broker="kafka://127.0.0.1:1", store="memory://")
    batches = DoneBatches()
    tables = {name: fenced_table(app, name, TopicSettings(), key_type=bytes, value_type=bytes, partitions=2,
                                 batches=batches) for name in ("nodes", "profiles", "contacts")}
    sent: list[tuple[str, bytes, bytes | None]] = []
    for name, table in tables.items():
        async def send(_name: str = name, **kwargs: Any) -> Any:
            sent.append((_name, kwargs["key"], kwargs["value"]))
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done

        table.changelog_topic.send = send  # type: ignore[method-assign]
    app.assignor.assigned_actives = lambda: {TP(t.changelog_topic_name, 0) for t in tables.values()}  # type: ignore[method-assign]
    for table in tables.values():
        await table.on_rebalance(set(), set(), set(), 8)
    sent.clear()
    app.consumer_generation_id = 8
    for name, table in tables.items():
        events = [batch_event(0, 0, b"k1", b"w1-" + name.encode(), 7, "w:1")]
        if name == "nodes":
            events.append(done_event(0, 1, ("w", 1), 7))
        if name != cut:
            events.append(batch_event(0, 2, b"k1", b"w2-" + name.encode(), 7, "w:2"))
            events.append(batch_event(0, 3, b"k2", b"w2-" + name.encode(), 7, "w:2"))
        if name == "nodes":
            events.append(batch_event(0, 4, b"k3", b"w3", 7, "w:3"))
        events.append(changelog_event(0, 5, fence_marker(8)[0], b"taken", 8))
        table.apply_changelog_batch(events)
    for table in tables.values():
        await table.on_recovery_completed({TP(table.changelog_topic_name, 0)}, set())
    return tables, sent


@pytest.mark.parametrize("cut", ["nodes", "profiles", "contacts"])
async def test_a_batch_cut_in_one_changelog_is_taken_back_in_all_three_with_the_later_ones(cut: str) -> None:
    tables, sent = await restored_together(cut)
    for name, table in tables.items():
        assert dict(table.data) == {b"k1": b"w1-" + name.encode()}, name  # as after w:1
    assert sorted(sent) == sorted([(name, b"k1", b"w1-" + name.encode()) for name in tables if name != cut]
                                  + [(name, b"k2", None) for name in tables if name != cut] + [("nodes", b"k3", None)])


async def test_a_batch_with_its_done_marker_stays_as_restored() -> None:
    app = faust.App("batch-done-test", broker="kafka://127.0.0.1:1", store="memory://")
    nodes = fenced_table(app, "nodes", TopicSettings(), key_type=bytes, value_type=bytes, partitions=2,
                         batches=DoneBatches())
    app.assignor.assigned_actives = lambda: {TP(nodes.changelog_topic_name, 0)}  # type: ignore[method-assign]
    nodes.changelog_topic.send = None  # type: ignore[assignment,method-assign]  # nothing to write
    nodes._active, nodes._generation = {0}, 8  # noqa: SLF001 - as on_rebalance leaves them
    nodes.batches.start(8)  # type: ignore[union-attr]
    nodes.apply_changelog_batch([batch_event(0, 0, b"k1", b"v1", 7, "w:1"), batch_event(0, 1, b"k2", b"v2", 7, "w:2"),
                                 done_event(0, 2, ("w", 2), 7)])
    await nodes.on_recovery_completed({TP(nodes.changelog_topic_name, 0)}, set())
    assert dict(nodes.data) == {b"k1": b"v1", b"k2": b"v2"}


async def test_records_written_before_batch_ids_restore_as_before() -> None:
    app = faust.App("batch-upgrade-test", broker="kafka://127.0.0.1:1", store="memory://")
    nodes = fenced_table(app, "nodes", TopicSettings(), key_type=bytes, value_type=bytes, partitions=2,
                         batches=DoneBatches())
    nodes.changelog_topic.send = None  # type: ignore[assignment,method-assign]  # nothing to write
    nodes._active, nodes._generation = {0}, 8  # noqa: SLF001 - as on_rebalance leaves them
    nodes.batches.start(8)  # type: ignore[union-attr]
    nodes.apply_changelog_batch([changelog_event(0, 0, b"k1", b"old", None), changelog_event(0, 1, b"k1", b"v1", 6),
                                 changelog_event(0, 2, b"k2", b"v2", 7)])
    await nodes.on_recovery_completed({TP(nodes.changelog_topic_name, 0)}, set())
    assert dict(nodes.data) == {b"k1": b"v1", b"k2": b"v2"}
