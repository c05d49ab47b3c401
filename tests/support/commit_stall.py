"""Watching consumer groups' commits from outside during a fault test: committed offsets, lag, the longest stall.

A partition stalls while records wait beyond its committed offset (end offset > committed) and the
committed offset does not move. ``CommitStalls`` samples the groups' committed offsets and the end
offsets every ``interval_s`` and keeps, per partition, the longest such stretch in seconds — the black-box
counterpart of the workers' ``omnibus_consumer_commit_stalled`` gauge (``bus/commit_watchdog.py``), which
reads the same thing from inside faust. A sample that fails (the broker is down on purpose) is skipped and
starts the watch afresh: an outage is not a commit stall. One module for every fault test (it replaces
``tests/faults/commits.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from bus.config import OmnibusSettings
from bus.topics import TopicSpec


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
    """Samples ``groups`` every ``interval_s``: ``run()`` until ``stop()``, or ``async with`` around a fault."""

    bootstrap_servers: str
    groups: dict[str, set[str]]  # group -> the topics it reads
    interval_s: float = 2.0
    clock: Callable[[], float] = time.monotonic
    longest: dict[tuple[str, TopicPartition], float] = field(default_factory=dict)  # seconds, per partition
    _since: dict[tuple[str, TopicPartition], tuple[int, float]] = field(default_factory=dict)  # (committed, since)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task | None = None

    @property
    def max_stall_s(self) -> float:
        return max(self.longest.values(), default=0.0)

    async def sample(self) -> None:
        now = self.clock()
        for group, topics in self.groups.items():
            for tp, (done, end) in (await offsets(self.bootstrap_servers, group, topics)).items():
                key = (group, tp)
                seen = self._since.get(key)
                if end <= done:
                    self._since.pop(key, None)  # nothing waiting: not stalled
                    continue
                if seen is None or seen[0] != done:
                    self._since[key] = seen = (done, now)  # records waiting; the commit moved (or first seen)
                self.longest[key] = max(self.longest.get(key, 0.0), now - seen[1])

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self.sample(), timeout=30)
            except Exception:  # noqa: BLE001 - the broker is down on purpose: no sample this time
                self._since.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval_s)

    def stop(self) -> None:
        self._stopping.set()

    async def __aenter__(self) -> CommitStalls:
        self._task = asyncio.create_task(self.run())
        return self

    async def __aexit__(self, *_: object) -> None:
        self.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def CommitMonitor(settings: OmnibusSettings, specs: list[TopicSpec], group: str,  # noqa: N802 - reads as the class
                  interval_s: float = 1.0) -> CommitStalls:
    """The stall watch of one group reading ``specs``, every ``interval_s`` (``async with``)."""
    return CommitStalls(settings.kafka.bootstrap_servers, {group: {spec.name(settings.topics) for spec in specs}},
                        interval_s=interval_s)
