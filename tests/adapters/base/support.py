"""Stand-ins for the Kafka side of ``AdapterPublisher`` (the real encoding, nothing sent), for ingest tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from adapters.base.dedupe import DedupeStore
from adapters.base.publisher import AdapterPublisher
from bus.config import OmnibusSettings
from bus.errors import MissingTopicError, RawRecord
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde


class CountingKafka(EventProducer):
    """The real producer's encoding; ``publish_many`` keeps what it was handed instead of sending."""

    def __init__(self) -> None:
        serializer, _ = build_serde(OmnibusSettings().registry)
        self.encodings = 0
        self.published: list[bytes] = []
        self.events: list[Outgoing] = []  # what was published, as mapped (envelopes readable)

        def counted(event, ctx):  # type: ignore[no-untyped-def]
            self.encodings += 1
            return serializer(event, ctx)

        super().__init__(OmnibusSettings(), counted)

    async def publish_many(self, items, encoded=None, batched=False):  # type: ignore[no-untyped-def,override]
        if encoded is None:
            encoded = [await self.encode(item) for item in items]
        self.published.extend(encoded)
        self.events.extend(items)
        return [None] * len(items)


class DeadLetters:
    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.records: list[tuple[RawRecord, str]] = []  # each dead letter's record and error type
        self.ids: list[str | None] = []  # the id each was given (None: the writer's own)

    async def write(self, record: RawRecord, *, reason: str, error_type: str,
                    dead_letter_id: str | None = None) -> None:
        self.reasons.append(reason)
        self.records.append((record, error_type))
        self.ids.append(dead_letter_id)


def deduping_publisher(adapter: str) -> tuple[AdapterPublisher, CountingKafka, DeadLetters]:
    """The real publisher with an in-memory dedupe store (content digests too), Kafka's side stood in for."""
    kafka, dead_letters = CountingKafka(), DeadLetters()
    publisher = AdapterPublisher(adapter, kafka, DedupeStore(None, 60), dead_letters,  # type: ignore[arg-type]
                                 retry_after_s=1)
    return publisher, kafka, dead_letters


def kept_by_event_id(*kafkas: CountingKafka) -> dict[tuple[str, str], Outgoing]:
    """What a subscriber keeps of the events several adapter replicas published, deduping per topic on
    ``envelope.event_id`` as every processor does (docs/subscribers.md): (topic, event id) -> the first event."""
    kept: dict[tuple[str, str], Outgoing] = {}
    for kafka in kafkas:
        for outgoing in kafka.events:
            kept.setdefault((outgoing.topic, outgoing.event.value["envelope"]["event_id"]), outgoing)
    return kept


class MissingTopicAdmin:
    """An ``AIOKafkaAdminClient`` whose cluster lists ``topics`` only (import-batch, import-cdr's first request)."""

    topics: Iterable[str] = ()

    def __init__(self, **_: object) -> None:
        pass

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def describe_cluster(self) -> dict[str, str]:
        return {"cluster_id": "test-cluster"}

    async def list_topics(self) -> list[str]:
        return list(self.topics)


class ClusterWithoutTopics:
    """An ``EventProducer`` on a broker that answers and lists none of the topics asked for."""

    def __init__(self, *_: object) -> None:
        self.stopped = False

    async def start(self, wait_for_broker: bool = True) -> None:
        return None

    async def require_topics(self, names: Sequence[str]) -> None:
        raise MissingTopicError(list(names))

    async def stop(self) -> None:
        self.stopped = True
