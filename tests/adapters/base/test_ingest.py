"""``adapters.base.ingest``: every event is Avro-encoded once, and the bytes checked are the bytes published."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.base.dedupe import DedupeStore
from adapters.base.errors import RejectedInput
from adapters.base.ingest import Item, ingest
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from bus.config import OmnibusSettings
from bus.envelope import source_envelope
from bus.errors import RawRecord
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde


class CountingKafka(EventProducer):
    """The real producer's encoding; ``publish_many`` keeps what it was handed instead of sending."""

    def __init__(self) -> None:
        serializer, _ = build_serde(OmnibusSettings().registry)
        self.encodings = 0
        self.published: list[bytes] = []

        def counted(event, ctx):  # type: ignore[no-untyped-def]
            self.encodings += 1
            return serializer(event, ctx)

        super().__init__(OmnibusSettings(), counted)

    async def publish_many(self, items, encoded=None, batched=False):  # type: ignore[no-untyped-def,override]
        if encoded is None:
            encoded = [await self.encode(item) for item in items]
        self.published.extend(encoded)
        return [None] * len(items)


class DeadLetters:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    async def write(self, record: RawRecord, *, reason: str, error_type: str) -> None:
        self.reasons.append(reason)


def interaction(n: int, name: object = "Invoice Downloaded") -> MappedRecord:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    value = {
        "envelope": source_envelope(source_system="web", channel="WEB", source_event_id=f"m-{n}", occurred_at=at,
                                    received_at=at),
        "interaction_id": f"m-{n}", "customer_identifiers": [], "kind": "WEB_EVENT", "name": name,
        "outcome": "NOT_APPLICABLE", "agent_id": None, "duration_ms": None, "properties": {},
    }
    return MappedRecord(f"web:m-{n}", (Outgoing("contacts", "k", Event("omnibus.contact.InteractionRecorded", value)),))


async def test_each_event_is_encoded_once_and_a_schema_misfit_costs_only_its_record() -> None:
    kafka, dead_letters = CountingKafka(), DeadLetters()
    publisher = AdapterPublisher("test", kafka, DedupeStore(None, 60), dead_letters, retry_after_s=1)  # type: ignore[arg-type]
    records = [interaction(0), interaction(1, name=42), interaction(2)]
    items = [Item(record, lambda: RawRecord(value=b"raw")) for record in records]

    outcome = await ingest(publisher, items, lambda _, record: record)

    assert [index for index, _ in outcome.accepted] == [0, 2]
    assert [(index, error.code) for index, error in outcome.refused] == [(1, "unmappable")]
    assert len(dead_letters.reasons) == 1 and isinstance(outcome.refused[0][1], RejectedInput)
    assert kafka.encodings == 3  # one per event, the misfit included; none again at publishing
    assert kafka.published == [record.encoded[0] for _, record in outcome.accepted]


def test_a_partly_refused_request_says_how_many_were_accepted_and_nothing_when_none_was() -> None:
    """A new user read "1 of 1 events rejected (the others were accepted)"."""
    from adapters.base.ingest import partly_rejected

    assert partly_rejected(1, 0, "events", "event 0: bad") == "1 of 1 events rejected: event 0: bad"
    assert partly_rejected(1, 1, "messages", "x") == "1 of 2 messages rejected (the other 1 was accepted): x"
    assert partly_rejected(2, 3, "events", "x") == "2 of 5 events rejected (the other 3 were accepted): x"
