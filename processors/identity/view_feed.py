"""Feeds the fast path's view with the rows every worker writes to ``customer.identifiers.v1``.

A worker learns its own assignments as it publishes them (``AssignmentView.learn_outputs``); the rows
decided by the other workers arrive here: a consumer outside the group reads every partition of the
compacted topic from the start and keeps following it. A row it cannot decode is skipped (the view
is only a guess, checked at the customer's root); a tombstone removes the identifier.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition

from bus.config import OmnibusSettings
from bus.kafka_client import connection_options
from bus.logging import get_logger
from bus.serde import Deserializer, SerdeContext
from bus.topics import CUSTOMER_IDENTIFIERS
from processors.identity.fastpath import AssignmentView

log = get_logger(__name__, component="identity")


class ViewFeed:
    def __init__(
        self, settings: OmnibusSettings, view: AssignmentView, deserializer: Deserializer, *, poll_ms: int = 200,
    ) -> None:
        self._settings, self._view, self._deserializer, self._poll_ms = settings, view, deserializer, poll_ms
        self._topic = CUSTOMER_IDENTIFIERS.name(settings.topics)
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Assign every partition of the topic from offset 0 and follow it in a background task."""
        options = connection_options(self._settings.kafka)
        options["client_id"] = f"{self._settings.kafka.client_id}-identity-view-{uuid.uuid4().hex[:6]}"
        consumer = AIOKafkaConsumer(**options, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        self._consumer = consumer
        await consumer._client.force_metadata_update()  # noqa: SLF001 - the topic may be seen for the first time
        partitions = [TopicPartition(self._topic, p) for p in sorted(consumer.partitions_for_topic(self._topic) or ())]
        if partitions:
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            self._task = asyncio.create_task(self._run(), name="identity-view-feed")
        else:
            log.warning("customer.identifiers topic not found; the fast path learns only this worker's rows")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def _run(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while True:
            try:
                batch = await consumer.getmany(timeout_ms=self._poll_ms, max_records=2000)
            except Exception:  # the consumer reconnects by itself; keep the loop alive
                log.exception("fast-path view could not poll; retrying")
                await asyncio.sleep(1.0)
                continue
            for messages in batch.values():
                for message in messages:
                    self.apply(message.key, message.value)
            await asyncio.sleep(0)  # let the agents run between large catch-up batches

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Learn one row (``IdentifierAssignment`` Avro, key ``TYPE:value``); a tombstone forgets the key."""
        if key is None:
            return
        identifier = key.decode(errors="replace")
        if value is None:
            self._view.forget(identifier)
            return
        try:
            row = self._deserializer(value, SerdeContext(topic=self._topic, key=key)).value
            self._view.learn(identifier, row["customer_id"], int(row.get("version") or 0))
        except Exception:  # noqa: BLE001 - a row the view cannot read only costs the slow path
            log.warning("fast-path view skipped a row it could not decode", topic=self._topic)
