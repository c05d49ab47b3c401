"""Following whole topics outside any consumer group, like a Kafka Streams global table.

Every worker that keeps a local replica of a compacted topic (identity's fast-path view of
``customer.identifiers.v1``, the handoff tracker's customer directory) reads every partition from offset 0 and
keeps following it. ``TopicFollower`` is that loop once; a subclass says what one record does (``on_record``)
and, if it cares, what happens once it has read up to the end offsets seen at its start (``on_caught_up``).
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from bus.config import OmnibusSettings
from bus.consume import start_or_close
from bus.kafka_client import connection_options
from bus.logging import get_logger
from bus.publish_retry import outage_retry
from bus.registry_outage import is_outage, lookups_off_loop, until_registry_answers
from bus.tasks import cancel_and_wait
from bus.topics import TopicSpec

log = get_logger(__name__)
METADATA_WAIT_S = 15.0  # how long a topic created a moment ago may take to show all its partitions


class TopicFollower:
    """Assigns every partition of ``topics`` from offset 0 and follows them in a background task.

    ``name``: shown in the client id and the task name. ``poll_ms``: longest wait of one poll (milliseconds).
    A topic missing or smaller than declared after ``METADATA_WAIT_S`` is read as it is (``omnibus topics
    apply`` creates it). A poll that fails is retried after a second: the consumer reconnects by itself. A start
    that meets a broker outage (no connection, offsets not answered within the request timeout) is tried again
    with the producer's backoff for up to ``producer.give_up_after_s`` (``bus.publish_retry``): identity's first
    batch starts its followers, and an outage then stopped the worker (``KafkaTimeoutError`` from ``end_offsets``,
    tests/faults/test_broker.py, the 60 s outage struck as the processors joined).
    """

    def __init__(self, settings: OmnibusSettings, topics: Sequence[TopicSpec], name: str, *, poll_ms: int = 200,
                 max_records: int = 2000) -> None:
        self.settings, self.name, self.poll_ms, self.max_records = settings, name, poll_ms, max_records
        self._specs = list(topics)
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._catch_up: dict[TopicPartition, int] = {}
        self.caught_up = False
        # Called with every record after ``on_record``: more readers of one followed topic, one consumer.
        self.listeners: list[Callable[[ConsumerRecord], None]] = []

    def on_record(self, record: ConsumerRecord) -> None:
        """Apply one record (its ``topic``, ``partition``, ``offset``, ``key``, ``value``, ``headers``)."""
        raise NotImplementedError

    def on_caught_up(self) -> None:
        """Called once, when the end offsets seen at start have been read (at once if the topics were empty)."""

    async def start(self) -> None:
        """Assign every partition from offset 0, read the end offsets to catch up to, and start following. Raises
        the last Kafka error once ``producer.give_up_after_s`` passed, at once for an error that is not retriable."""
        await outage_retry(self.settings).run(self._start_once, what=f"follow start ({self.name})")

    async def _start_once(self) -> None:
        try:
            await self._assign()
        except BaseException:
            consumer, self._consumer = self._consumer, None
            if consumer is not None:
                await consumer.stop()
            raise
        self._check_caught_up()
        if self._consumer is not None and self._consumer.assignment():
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def _assign(self) -> None:
        options = connection_options(self.settings.kafka)
        options["client_id"] = f"{self.settings.kafka.client_id}-{self.name}-{uuid.uuid4().hex[:6]}"
        consumer = AIOKafkaConsumer(**options, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest")
        await start_or_close(consumer)
        self._consumer = consumer
        partitions: list[TopicPartition] = []
        for spec in self._specs:
            topic, expected = spec.name(self.settings.topics), spec.partition_count(self.settings.topics)
            deadline = asyncio.get_running_loop().time() + METADATA_WAIT_S
            while len(consumer.partitions_for_topic(topic) or ()) < expected:
                if asyncio.get_running_loop().time() > deadline:
                    log.warning("a followed topic is missing or smaller than declared", follower=self.name,
                                topic=topic, expected=expected)
                    break
                await consumer._client.force_metadata_update()  # noqa: SLF001 - a topic seen for the first time
                await asyncio.sleep(0.1)
            partitions += [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if partitions:
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions) if partitions else {}
        self._catch_up = {tp: end for tp, end in ends.items() if end > 0}

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def _run(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while True:
            try:
                batch = await consumer.getmany(timeout_ms=self.poll_ms, max_records=self.max_records)
            except Exception:  # the consumer reconnects by itself; keep the loop alive
                log.exception("a topic follower could not poll; retrying", follower=self.name)
                await asyncio.sleep(1.0)
                continue
            for tp, records in batch.items():
                for record in records:
                    waiting = self._deliver(record)
                    if waiting is not None:
                        await self._deliver_when_registry_answers(record, waiting)
                if records and tp in self._catch_up and records[-1].offset + 1 >= self._catch_up[tp]:
                    del self._catch_up[tp]
            self._check_caught_up()
            await asyncio.sleep(0)  # let the agents run between large catch-up batches

    def _readers(self) -> list[Callable[[ConsumerRecord], None]]:
        return [self.on_record, *self.listeners]

    def _deliver(self, record: ConsumerRecord, start: int = 0) -> int | None:
        """Hand one record to ``on_record`` and every listener, from the ``start``-th reader on. A reader that
        raises is logged and skipped for this record: an exception here would end the follower's task, silently,
        and every reader with it. One that meets a schema registry that does not answer (``is_outage``) is not
        skipped: its index is returned (None when every reader took the record), for the follower to wait."""
        readers = self._readers()
        for index in range(start, len(readers)):
            try:
                with lookups_off_loop():  # a schema not cached yet is fetched in a thread (bus.registry_outage)
                    readers[index](record)
            except Exception as error:  # noqa: BLE001 - one reader's bug must not stop the others or later records
                if is_outage(error):
                    return index
                log.exception("a topic follower's reader failed on a record; skipped", follower=self.name,
                              topic=record.topic, partition=record.partition, offset=record.offset)
        return None

    async def _deliver_when_registry_answers(self, record: ConsumerRecord, waiting: int | None) -> None:
        """Deliver ``record`` from reader ``waiting`` on, each reader that meets a registry outage retried until the
        registry answers (``bus.registry_outage``): the follower reads nothing further meanwhile, so no row is
        skipped and the replica stays in its topics' order."""
        while waiting is not None:
            reader = self._readers()[waiting]
            try:
                await until_registry_answers(functools.partial(reader, record))
            except Exception:  # noqa: BLE001 - as ``_deliver``: a reader's bug skips the record for that reader
                log.exception("a topic follower's reader failed on a record; skipped", follower=self.name,
                              topic=record.topic, partition=record.partition, offset=record.offset)
            waiting = self._deliver(record, waiting + 1)

    def _check_caught_up(self) -> None:
        if not self._catch_up and not self.caught_up:
            self.caught_up = True
            self.on_caught_up()
