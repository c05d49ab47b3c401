"""Two identity workers in separate processes consume and commit every input partition (#9/#13).

Before ``bus.seek_uncommitted``: contacts loaded as soon as the group was Stable reached a worker while
its flow was still suspended by the rebalance (table recovery); faust dropped them and aiokafka's
``seek_to_committed`` left the never-committed partitions past them, so one worker's ``contact.events``
partitions never got a committed offset (14 stalls in 47 attempts of this very sequence; none in 39 after).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tests.bench.identity import event_ids, finished
from tests.bench.identity_runs import Workers, end_offsets, load, wait_for_group
from tests.bench.identity_workload import CONTACTS, contact_mix
from tests.support.settings import settings_with_topics

PARTITIONS = 4


@pytest.mark.kafka
@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_two_worker_processes_consume_and_commit_every_contact_partition(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=PARTITIONS)
    items = contact_mix(200)
    group = f"{settings.topics.prefix}.identity"
    async with Workers("identity", 2, settings, tmp_path) as running:
        await wait_for_group(settings, group, 2, running)
        await load(settings, items)  # at once: the workers may still be restoring after the rebalance
        out = await finished(settings, "identity", event_ids(items), running, 120)
        topic = f"{settings.topics.prefix}.{CONTACTS}"
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await end_offsets(settings, partitions)
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
        await admin.start()
        try:
            committed: dict[int, int | None] = {}
            for _ in range(120):  # commits follow processing by up to faust's commit interval (longer under load)
                offsets = await admin.list_consumer_group_offsets(group)
                committed = {tp.partition: offsets[tp].offset if tp in offsets else None for tp in partitions}
                if all(committed[tp.partition] == ends[tp] for tp in partitions):
                    break
                running.check_alive()
                await asyncio.sleep(0.5)
        finally:
            await admin.close()
    assert len(out) >= len(items)
    assert all(ends[tp] > 0 for tp in partitions)  # every partition had contacts to consume
    assert committed == {tp.partition: ends[tp] for tp in partitions}
