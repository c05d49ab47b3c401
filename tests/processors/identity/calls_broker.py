"""What the broker tests of household calls share (``test_housemate_call.py``, ``test_twin_call.py``): the records
published as the adapters would, and the call's customer on ``customer.contacts.v1`` after merges.

Read after the workers are quiet, counted per event id (``one_per_event_id``: a replayed batch publishes again under
the same ids), never by timing."""

from __future__ import annotations

from collections.abc import Mapping

from bus.config import OmnibusSettings
from bus.producer import Outgoing
from bus.serde import Event
from bus.topics import CONTACT_EVENTS, CUSTOMER_CONTACTS, CUSTOMER_EVENTS, IDENTIFIERS_OBSERVED
from tests.support.kafka_io import one_per_event_id, read_events

FAMILY_PHONE_KEY = "PHONE:+33600000001"  # the record key the adapters give a call from the family phone


def batch(config: OmnibusSettings, events: Mapping[str, tuple[Event, str]], *names: str) -> list[Outgoing]:
    """The records ``names`` of ``events`` (name -> (event, logical topic)) on their topics, keyed by the phone."""
    topics = {"contact.events.v1": CONTACT_EVENTS.name(config.topics),
              "identity.observed.v1": IDENTIFIERS_OBSERVED.name(config.topics)}
    return [Outgoing(topics[topic], FAMILY_PHONE_KEY, event) for event, topic in (events[name] for name in names)]


async def survivors(config: OmnibusSettings) -> dict[str, str]:
    """Merged customer id -> its survivor, from ``CustomerMerged`` on ``customer.events.v1``."""
    return {landed.event.value["merged_customer_id"]: landed.event.value["survivor_customer_id"]
            for landed in one_per_event_id(await read_events(config, CUSTOMER_EVENTS))
            if landed.event.schema.endswith("CustomerMerged")}


def root(survivor: Mapping[str, str], customer: str | None) -> str | None:
    """Where a customer id leads after merges (subscribers re-key on ``CustomerMerged``)."""
    while customer in survivor:
        customer = survivor[customer]
    return customer


async def contact_keys(config: OmnibusSettings, event_id: str) -> list[str | None]:
    """The customer ids the contact ``event_id`` is keyed by on ``customer.contacts.v1``, once per event id."""
    return [landed.key for landed in one_per_event_id(await read_events(config, CUSTOMER_CONTACTS))
            if landed.event.value["envelope"]["event_id"] == event_id]
