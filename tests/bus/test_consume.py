"""``bus.consume.RecordDecoder``: a record its topic does not carry is dead-lettered, not skipped unseen (#13)."""

from __future__ import annotations

from typing import Any

from bus.consume import RecordDecoder, carried_by
from bus.dead_letter import dead_letter_event
from bus.errors import RawRecord
from bus.serde import SerdeContext, build_serde
from bus.config import RegistrySettings
from tests.support.samples import identifiers_observed

SERIALIZER, DESERIALIZER = build_serde(RegistrySettings())


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
