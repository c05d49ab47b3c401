"""The directory feed's reader rule for tombstones, without a broker: an evicted identifier is unassigned,
and a row of its old version written late (a stale worker) does not assign it again."""

from __future__ import annotations

from datetime import UTC, datetime

from bus.config import RegistrySettings
from bus.serde import Event, SerdeContext, build_serde
from processors.handoffs.directory import CustomerDirectory
from processors.handoffs.directory_feed import DirectoryFeed
from processors.identity.assignments import tombstone_headers
from tests.support.settings import isolated_settings

SERIALIZER, DESERIALIZER = build_serde(RegistrySettings())
KEY = "EMAIL:ana@example.org"


def row(customer: str, version: int) -> bytes:
    value = {"identifier": {"type": "EMAIL", "value": "ana@example.org"}, "customer_id": customer,
             "assigned_at": datetime(2025, 3, 1, tzinfo=UTC), "assigned_by_event_id": None, "version": version}
    return SERIALIZER(Event("omnibus.identity.IdentifierAssignment", value), SerdeContext(topic="ids"))


def test_a_versioned_tombstone_unassigns_and_keeps_stale_rows_out() -> None:
    directory = CustomerDirectory()
    feed = DirectoryFeed(isolated_settings("localhost:9"), directory, DESERIALIZER)
    topic = feed.identifiers_topic
    feed.apply(topic, KEY.encode(), row("cus_1", 2))
    assert directory.customer_of(({"type": "EMAIL", "value": "ana@example.org"},)) == "cus_1"
    feed.apply(topic, KEY.encode(), None, headers=tombstone_headers(3))
    feed.apply(topic, KEY.encode(), row("cus_1", 3))  # written late by a worker that lost the partition
    assert directory.customer_of(({"type": "EMAIL", "value": "ana@example.org"},)) is None
    feed.apply(topic, KEY.encode(), row("cus_2", 4))  # assigned again afterwards
    assert directory.customer_of(({"type": "EMAIL", "value": "ana@example.org"},)) == "cus_2"
