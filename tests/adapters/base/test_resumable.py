"""``adapters.base.resumable.drain`` with a ``retry``: a command importing files waits through an outage (tester15 F13)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.base.dedupe import DedupeStore
from adapters.base.errors import Unavailable
from adapters.base.ingest import ChunkOutcome, Item
from adapters.base.mapper import MappedRecord
from adapters.base.outage_log import IMPORT_MESSAGE
from adapters.base.publisher import AdapterPublisher
from adapters.base.resumable import Batch, ResumableSource, drain
from bus.errors import PublishError, RawRecord
from bus.publish_retry import Backoff, Retry
from tests.adapters.base.test_ingest import CountingKafka, DeadLetters, interaction
from tests.bus.test_publish_retry import FakeClock as Clock


class FlakyKafka(CountingKafka):
    """Refuses the first ``failures`` publishes as a broker away would (retriable), then keeps what it is handed."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def publish_many(self, items, encoded=None, batched=False):  # type: ignore[no-untyped-def]
        if self.failures:
            self.failures -= 1
            raise PublishError("Kafka did not acknowledge: KafkaTimeoutError", retriable=True)
        return await super().publish_many(items, encoded, batched)


class Chunks(ResumableSource[int]):
    def __init__(self, chunks: int) -> None:
        self.left, self.committed = chunks, []  # type: ignore[var-annotated]

    async def next_batch(self) -> Batch[int] | None:
        if not self.left:
            return None
        self.left -= 1
        return Batch([Item(self.left, RawRecord(value=b"x"))], self.left)

    def to_record(self, index: int, native: Any) -> MappedRecord | None:
        return interaction(native)

    async def commit(self, batch: Batch[int], outcome: ChunkOutcome) -> None:
        self.committed.append((batch.position, outcome.published_events))


def publisher(kafka: CountingKafka) -> AdapterPublisher:
    return AdapterPublisher("legacy", kafka, DedupeStore(None, 3600), DeadLetters(),  # type: ignore[arg-type]
                            retry_after_s=5, outage_message=IMPORT_MESSAGE)


async def test_a_chunk_kafka_did_not_acknowledge_is_tried_again_until_it_is() -> None:
    kafka, clock = FlakyKafka(failures=3), Clock()
    source = Chunks(2)
    retry = Retry(Backoff(first_s=1.0, max_s=4.0, give_up_after_s=60.0), sleep=clock.sleep, clock=clock)
    assert await drain(source, publisher(kafka), retry=retry) == 2
    assert source.committed == [(1, 1), (0, 1)] and len(kafka.published) == 2 and 1.5 <= clock.now <= 7.0


async def test_without_a_retry_or_past_give_up_after_s_the_outage_is_raised_and_nothing_committed() -> None:
    source = Chunks(1)
    with pytest.raises(Unavailable):
        await drain(source, publisher(FlakyKafka(failures=1)))
    assert source.committed == []
    source, clock = Chunks(1), Clock()
    retry = Retry(Backoff(first_s=1.0, max_s=4.0, give_up_after_s=10.0), sleep=clock.sleep, clock=clock)
    with pytest.raises(Unavailable, match="events not acknowledged by Kafka"):
        await drain(source, publisher(FlakyKafka(failures=100)), retry=retry)
    assert source.committed == [] and clock.now <= 10.0
