"""A terminal re-sends while Kafka is down: ``adapters.base.publisher`` must not publish it twice.

(The publisher is shared by every adapter; these tests live here because the counter agent's re-sends
are what exposed the case. Broker-level proof: agent/test_store_and_forward.py.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from adapters.base.dedupe import DedupeStore
from adapters.base.errors import Unavailable
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from bus.errors import PublishError
from bus.producer import Outgoing
from bus.serde import Event


class StalledKafka:
    """publish_many blocks until ``back`` is set (the broker is down), then succeeds or fails."""

    def __init__(self) -> None:
        self.back = asyncio.Event()
        self.fail = False
        self.calls = 0

    async def publish_many(self, items: list[Outgoing]) -> list[object]:
        self.calls += 1
        await self.back.wait()
        if self.fail:
            raise PublishError("gave up", retriable=True)
        return [object() for _ in items]


def record(dedupe_id: str) -> MappedRecord:
    return MappedRecord(dedupe_id, (Outgoing("t", "k", Event("s", {})),))


@pytest.fixture
def dedupe() -> Iterator[DedupeStore]:
    store = DedupeStore(None, 3600)
    yield store
    store.close()


def publisher(kafka: StalledKafka, dedupe: DedupeStore) -> AdapterPublisher:
    return AdapterPublisher("test", kafka, dedupe, None, retry_after_s=1, publish_timeout_s=0.05)  # type: ignore[arg-type]


async def test_a_resend_joins_the_timed_out_publish_instead_of_publishing_again(dedupe: DedupeStore) -> None:
    kafka = StalledKafka()
    adapter = publisher(kafka, dedupe)
    with pytest.raises(Unavailable):
        await adapter.submit([record("T:1")])
    with pytest.raises(Unavailable) as caught:
        await adapter.submit([record("T:1"), record("T:2")])  # still in flight: wait, then 503 again
    assert "still waiting" in caught.value.reason and kafka.calls == 1
    kafka.back.set()  # the broker is back: the first publish lands after all
    result = await adapter.submit([record("T:1"), record("T:2")])
    assert (result.duplicate_records, result.published_events) == (1, 1)
    assert kafka.calls == 2  # T:1 once, T:2 once


async def test_a_timed_out_publish_that_then_fails_is_published_again(dedupe: DedupeStore) -> None:
    kafka = StalledKafka()
    adapter = publisher(kafka, dedupe)
    with pytest.raises(Unavailable):
        await adapter.submit([record("T:1")])
    kafka.fail = True
    kafka.back.set()
    await asyncio.sleep(0)  # let the stalled publish fail
    kafka.fail = False
    result = await adapter.submit([record("T:1")])
    assert (result.duplicate_records, result.published_events, kafka.calls) == (0, 1, 2)
