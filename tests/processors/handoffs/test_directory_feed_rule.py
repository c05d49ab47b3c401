"""The directory follows ``customer.identifiers.v1`` by the reader rule: a stale row written last is ignored (#13)."""

from __future__ import annotations

from datetime import UTC, datetime

from bus.serde import Event, SerdeContext, SingleObjectDeserializer, SingleObjectSerializer
from processors.handoffs.directory import CustomerDirectory
from processors.handoffs.directory_feed import DirectoryFeed
from schemas.catalog import default_catalog
from tests.support.settings import isolated_settings


def test_a_row_of_a_lower_version_does_not_move_the_identifier_back() -> None:
    catalog = default_catalog()
    settings = isolated_settings("localhost:9")
    directory = CustomerDirectory()
    feed = DirectoryFeed(settings, directory, SingleObjectDeserializer(catalog))
    topic = feed.identifiers_topic

    def row(customer: str, version: int) -> bytes:
        event = Event("omnibus.identity.IdentifierAssignment", {
            "identifier": {"type": "EMAIL", "value": "a@example.org"}, "customer_id": customer,
            "assigned_at": datetime.now(UTC), "assigned_by_event_id": None, "version": version})
        return SingleObjectSerializer(catalog)(event, SerdeContext(topic=topic))

    key = b"EMAIL:a@example.org"
    feed.apply(topic, key, row("cus_b", 1))
    feed.apply(topic, key, row("cus_a", 2))  # merged into the older customer
    feed.apply(topic, key, row("cus_b", 1))  # the paused worker resumes and writes its old row
    assert directory.customer_of(({"type": "EMAIL", "value": "a@example.org"},)) == "cus_a"
    feed.apply(topic, key, None)
    feed.apply(topic, key, row("cus_c", 1))  # after a tombstone any row counts again
    assert directory.customer_of(({"type": "EMAIL", "value": "a@example.org"},)) == "cus_c"
