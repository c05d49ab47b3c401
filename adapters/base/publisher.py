"""The one path from mapped records to Kafka that every adapter uses.

``submit`` returns only when Kafka acknowledged every new event (idempotent producer, acks=all), so an
ingress may answer 2xx right after it. Records whose source id was already published are skipped;
Kafka not acknowledging becomes ``Unavailable`` (503 + Retry-After), never a silent loss.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from adapters.base.dedupe import DedupeStore
from adapters.base.errors import RejectedInput, Unavailable
from adapters.base.mapper import MappedRecord
from adapters.base.metrics import ACK_LATENCY, DUPLICATES, PUBLISHED, RECEIVED, REJECTED, UNAVAILABLE
from bus.dead_letter import DeadLetterWriter
from bus.errors import PublishError, RawRecord, SchemaRegistryError, SerializationError
from bus.logging import get_logger
from bus.producer import EventProducer

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    published_events: int
    duplicate_records: int


class AdapterPublisher:
    def __init__(
        self,
        name: str,
        producer: EventProducer,
        dedupe: DedupeStore,
        dead_letters: DeadLetterWriter,
        *,
        retry_after_s: int,
        publish_timeout_s: float = 10.0,
    ) -> None:
        self.name = name
        self._producer = producer
        self._dedupe = dedupe
        self._dead_letters = dead_letters
        self._retry_after_s = retry_after_s
        self._publish_timeout_s = publish_timeout_s

    async def submit(self, records: Sequence[MappedRecord], *, received_at: float | None = None) -> SubmitResult:
        """Publish the events of records not published before; wait for Kafka's acknowledgement."""
        started = received_at or time.perf_counter()
        RECEIVED.labels(adapter=self.name).inc(len(records))
        ids = [record.dedupe_id for record in records]
        async with self._dedupe.claim(ids):
            already = self._dedupe.seen(ids)
            fresh, duplicates, batch_ids = [], 0, set()
            for record in records:
                if record.dedupe_id in already or record.dedupe_id in batch_ids:
                    duplicates += 1
                    continue
                batch_ids.add(record.dedupe_id)
                fresh.append(record)
            events = [event for record in fresh for event in record.events]
            if events:
                await self._publish(events)
            self._dedupe.remember(record.dedupe_id for record in fresh)
        DUPLICATES.labels(adapter=self.name).inc(duplicates)
        PUBLISHED.labels(adapter=self.name).inc(len(events))
        ACK_LATENCY.labels(adapter=self.name).observe(time.perf_counter() - started)
        return SubmitResult(published_events=len(events), duplicate_records=duplicates)

    async def _publish(self, events: list) -> None:
        try:
            await asyncio.wait_for(self._producer.publish_many(events), self._publish_timeout_s)
        except TimeoutError as exc:
            # Records still in flight may land later; the sender's retry then carries the same
            # deterministic event ids, which processors dedupe.
            UNAVAILABLE.labels(adapter=self.name).inc()
            raise Unavailable(
                f"Kafka did not acknowledge within {self._publish_timeout_s:g} s", retry_after_s=self._retry_after_s
            ) from exc
        except SerializationError as exc:
            # The mapper built an event its schema refuses: reject the input rather than guess.
            raise RejectedInput(f"input maps to an invalid event: {exc}", code="unmappable") from exc
        except (PublishError, SchemaRegistryError) as exc:
            UNAVAILABLE.labels(adapter=self.name).inc()
            log.warning("kafka did not acknowledge", adapter=self.name, error=str(exc))
            raise Unavailable(f"events not acknowledged by Kafka: {exc}", retry_after_s=self._retry_after_s) from exc

    async def reject(self, raw: RawRecord, error: RejectedInput) -> None:
        """Dead-letter refused input with its reason (the caller answers the sender)."""
        REJECTED.labels(adapter=self.name, reason=error.code).inc()
        await self._dead_letters.write(raw, reason=error.reason, error_type=f"RejectedInput.{error.code}")
