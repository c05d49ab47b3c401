"""``bus.partition_check``: a table's first write while the metadata does not know its changelog yet is no
partition mismatch (CI: ``handoffs run`` exited 1 on "topic '...-handoff-state-changelog' has 0 partitions")."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.cluster import ClusterMetadata
from faust.exceptions import PartitionsMismatch

from bus.app import create_app
from bus.consume import raw_record, stop_on_failure
from bus.fenced_table import fenced_table
from bus.partition_check import known_partitions, verify_when_known
from bus.topics import HANDOFF_EVENTS
from tests.support.settings import settings_with_topics


def test_a_topic_the_metadata_does_not_list_has_no_known_count() -> None:
    assert known_partitions(None) is None
    assert known_partitions(0) is None  # aiokafka's group snapshot: ``partitions_for_topic(topic) or []``
    assert known_partitions(2) == 2


def table_of(counts: dict[str, int | None]) -> Any:
    consumer = SimpleNamespace(topic_partitions=counts.get)
    return SimpleNamespace(app=SimpleNamespace(consumer=consumer), name="state", changelog_topic_name="app-state-changelog",
                           _verified_source_topics_for_partitions=set())


def original_check(table: Any, source_topic: str) -> None:
    """faust's check (``Collection._verify_source_topic_partitions``) on the fake table."""
    source_n = table.app.consumer.topic_partitions(source_topic)
    change_n = table.app.consumer.topic_partitions(table.changelog_topic_name)
    if source_n is not None and change_n is not None and source_n != change_n:
        raise PartitionsMismatch(f"{source_topic} has {source_n}, {table.changelog_topic_name} has {change_n}")
    table._verified_source_topics_for_partitions.add(source_topic)


def test_a_changelog_at_0_partitions_is_checked_again_at_the_next_write() -> None:
    counts: dict[str, int | None] = {"events": 2, "app-state-changelog": 0}
    table = table_of(counts)
    check = verify_when_known(original_check)
    check(table, "events")  # faust's own check raised PartitionsMismatch here: 2 != 0
    assert table._verified_source_topics_for_partitions == set()
    counts["app-state-changelog"] = 2
    check(table, "events")
    assert table._verified_source_topics_for_partitions == {"events"}


def test_a_source_topic_at_0_partitions_is_not_a_mismatch_either() -> None:
    table = table_of({"events": 0, "app-state-changelog": 2})
    verify_when_known(original_check)(table, "events")
    assert table._verified_source_topics_for_partitions == set()


def test_two_known_counts_that_differ_are_still_a_mismatch() -> None:
    table = table_of({"events": 2, "app-state-changelog": 3})
    with pytest.raises(PartitionsMismatch):
        verify_when_known(original_check)(table, "events")


class LaggingMetadata:
    """A broker whose metadata has not applied a new topic yet, asked by the group's consumer (a cluster of
    several brokers: ``bus.declared_topics`` saw the topic listed by another): each metadata response the
    consumer's client receives (the metadata the group coordinator listens to) leaves ``topic`` out while
    ``hidden`` is set. The topic exists on the broker all along."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, topic: str) -> None:
        self.topic = topic
        self.hidden = True
        self.left_out = 0
        update = ClusterMetadata.update_metadata

        def update_metadata(cluster: ClusterMetadata, metadata: Any) -> None:
            listened = bool(cluster._listeners)  # the consumer's: aiokafka's GroupCoordinator listens to it
            if self.hidden and listened and any(entry[1] == self.topic for entry in metadata.topics):
                self.left_out += 1
                metadata = SimpleNamespace(
                    API_VERSION=metadata.API_VERSION, brokers=metadata.brokers,
                    controller_id=getattr(metadata, "controller_id", None),
                    topics=[entry for entry in metadata.topics if entry[1] != self.topic])
            update(cluster, metadata)

        monkeypatch.setattr(ClusterMetadata, "update_metadata", update_metadata)


@pytest.mark.kafka
@pytest.mark.timeout(240)
async def test_a_tables_first_write_before_the_metadata_lists_its_new_changelog_goes_through(
    bootstrap_servers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh deployment: faust creates the table's changelog at start, and the group's assignment fetches
    metadata that does not list it yet (made certain here: the metadata leaves it out until the first write).
    The first record's table write went through faust's check with "has 0 partitions" and the worker stopped;
    now both records are handled and their changes land in the changelog."""
    settings = await settings_with_topics(bootstrap_servers, partitions=2)
    source = HANDOFF_EVENTS.name(settings.topics)
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await raw.start()
    try:
        for key in (b"h-1", b"h-2"):
            await raw.send_and_wait(source, b"created", key=key, partition=0)
    finally:
        await raw.stop()

    app = create_app("partition-check-test", settings, datadir=str(tmp_path))
    table = fenced_table(app, "state", settings.topics, default=None, partitions=2)
    lagging = LaggingMetadata(monkeypatch, table.changelog_topic_name)
    handled: list[bytes] = []
    failed: list[BaseException] = []
    done = asyncio.Event()

    @app.agent(app.topic(source, key_serializer="raw", value_serializer="raw"))
    async def track(stream):  # type: ignore[no-untyped-def]
        async for event in stream.events():
            try:
                async with stop_on_failure(app, event):
                    record = raw_record(event.message)
                    table[record.key] = record.value
                    handled.append(record.key)
            except Exception as exc:
                failed.append(exc)
                done.set()
                raise
            lagging.hidden = False  # the broker's metadata catches up after the first write
            if len(handled) == 2:
                done.set()

    await app.start()
    try:
        await asyncio.wait_for(done.wait(), 150)
        await asyncio.wait_for(app.producer.flush(), 60)
    finally:
        await app.stop()
    assert lagging.left_out >= 1, "the metadata never left the changelog out: the sample did not happen"
    assert not failed, [f"{type(exc).__name__}: {exc}" for exc in failed]
    assert handled == [b"h-1", b"h-2"]
