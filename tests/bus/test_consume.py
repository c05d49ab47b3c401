"""``bus.consume.RecordDecoder``: a record its topic does not carry is dead-lettered, not skipped unseen (#13)."""

from __future__ import annotations

from typing import Any

from bus import registry_outage
from bus.config import RegistrySettings
from bus.consume import RecordDecoder, carried_by
from bus.dead_letter import dead_letter_event
from bus.errors import RawRecord, SchemaRegistryError
from bus.serde import ConfluentDeserializer, SerdeContext, build_serde
from bus.serde.avro_body import encode_body
from bus.serde.framing import CONFLUENT_HEADER
from schemas.catalog import default_catalog
from tests.support.samples import identifiers_observed

SERIALIZER, DESERIALIZER = build_serde(RegistrySettings())


def avro_body(event: Any) -> bytes:
    """The Avro body of ``event`` alone, without any framing."""
    return encode_body(default_catalog().get(event.schema).parsed, event.value, event.schema, b"")


class Letters:
    def __init__(self) -> None:
        self.errors: list[Any] = []

    async def write_error(self, error: Exception, record: RawRecord | None = None) -> None:
        self.errors.append(error)


def test_carried_by_reads_the_topic_registry_for_any_prefix() -> None:
    assert carried_by("acme.identity.observed.v1") == {"omnibus.contact.IdentifiersObserved"}
    assert carried_by("acme.identity.graph.v1") is None  # internal: no Avro records declared
    assert carried_by("test-1234") is None


async def test_a_valid_record_of_a_type_its_topic_does_not_carry_is_dead_lettered() -> None:
    letters = Letters()
    decoder = RecordDecoder(DESERIALIZER, letters)  # type: ignore[arg-type]
    topic = "acme.identity.observed.v1"
    stranger = dead_letter_event(RawRecord(value=b"x", topic="elsewhere"), reason="r", error_type="E", component="c")
    good = identifiers_observed("+8613800000001")
    records = [RawRecord(value=SERIALIZER(event, SerdeContext(topic=topic)), topic=topic, partition=0, offset=n)
               for n, event in enumerate((good, stranger))]
    assert (await decoder.decode(records[0])) is not None
    assert (await decoder.decode(records[1])) is None
    (error,) = letters.errors
    assert error.record.offset == 1 and "omnibus.deadletter.DeadLetter record does not belong" in str(error)
    assert (await decoder.decode(RawRecord(value=records[1].value, topic="test-1", partition=0, offset=2))) is not None


class FlakyRegistry:
    """A registry that holds one schema under id 1 and does not answer while ``down``."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema, self.down, self.lookups = schema, True, 0

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        self.lookups += 1
        if self.down:
            if self.lookups >= 3:
                self.down = False  # answers from the third look-up on
            raise SchemaRegistryError("schema registry at http://r unreachable: [Errno 111] Connection refused",
                                      retriable=True)
        if schema_id != 1:
            raise SchemaRegistryError(f"schema registry answered 404 to get schema id {schema_id}", status=404)
        return self.schema


async def test_a_record_met_during_a_registry_outage_waits_for_the_registry_and_is_not_dead_lettered(
        monkeypatch) -> None:
    """A registry restarted after the broker crashed every processor on its first uncached schema id (exit 1)."""
    slept: list[float] = []

    async def no_wait(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(registry_outage.asyncio, "sleep", no_wait)
    event = identifiers_observed("+8613800000001")
    schema = default_catalog().get(event.schema)
    registry = FlakyRegistry(schema.schema)
    letters = Letters()
    decoder = RecordDecoder(ConfluentDeserializer(default_catalog(), registry), letters)  # type: ignore[arg-type]
    topic = "acme.identity.observed.v1"
    framed = CONFLUENT_HEADER.pack(0, 1) + avro_body(event)
    decoded = await decoder.decode(RawRecord(value=framed, topic=topic, partition=0, offset=0))
    assert decoded == event and letters.errors == [] and len(slept) == 2
    assert not registry_outage.OUTAGE.ongoing()
    # a registry that answers "no such schema id" is not an outage: the record is poison, dead-lettered at once
    unknown = CONFLUENT_HEADER.pack(0, 9) + framed[CONFLUENT_HEADER.size:]
    assert (await decoder.decode(RawRecord(value=unknown, topic=topic, partition=0, offset=1))) is None
    (error,) = letters.errors
    assert "schema id 9 unknown to the registry" in str(error) and len(slept) == 2
