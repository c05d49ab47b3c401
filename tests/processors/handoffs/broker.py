"""Helpers for the tracker's broker tests: run a worker in-process, watch the output topics."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from bus.config import OmnibusSettings
from bus.errors import DeserializationError
from bus.serde import Event, SerdeContext, build_serde
from bus.topics import DEAD_LETTERS, HANDOFF_EVENTS, HANDOFF_NOTIFICATIONS
from processors.handoffs.agent import HandoffWorker, build_worker
from bus.clock import Clock
from processors.handoffs.config import HandoffPolicy, HandoffsSettings


@dataclass
class Watcher:
    """Consumes the events, notifications and dead-letter topics from offset 0 into ``seen``, in the background."""

    settings: OmnibusSettings
    seen: list[tuple[str, Event]] = field(default_factory=list)
    undecodable: int = 0
    _task: asyncio.Task | None = None

    async def start(self) -> None:
        _, deserializer = build_serde(self.settings.registry)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka.bootstrap_servers, group_id=None,
                                    enable_auto_commit=False, client_id=f"watch-{uuid.uuid4().hex[:6]}")
        await consumer.start()
        specs = (HANDOFF_EVENTS, HANDOFF_NOTIFICATIONS, DEAD_LETTERS)
        tps = []
        for spec in specs:  # a topic just created may show up in the metadata before all its partitions
            topic, expected = spec.name(self.settings.topics), spec.partition_count(self.settings.topics)
            deadline = time.monotonic() + 15
            while len(consumer.partitions_for_topic(topic) or ()) < expected and time.monotonic() < deadline:
                await consumer._client.force_metadata_update()  # noqa: SLF001
                await asyncio.sleep(0.1)
            tps += [TopicPartition(topic, p) for p in range(expected)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)

        async def run() -> None:
            try:
                while True:
                    batch = await consumer.getmany(timeout_ms=200)
                    for tp, messages in batch.items():
                        for m in messages:
                            ctx = SerdeContext(topic=tp.topic, partition=tp.partition, offset=m.offset)
                            try:
                                self.seen.append((tp.topic, deserializer(m.value, ctx)))
                            except DeserializationError:
                                self.undecodable += 1
            finally:
                await consumer.stop()

        self._task = asyncio.create_task(run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def events(self, short_name: str | None = None) -> list[Event]:
        return [e for _, e in self.seen if short_name is None or e.schema.endswith("." + short_name)]

    async def until(
        self, predicate: Callable[[], bool], timeout_s: float = 30.0, what: str | Callable[[], str] = ""
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout_s} s for {what() if callable(what) else what or predicate}")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running_worker(
    settings: OmnibusSettings, policy: HandoffPolicy, clock: Clock, *, tick_interval_s: float = 0.1
) -> AsyncIterator[HandoffWorker]:
    handoffs = HandoffsSettings(tick_interval_s=tick_interval_s, metrics_refresh_s=1.0)
    worker = build_worker(settings, handoffs, policy, clock, broker_commit_every=50, broker_commit_interval=0.5)
    await worker.app.start()
    try:
        yield worker
    finally:
        await worker.app.stop()
