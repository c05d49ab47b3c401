"""``omnibus kpis run`` as operators start it: a process that counts a contact, serves it, then SIGTERM."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bus.app import PORT_CHOSEN_EVENT
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topic_admin import apply_topics
from bus.topics import CONTACT_EVENTS, KPI_AGGREGATES
from processors.kpis.agent import changelogs
from tests.processors.kpis.factories import interaction
from tests.support.kafka_io import one_per_event_id, read_events
from tests.support.processes import assert_clean_exit, omnibus_command
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]


async def test_the_kpi_worker_counts_serves_and_stops_on_sigterm(bootstrap_servers: str, tmp_path: Path) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=2)
    await apply_topics(config, changelogs(config))  # faust's own, ahead of its start: no metadata race
    env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": config.topics.prefix,
           "OMNIBUS_TOPICS__PARTITIONS": "2", "OMNIBUS_METRICS__PORT": "0",  # port 0: bound by the worker itself
           "OMNIBUS_PROCESSOR_KPIS__WEB_PORT": "0", "OMNIBUS_PROCESSOR_KPIS__TICK_INTERVAL_S": "1"}

    def aggregates() -> list:
        landed = asyncio.run(read_events(config, KPI_AGGREGATES))
        return [e for e in one_per_event_id(landed) if e.event.value["granularity"] == "DAY" and e.event.value["contacts"] == 1]

    def served() -> dict | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{worker.port(PORT_CHOSEN_EVENT)}/kpis?granularity=DAY", timeout=5) as response:  # noqa: S310
                found = json.loads(response.read())["aggregates"]
        except OSError:
            return None
        return found[0] if found else None

    with omnibus_command(["kpis", "run"], env, tmp_path) as worker:
        serializer, _ = build_serde(config.registry)
        async with EventProducer(config, serializer) as producer:
            event = interaction(datetime.now(UTC), site="paris", outcome="RESOLVED")
            await producer.publish(Outgoing(CONTACT_EVENTS.name(config.topics), "c-1", event))
        (aggregate,) = await asyncio.to_thread(worker.wait_for, aggregates, "the day's aggregate")
        assert aggregate.event.value["site"] == "paris" and aggregate.event.value["revision"] >= 1
        window = await asyncio.to_thread(worker.wait_for, served, "/kpis to answer")
        assert window["counts"]["contacts"] == 1 and window["channel"] == "CALL_CENTER"
    assert_clean_exit(worker)
    assert not list(tmp_path.iterdir()), "the worker wrote into its working directory"
