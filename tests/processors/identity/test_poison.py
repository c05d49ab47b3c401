"""#13 case 5 on the real broker: poison written straight into identity's input topics while it runs.

Each poison record must end as a dead letter (with the original bytes) and the valid events around it
must still be processed; the group's committed offsets must reach the end of every input (nothing
committed past without being recorded).
"""

from __future__ import annotations

import pytest

from bus.dead_letter import dead_letter_event
from bus.errors import RawRecord
from bus.producer import Outgoing
from bus.serde import SerdeContext, build_serde
from bus.topics import CONTACT_EVENTS, IDENTIFIERS_OBSERVED
from processors.identity.intake import MAX_SAGA_BYTES
from tests.processors.identity.broker import WorkerFactory, assignments
from tests.processors.identity.support import interaction, observed, unlimited_settings
from tests.support.kafka_io import read_dead_letters
from tests.support.poison import send_with_header_key

pytestmark = pytest.mark.kafka


@pytest.mark.timeout(180)
async def test_poison_on_the_inputs_is_dead_lettered_and_the_events_around_it_are_processed(
    bootstrap_servers: str, identity_worker: WorkerFactory
) -> None:
    stranger = dead_letter_event(RawRecord(value=b"x", topic="elsewhere"), reason="r", error_type="E", component="c")
    huge = interaction([("EMAIL", "huge@example.org")])
    huge.value["properties"] = {"notes": "n" * 900_000}
    async with identity_worker(unlimited_settings(), partitions=1) as run:
        settings, producer = run.config, run.producer
        observed_topic, contact_topic = IDENTIFIERS_OBSERVED.name(settings.topics), CONTACT_EVENTS.name(settings.topics)
        serializer, _ = build_serde(settings.registry)
        header_poison = serializer(observed([("EMAIL", "header@example.org")]), SerdeContext(topic=observed_topic))
        await producer.publish(Outgoing(observed_topic, "a", observed([("EMAIL", "a@example.org")])))
        await send_with_header_key(bootstrap_servers, observed_topic, 0, b"p", header_poison, b"\xff\xfe")
        await producer.publish(Outgoing(observed_topic, "dl", stranger))
        await producer.publish(Outgoing(contact_topic, "huge", huge))
        await producer.publish(Outgoing(observed_topic, "c", observed([("EMAIL", "c@example.org")])))
        await producer.publish(Outgoing(contact_topic, "d", interaction([("EMAIL", "d@example.org")])))
        await run.quiet()
    owners = await assignments(settings)
    assert {"EMAIL:a@example.org", "EMAIL:c@example.org", "EMAIL:d@example.org"} <= set(owners)
    letters = {letter["source_offset"] if letter["source_topic"] == observed_topic else "huge": letter
               for letter in await read_dead_letters(settings)}
    assert sorted(letters, key=str) == [1, 2, "huge"]
    assert letters[1]["headers"][0]["key_bytes"] == b"\xff\xfe" and letters[1]["value"] == header_poison
    assert "header key is not UTF-8" in letters[1]["reason"]
    assert "does not belong on this topic" in letters[2]["reason"]  # a DeadLetter on an input topic
    assert letters["huge"]["error_type"] == "EventTooLarge" and str(MAX_SAGA_BYTES) in letters["huge"]["reason"]
    assert len(letters["huge"]["value"]) > 900_000
