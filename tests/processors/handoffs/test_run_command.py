"""``omnibus handoffs run`` as operators start it: a process that routes a new handoff, then SIGTERM."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import HANDOFF_EVENTS
from tests.processors.handoffs.factories import created
from tests.support.kafka_io import one_per_event_id, read_events
from tests.support.processes import assert_clean_exit, omnibus_command
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]


async def test_the_tracker_routes_a_new_handoff_and_stops_on_sigterm(bootstrap_servers: str, tmp_path: Path) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=2)
    env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": config.topics.prefix,
           "OMNIBUS_TOPICS__PARTITIONS": "2", "OMNIBUS_METRICS__PORT": "0"}  # bound by the tracker itself

    def routed() -> list:
        landed = asyncio.run(read_events(config, HANDOFF_EVENTS))
        return [e for e in one_per_event_id(landed) if e.event.schema == "omnibus.handoff.HandoffRouted"]

    with omnibus_command(["handoffs", "run"], env, tmp_path) as tracker:
        serializer, _ = build_serde(config.registry)
        async with EventProducer(config, serializer) as producer:
            await producer.publish(Outgoing(HANDOFF_EVENTS.name(config.topics), "H-1", created("H-1")))
        (route,) = await asyncio.to_thread(tracker.wait_for, routed, "the handoff to be routed")
        assert route.event.value["handoff_id"] == "H-1" and route.key == "H-1"
    assert_clean_exit(tracker)
    assert not list(tmp_path.iterdir()), "the tracker wrote into its working directory"
