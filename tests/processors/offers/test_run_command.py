"""``omnibus offers run`` as operators start it: a worker that pushes a published offer, then SIGTERM."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.topics import (
    CUSTOMER_EVENTS,
    MARKETING_INSTRUCTIONS_CALL_CENTER,
    MARKETING_OFFERS,
)
from omnibus.cli import app
from processors.offers.campaigns import defined
from tests.processors.offers.factories import envelope, offer
from tests.support.kafka_io import one_per_event_id, read_events
from tests.support.processes import assert_clean_exit, omnibus_command
from tests.support.settings import settings_with_topics


def test_a_bad_setting_exits_2_with_one_line() -> None:
    result = CliRunner().invoke(app, ["offers", "run"], env={"OMNIBUS_PROCESSOR_OFFERS__DEFAULT_TIMEZONE": "Mars/Base"})
    assert result.exit_code == 2 and "Mars/Base" in result.output


@pytest.mark.kafka
@pytest.mark.timeout(180)
async def test_the_worker_pushes_a_published_offer_and_stops_on_sigterm(bootstrap_servers: str, tmp_path: Path) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=2)
    env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": config.topics.prefix,
           "OMNIBUS_TOPICS__PARTITIONS": "2", "OMNIBUS_METRICS__PORT": "0",  # port 0: bound by the worker itself
           "OMNIBUS_PROCESSOR_OFFERS__WEB_PORT": "0", "OMNIBUS_PROCESSOR_OFFERS__POLICY": '{"quiet_hours": null}'}

    def shown() -> list:
        landed = asyncio.run(read_events(config, MARKETING_INSTRUCTIONS_CALL_CENTER))
        return [e for e in one_per_event_id(landed) if e.event.value["action"] == "SHOW"]

    with omnibus_command(["offers", "run"], env, tmp_path) as worker:
        serializer, _ = build_serde(config.registry)
        async with EventProducer(config, serializer) as producer:
            await producer.publish(Outgoing(CUSTOMER_EVENTS.name(config.topics), "cus_1", Event(
                "omnibus.identity.CustomerCreated", {
                    "envelope": envelope("ev-1", datetime.now(UTC)), "customer_id": "cus_1",
                    "identifiers": [{"type": "EMAIL", "value": "a@example.org"}],
                    "lineage": {"triggering_event_id": "ev-0", "channel": "WEB", "rule": "co-observed"}})))
            await producer.publish(Outgoing(MARKETING_OFFERS.name(config.topics), "fibre", defined(offer("fibre"))))
        (show,) = await asyncio.to_thread(worker.wait_for, shown, "the SHOW instruction")
        assert show.key == "cus_1" and show.event.value["offer_id"] == "fibre"
    assert_clean_exit(worker)
