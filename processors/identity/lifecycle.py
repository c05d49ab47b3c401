"""The identity worker's start, stop and failure handling (``IdentityProcessor``'s lifecycle).

faust starts the app (consumer group, tables, agents); the parts faust does not know about start here,
lazily, before the first batch needs them: the project's producer (``bus.producer.EventProducer``), the
assignment repair with its rows feed, and the graph topic's partition count (read from the cluster, since
graph messages are bundled per destination partition). They stop on faust's ``on_before_shutdown``.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any, NoReturn

import faust

from bus.admin_client import admin_client
from bus.config import OmnibusSettings
from bus.errors import ConfigError
from bus.fencing import AssignmentFence
from bus.logging import get_logger
from bus.producer import EventProducer
from bus.publish_retry import outage_retry
from processors.identity.assignments_repair import AssignmentRepair
from processors.identity.bulk_intake import BulkIntake
from processors.identity.state_writes import StateWrites

log = get_logger(__name__, component="identity")


async def partition_count(settings: OmnibusSettings, topic: str, wait_s: float = 30.0) -> int:
    """Partitions of ``topic`` on the cluster (the graph topic must exist: ``omnibus topics apply``).

    Waits up to ``wait_s`` for a topic created a moment ago: its metadata reaches every broker later.
    Raises ``ConfigError`` when the topic is still missing after ``wait_s`` seconds.
    """
    admin = admin_client(settings.kafka)
    await admin.start()
    try:
        deadline = time.monotonic() + wait_s
        while True:
            (described,) = await admin.describe_topics([topic])
            if described["error_code"] == 0 and described["partitions"]:
                return len(described["partitions"])
            if time.monotonic() > deadline:
                raise ConfigError(f"topic {topic} does not exist: run `omnibus topics apply` first")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


# Objects allocated (net) before a young-generation collection; Python's default is 700. A batch of 500 events keeps
# tens of thousands of young objects alive until it ends, so at 700 each was scanned in a dozen collections and
# most were promoted; at this size most die before one (#9, ``results/identity_profile.md``). At 10,000 the
# collector still took 0.26 of the hot-path bench's CPU-seconds over 6,000 events, 0.13 at 100,000, its peak RSS
# unchanged (114 MB; ``results/identity.md``).
YOUNG_COLLECTION_AFTER = 100_000
# How long a worker whose partitions are revoked waits for its changelog writes in flight (``StateWrites.drained``):
# a produce round trip when Kafka answers; bounded well within the session timeout (``bus.takeover``), which bounds
# the rebalance faust runs this in.
DRAIN_ON_REVOKE_S = 5.0
_FROZEN = False


def freeze_startup_objects() -> None:
    """Move every object alive once the worker runs (modules, faust's app and services, the tables) out of the
    garbage collector's reach, once per process (``gc.freeze``). They live as long as the worker, yet each full
    collection scanned them all again: 13 full collections took 1.2 of a 20,000-event bench run's 9.7 CPU-seconds
    (#9, ``tests/bench/results/identity_profile.md``). Garbage is collected first, so none is kept for good. The young
    generation is then collected every ``YOUNG_COLLECTION_AFTER`` objects."""
    global _FROZEN
    if not _FROZEN:
        _FROZEN = True
        gc.collect()
        gc.freeze()
        gc.set_threshold(YOUNG_COLLECTION_AFTER, *gc.get_threshold()[1:])


class Lifecycle:
    """Starts and stops what faust does not own (``stages``: the bulk stages, stopped first at shutdown);
    ``graph_partitions()`` is the graph topic's partition count
    (``default`` from the settings until the cluster answered). Connects itself to the app's signals: on a
    revocation, the fence learns it and the worker waits for its state ``writes`` in flight (``StateWrites.drained``)
    before it rejoins the group."""

    def __init__(self, app: faust.App, settings: OmnibusSettings, producer: EventProducer, repair: AssignmentRepair,
                 fence: AssignmentFence, graph_topic: str, *, default_partitions: int,
                 writes: StateWrites | None = None) -> None:
        self.app, self.settings, self.producer, self.repair, self.writes = app, settings, producer, repair, writes
        self.stages: tuple[BulkIntake, ...] = ()  # the bulk stages, stopped at shutdown before the producer
        self.fence, self.graph_topic, self.default_partitions = fence, graph_topic, default_partitions
        self.cluster_partitions: int | None = None  # read from the cluster: bundles are grouped by partition
        self._lock = asyncio.Lock()
        self._running = False
        app.on_before_shutdown.connect(self._on_shutdown)
        app.on_partitions_revoked.connect(self._on_revoked)

    def graph_partitions(self) -> int:
        return self.cluster_partitions or self.default_partitions

    async def ensure_started(self) -> None:
        """Start the producer and the repair once, and read the graph topic's partition count once."""
        async with self._lock:
            if not self._running:
                await self.producer.start()
                await self.repair.feed.start()
                self.repair.start()
                self._running = True
                freeze_startup_objects()
            if self.cluster_partitions is None:
                # read through a broker outage as the producer's start and the followers' are (bus.publish_retry)
                self.cluster_partitions = await outage_retry(self.settings).run(
                    lambda: partition_count(self.settings, self.graph_topic), what="graph partition count")

    async def stop_producer(self) -> None:
        async with self._lock:
            if self._running:
                await self.repair.stop()
                await self.repair.feed.stop()
                await self.producer.stop()
                self._running = False

    async def crash(self, agent: str, exc: Exception) -> NoReturn:
        """Stop the whole worker rather than run on without an agent: the batch was not committed, so a
        restarted worker takes it again (a crashed faust agent alone would leave its partitions idle)."""
        log.exception("identity agent failed; stopping the worker", agent=agent, error_type=type(exc).__name__)
        await self.app.crash(exc)
        raise exc

    async def _on_revoked(self, app: faust.App, /, *_: Any, **__: Any) -> None:
        self.fence.revoked()
        if self.writes is not None:
            await self.writes.drained(DRAIN_ON_REVOKE_S)

    async def _on_shutdown(self, app: faust.App, /, *_: Any, **__: Any) -> None:
        for stage in self.stages:
            await stage.stop()
        await self.stop_producer()
