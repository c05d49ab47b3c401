"""A contact an operator's split moved counts once, under its new customer, on a real broker (#8 point 7).

``omnibus kpis run`` reads ``customer.contacts.v1`` as identity writes it: the son's and the father's calls under the
wrongly merged customer (the father's call made the son's a repeat), then the father's call re-published under the
split-off customer with the ``omnibus-moved-from`` header, twice (a redelivered split). The two customer keys are on
different partitions, so the release travels through ``kpi.merges.v1``. The day's latest aggregate ends with two
identified contacts, both first-contact resolved, no repeat.

And a corrected counter transaction identity moved to its first upload's customer, whose other customer then merges
into that one (``ContactMoved`` rule ``corrected-version``, then ``CustomerMerged``): the merge's hand-over through
``kpi.merges.v1`` leaves the moved visit counted once on the survivor, not zero times.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bus.partitioner import murmur2_positive
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topic_admin import apply_topics
from bus.topics import CUSTOMER_CONTACTS, KPI_AGGREGATES, MOVED_FROM_HEADER
from processors.kpis.agent import changelogs
from tests.processors.kpis.factories import interaction
from tests.processors.kpis.test_ledger import merged, moved
from tests.support.contact_versions import counter_version
from tests.support.kafka_io import read_events
from tests.support.processes import assert_clean_exit, omnibus_command
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

SON, FATHER = "cus_son", "cus_father"
MINUTE = timedelta(minutes=1)
EXPECTED = {"identified_contacts": 2, "fcr_eligible": 2, "fcr_resolved": 2, "repeat_contacts_7d": 0}


async def test_a_moved_contact_counts_once_under_its_new_customer(bootstrap_servers: str, tmp_path: Path) -> None:
    assert murmur2_positive(SON.encode()) % 2 != murmur2_positive(FATHER.encode()) % 2  # two partitions
    config = await settings_with_topics(bootstrap_servers, partitions=2)
    await apply_topics(config, changelogs(config))
    env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": config.topics.prefix,
           "OMNIBUS_TOPICS__PARTITIONS": "2", "OMNIBUS_METRICS__PORT": "0",  # ports the worker binds itself
           "OMNIBUS_PROCESSOR_KPIS__WEB_PORT": "0", "OMNIBUS_PROCESSOR_KPIS__TICK_INTERVAL_S": "1"}
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    at = now - timedelta(hours=2) if now.hour >= 2 else now  # both calls on the same day
    son = interaction(at, outcome="RESOLVED", event_id="son-call")
    father = interaction(at + timedelta(minutes=30), outcome="RESOLVED", event_id="father-call")
    topic = CUSTOMER_CONTACTS.name(config.topics)

    def latest_day() -> dict[str, Any] | None:
        days = [landed.event.value for landed in asyncio.run(read_events(config, KPI_AGGREGATES))
                if landed.event.value["granularity"] == "DAY" and landed.event.value["channel"] == "CALL_CENTER"]
        return max(days, key=lambda value: value["revision"]) if days else None

    def counts(value: dict[str, Any] | None) -> dict[str, int]:
        return {name: (value or {}).get(name) or 0 for name in EXPECTED}

    with omnibus_command(["kpis", "run"], env, tmp_path) as worker:
        serializer, _ = build_serde(config.registry)
        async with EventProducer(config, serializer) as producer:
            await producer.publish_many([Outgoing(topic, SON, son), Outgoing(topic, SON, father)])
            await asyncio.to_thread(worker.wait_for, lambda: counts(latest_day())["repeat_contacts_7d"] == 1,
                                    "the wrongly merged customer's repeat", 120.0)
            header = ((MOVED_FROM_HEADER, SON.encode()),)
            for _ in range(2):  # the split's re-published contact, redelivered
                await producer.publish(Outgoing(topic, FATHER, moved(father), header))
        await asyncio.to_thread(worker.wait_for, lambda: counts(latest_day()) == EXPECTED, "one count per call",
                                120.0)
    assert_clean_exit(worker)
    assert counts(await asyncio.to_thread(latest_day)) == EXPECTED  # and stays so after the stop


FIRST, CORRECTION = "cus_a", "cus_b"  # the first upload's customer, the customer the correction made
ONE_VISIT = {"identified_contacts": 1, "fcr_eligible": 1, "fcr_resolved": 1, "repeat_contacts_7d": 0}


async def test_a_corrected_visit_moved_then_merged_counts_once(bootstrap_servers: str, tmp_path: Path) -> None:
    assert murmur2_positive(FIRST.encode()) % 2 != murmur2_positive(CORRECTION.encode()) % 2  # two partitions
    config = await settings_with_topics(bootstrap_servers, partitions=2)
    await apply_topics(config, changelogs(config))
    env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": config.topics.prefix,
           "OMNIBUS_TOPICS__PARTITIONS": "2", "OMNIBUS_METRICS__PORT": "0",  # ports the worker binds itself
           "OMNIBUS_PROCESSOR_KPIS__WEB_PORT": "0", "OMNIBUS_PROCESSOR_KPIS__TICK_INTERVAL_S": "1"}
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    at = now - timedelta(hours=2) if now.hour >= 2 else now  # both uploads on the same day
    first = counter_version("T-500", "g1", at, phone="+33612340011")
    corrected = counter_version("T-500", "g2", at + timedelta(minutes=10), phone="+33612340012")
    # a contact of the merged customer read after the merge, 7.5 days earlier (no repeat, within the horizon): it
    # reaches the survivor through kpi.merges.v1 after the merge's hand-over
    marker = interaction(at - timedelta(days=7, hours=12), channel="WEB", site=None, outcome="RESOLVED",
                         event_id="marker")
    topic = CUSTOMER_CONTACTS.name(config.topics)

    def latest(channel: str) -> dict[str, int]:
        days = [landed.event.value for landed in asyncio.run(read_events(config, KPI_AGGREGATES))
                if landed.event.value["granularity"] == "DAY" and landed.event.value["channel"] == channel]
        value = max(days, key=lambda value: value["revision"]) if days else {}
        return {name: value.get(name) or 0 for name in ONE_VISIT}

    with omnibus_command(["kpis", "run"], env, tmp_path) as worker:
        serializer, _ = build_serde(config.registry)
        async with EventProducer(config, serializer) as producer:
            await producer.publish_many([Outgoing(topic, FIRST, first), Outgoing(topic, CORRECTION, corrected)])
            await asyncio.to_thread(worker.wait_for, lambda: latest("BRANCH")["identified_contacts"] == 2,
                                    "each upload on its own customer", 120.0)
            header = ((MOVED_FROM_HEADER, CORRECTION.encode()),)
            await producer.publish(Outgoing(topic, FIRST, moved(corrected, "move-1"), header))
            await asyncio.to_thread(worker.wait_for, lambda: latest("BRANCH") == ONE_VISIT,
                                    "the moved version on the first customer only", 120.0)
            await producer.publish_many([Outgoing(topic, CORRECTION, merged(FIRST, CORRECTION, at + 11 * MINUTE)),
                                         Outgoing(topic, CORRECTION, marker)])
            await asyncio.to_thread(worker.wait_for, lambda: latest("WEB")["identified_contacts"] == 1,
                                    "the merged customer's later contact on the survivor", 120.0)
            assert await asyncio.to_thread(latest, "BRANCH") == ONE_VISIT  # before: 0 identified, 0 FCR-eligible
    assert_clean_exit(worker)
