"""A contact an operator's split moved counts once, under its new customer, on a real broker (#8 point 7).

``omnibus kpis run`` reads ``customer.contacts.v1`` as identity writes it: the son's and the father's calls under the
wrongly merged customer (the father's call made the son's a repeat), then the father's call re-published under the
split-off customer with the ``omnibus-moved-from`` header, twice (a redelivered split). The two customer keys are on
different partitions, so the release travels through ``kpi.merges.v1``. The day's latest aggregate ends with two
identified contacts, both first-contact resolved, no repeat.
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
from tests.processors.kpis.test_ledger import moved
from tests.support.kafka_io import read_events
from tests.support.processes import assert_clean_exit, omnibus_command
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

SON, FATHER = "cus_son", "cus_father"
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
