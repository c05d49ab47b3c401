"""Watching a consumer group's commits from outside during a fault test: the longest commit stall.

A partition stalls while records wait beyond its committed offset (end offset > committed) and the
committed offset does not move. ``CommitMonitor`` polls the group's committed offsets and the end
offsets once a second and keeps, per partition, the longest such stretch in seconds — the black-box
counterpart of the workers' ``omnibus_consumer_commit_stalled`` gauge (``bus/commit_watchdog.py``),
which reads the same thing from inside faust.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from bus.config import OmnibusSettings
from bus.topics import TopicSpec


@dataclass
class CommitMonitor:
    settings: OmnibusSettings
    specs: list[TopicSpec]
    group: str
    interval_s: float = 1.0
    longest: dict[TopicPartition, float] = field(default_factory=dict)
    _task: asyncio.Task | None = None

    @property
    def max_stall_s(self) -> float:
        return max(self.longest.values(), default=0.0)

    async def __aenter__(self) -> CommitMonitor:
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _watch(self) -> None:
        bootstrap = self.settings.kafka.bootstrap_servers
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
        await admin.start()
        await consumer.start()
        since: dict[TopicPartition, tuple[int, float]] = {}
        partitions = [TopicPartition(spec.name(self.settings.topics), p) for spec in self.specs
                      for p in range(spec.partition_count(self.settings.topics))]
        try:
            while True:
                with contextlib.suppress(Exception):  # a broker hiccup must not end the watch
                    ends = await consumer.end_offsets(partitions)
                    committed = await admin.list_consumer_group_offsets(self.group)
                    now = time.monotonic()
                    for tp in partitions:
                        offset = committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0
                        if offset >= ends[tp]:
                            since.pop(tp, None)
                            continue
                        if tp not in since or since[tp][0] != offset:
                            since[tp] = (offset, now)
                        self.longest[tp] = max(self.longest.get(tp, 0.0), now - since[tp][1])
                await asyncio.sleep(self.interval_s)
        finally:
            await consumer.stop()
            await admin.close()
