"""tester24 F8 at run time: a send whose topic the broker no longer lists raises ``MissingTopicError`` at once (not
retried for ``producer.give_up_after_s`` as an outage); the same failure with the topic listed, or no broker
answering, is retried as before. aiokafka's client is a stand-in: what it raises is what aiokafka 0.14 raises."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, UnknownTopicOrPartitionError

from bus.config import load_settings
from bus.errors import MissingTopicError, PublishError
from bus.producer import EventProducer
from bus.serde import build_serde
from bus.topic import KafkaRecord

TOPIC = "staging.business.events.v1"


class Client:
    """aiokafka's ``AIOKafkaProducer`` as the producer uses it: ``send`` fails with ``error``; ``client`` answers
    metadata listing ``listed`` (or raises ``KafkaConnectionError`` when None: no broker answers)."""

    def __init__(self, error: Exception, listed: set[str] | None) -> None:
        self.error, self.listed, self.sends = error, listed, 0
        self.client = SimpleNamespace(add_topic=lambda topic: None, fetch_all_metadata=self._metadata)

    async def _metadata(self) -> Any:
        if self.listed is None:
            raise KafkaConnectionError("Unable to get cluster metadata over all known brokers")
        return SimpleNamespace(topics=lambda: set(self.listed or ()))

    async def send(self, topic: str, **_: Any) -> asyncio.Future:
        self.sends += 1
        raise self.error

    async def partitions_for(self, topic: str) -> set[int]:
        self.sends += 1
        raise self.error


def _producer(client: Client, give_up_after_s: float = 0.5) -> EventProducer:
    settings = load_settings(producer={"give_up_after_s": give_up_after_s}, metrics={"enabled": False})
    producer = EventProducer(settings, build_serde(settings.registry)[0])
    producer._client = client  # type: ignore[assignment] # noqa: SLF001 - the stand-in above
    return producer


RECORDS = [KafkaRecord(TOPIC, b"k", b"v", ())]


@pytest.mark.parametrize("error", [UnknownTopicOrPartitionError(), KafkaTimeoutError()],
                         ids=["no-metadata-for-the-topic", "produce-expired"])
@pytest.mark.parametrize("batched", [False, True], ids=["send", "send_batched"])
def test_a_send_to_a_topic_the_broker_does_not_list_raises_missing_topic_at_once(error: Exception,
                                                                                  batched: bool) -> None:
    client = Client(error, listed={"staging.deadletter.v1"})
    producer = _producer(client, give_up_after_s=600)

    async def send() -> object:
        return await (producer.send_batched(RECORDS) if batched else producer.send(RECORDS))

    with pytest.raises(MissingTopicError) as raised:
        asyncio.run(asyncio.wait_for(send(), 5))  # before: retried for 600 s
    assert raised.value.topics == (TOPIC,) and not raised.value.retriable
    assert client.sends == 1
    assert "run `omnibus topics apply`" in str(raised.value)


@pytest.mark.parametrize("listed", [{TOPIC}, None], ids=["topic-listed", "no-broker"])
def test_the_same_failure_with_the_topic_listed_or_no_broker_answering_is_retried_as_an_outage(
    listed: set[str] | None,
) -> None:
    client = Client(KafkaTimeoutError(), listed=listed)
    producer = _producer(client, give_up_after_s=0.5)
    with pytest.raises(PublishError) as raised:
        asyncio.run(producer.send(RECORDS))
    assert not isinstance(raised.value, MissingTopicError) and raised.value.retriable
    assert client.sends > 1  # tried again until ``give_up_after_s``


def test_require_topics_names_what_the_broker_does_not_list() -> None:
    producer = _producer(Client(KafkaTimeoutError(), listed={"staging.deadletter.v1"}))
    asyncio.run(producer.require_topics(["staging.deadletter.v1"]))
    with pytest.raises(MissingTopicError, match=rf"^topic {TOPIC} does not exist"):
        asyncio.run(producer.require_topics([TOPIC, "staging.deadletter.v1"]))
