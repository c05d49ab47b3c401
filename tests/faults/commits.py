"""Committed offsets of the processors' consumer groups, read from the broker as an operator would."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition


async def offsets(bootstrap_servers: str, group: str, topics: set[str],
                  attempts: int = 10) -> dict[TopicPartition, tuple[int, int]]:
    """Per partition of ``topics``: ``(committed offset of group, end offset)``; committed 0 when none.
    A coordinator not yet known (a young group) is asked again, ``attempts`` times a second apart."""
    for _ in range(attempts - 1):
        try:
            return await _offsets(bootstrap_servers, group, topics)
        except KafkaError:
            await asyncio.sleep(1)
    return await _offsets(bootstrap_servers, group, topics)


async def _offsets(bootstrap_servers: str, group: str, topics: set[str]) -> dict[TopicPartition, tuple[int, int]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, request_timeout_ms=10_000)
    await admin.start()
    try:
        await consumer.start()
        try:
            described = await admin.describe_topics(sorted(topics))
            partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
            missing = set(topics) - {tp.topic for tp in partitions}
            if missing:
                raise KafkaError(f"no metadata for {sorted(missing)}")
            ends = await consumer.end_offsets(partitions)
            committed = await admin.list_consumer_group_offsets(group)
        finally:
            await consumer.stop()
    finally:
        await admin.close()
    return {tp: (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0, ends[tp])
            for tp in partitions}


async def uncommitted(bootstrap_servers: str, group: str, topics: set[str]) -> dict[TopicPartition, int]:
    """Per partition of ``topics``: records after ``group``'s committed offset (only partitions with some)."""
    found = await offsets(bootstrap_servers, group, topics)
    return {tp: end - done for tp, (done, end) in found.items() if end > done}


@dataclass
class CommitStalls:
    """Samples ``groups`` every ``every_s``; the longest time a partition had records waiting while its
    committed offset did not move (``max_stall_s``). Samples that fail (broker down) are skipped."""

    bootstrap_servers: str
    groups: dict[str, set[str]]  # group -> the topics it reads
    every_s: float = 2.0
    max_stall_s: float = 0.0
    _since: dict[tuple[str, TopicPartition], tuple[int, float]] = field(default_factory=dict)  # (committed, since)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def sample(self) -> None:
        now = time.monotonic()
        for group, topics in self.groups.items():
            for tp, (done, end) in (await offsets(self.bootstrap_servers, group, topics)).items():
                key = (group, tp)
                seen = self._since.get(key)
                if end <= done:
                    self._since.pop(key, None)  # nothing waiting: not stalled
                elif seen is None or seen[0] != done:
                    self._since[key] = (done, now)  # records waiting; the commit moved (or first seen)
                else:
                    self.max_stall_s = max(self.max_stall_s, now - seen[1])

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self.sample(), timeout=30)
            except Exception:  # noqa: BLE001 - the broker is down on purpose: no sample this time
                self._since.clear()
            await asyncio.sleep(self.every_s)

    def stop(self) -> None:
        self._stopping.set()
