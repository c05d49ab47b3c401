"""The customer directory on a real broker, end to end with the real identity processor (#15).

Billing publishes a premium account for a customer; the same customer opens a service request on the
web hall without a tier. Identity resolution links the account, the e-mail and the web user id into one
customer; the tracker's directory learns it from ``customer.identifiers.v1`` and the digested business
events, so the handoff's deadline is the premium one (at creation, or re-timed once when the customer
resolves), and the customer's notification arrives keyed by their customer id on the web hall, addressed
to the user id seen there. The directory also reads identity's placement of the handoff (customer.contacts.v1).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bus.producer import EventProducer, Outgoing, Tombstone
from bus.serde import Event, build_serde
from bus.topics import (
    BUSINESS_EVENTS, CUSTOMER_IDENTIFIERS, HANDOFF_EVENTS, HANDOFF_NOTIFICATIONS, HANDOFF_TIER_FACTS,
)
from bus.clock import ManualClock
from processors.handoffs.config import HandoffPolicy, SlaPolicy, TierPolicy
from processors.handoffs.directory import CustomerDirectory
from processors.handoffs.tier_facts import tier_fact
from processors.handoffs.directory_feed import DirectoryFeed, tier_fact_record
from processors.identity.assignments import tombstone_headers
from tests.processors.handoffs.broker import Watcher, running_worker
from tests.processors.handoffs.factories import T0, accepted, created
from tests.processors.handoffs.test_customers import EMAIL, USER, opened
from tests.processors.identity.broker import assignments, running_workers
from tests.processors.identity.support import unlimited_settings
from tests.support.kafka_io import read_raw
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka
H = timedelta(hours=1)
POLICY = HandoffPolicy(sla=(SlaPolicy(service_tiers=("premium",), resolve_within_hours=4),))


async def test_a_premium_customer_from_billing_gets_the_premium_deadline_on_the_web_hall(
    bootstrap_servers: str, tmp_path: Path,
) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=3)
    serializer, _ = build_serde(settings.registry)
    clock = ManualClock(T0)
    watcher = Watcher(settings)
    await watcher.start()
    events_topic = HANDOFF_EVENTS.name(settings.topics)

    def status(handoff: str) -> list[dict]:
        return [e.value for e in watcher.events("HandoffStatusChanged") if e.value["handoff_id"] == handoff]

    async with running_workers(settings, unlimited_settings(), tmp_path, 1), \
            running_worker(settings, POLICY, clock) as worker, EventProducer(settings, serializer) as producer:
        account = opened("A-1", "premium")
        account.value["customer_identifiers"] = [{"type": "ACCOUNT", "value": "A-1"}, EMAIL]
        await producer.publish(Outgoing(BUSINESS_EVENTS.name(settings.topics), "A-1", account))
        # The web hall does not know the tier; it sends right away, racing identity resolution.
        await producer.publish(Outgoing(events_topic, "h1", created(
            "h1", tier=None, channel="WEB", case_type="service-request", identifiers=[EMAIL, USER])))
        await watcher.until(lambda: any(s["service_tier"] == "premium" and s["customer_id"] for s in status("h1")),
                            timeout_s=90, what="the premium tier from billing")
        premium = next(s for s in status("h1") if s["service_tier"] == "premium")
        assert premium["deadline_at"] == T0 + 4 * H  # premium: 4 working hours from T0, whichever path it took
        assert premium["deadline_lineage"]["tier_source"] == "CUSTOMER"
        assert premium["deadline_lineage"]["rule"] in ("sla", "customer-resolved")
        customer = premium["customer_id"]
        assert (await assignments(settings))["EMAIL:ana@example.org"] == customer  # identity's customer
        feed = worker.feed
        assert feed is not None  # identity's placement of the handoff, read from customer.contacts.v1
        assert await _until(lambda: (feed.directory.placed_on("h1") or ("",))[0] == customer)

        await producer.publish(Outgoing(events_topic, "h1", accepted("h1", T0 + 0.5 * H)))
        await watcher.until(lambda: any(e.value["kind"] == "IN_PROGRESS" for e in watcher.events("CustomerNotification")),
                            what="the IN_PROGRESS notification")
        assert worker.feed is not None and worker.feed.directory.ready

    notifications = await read_raw(bootstrap_servers, HANDOFF_NOTIFICATIONS.name(settings.topics))
    keys = {m.key.decode() for m in notifications}
    note = next(e.value for e in watcher.events("CustomerNotification") if e.value["kind"] == "IN_PROGRESS")
    assert customer in keys and note["customer_id"] == customer
    assert (note["channel"], note["address"], note["origin_channel"]) == ("WEB", USER, "WEB")
    assert keys <= {customer, "h1"}  # "h1" only for a RECEIVED sent before the customer was known
    await watcher.stop()


async def _until(predicate, timeout_s: float = 60.0) -> bool:  # type: ignore[no-untyped-def]  # ends when true
    for _ in range(int(timeout_s / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def test_the_feed_replicates_the_compacted_topics_and_skips_what_it_cannot_read(bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=3)
    serializer, deserializer = build_serde(settings.registry)
    identifiers = CUSTOMER_IDENTIFIERS.name(settings.topics)
    assignment = Event("omnibus.identity.IdentifierAssignment", {
        "identifier": EMAIL, "customer_id": "cus_1", "assigned_at": T0, "assigned_by_event_id": None})
    async with EventProducer(settings, serializer) as producer:
        await producer.publish(Outgoing(identifiers, "EMAIL:ana@example.org", assignment))
        await producer.send_raw(identifiers, b"PHONE:+33600000000", b"\x00 not avro")
        fact = tier_fact(opened("A-1", "gold"))
        assert fact is not None
        await producer.send_raw(HANDOFF_TIER_FACTS.name(settings.topics), *tier_fact_record(fact, TierPolicy()))
        directory = CustomerDirectory()
        feed = DirectoryFeed(settings, directory, deserializer, poll_ms=50)
        await feed.start()
        try:
            assert await _until(lambda: directory.ready)
            assert directory.customer_of((EMAIL,)) == "cus_1"  # the unreadable record cost only itself
            await producer.publish(Outgoing(identifiers, "ACCOUNT:A-1", Event(assignment.schema, {
                **assignment.value, "identifier": {"type": "ACCOUNT", "value": "A-1"}})))
            assert await _until(lambda: directory.tier_of("cus_1", POLICY.tiers) is not None)
            # A tombstone as identity publishes it for an evicted identifier: no value, its version in a header.
            await producer.publish(Tombstone(identifiers, "EMAIL:ana@example.org", tombstone_headers(1)))
            assert await _until(lambda: directory.customer_of((EMAIL,)) is None)  # a tombstone: unassigned
        finally:
            await feed.stop()
