"""On the real broker: a Connect CTR whose contact attributes ask for a handoff opens one, the tracker routes it
by its case type, and a back office acknowledges it with ``omnibus handoffs acknowledge``. Counted per event id
(at-least-once: ``tests.support.kafka_io.one_per_event_id``), waited for by state, never by a fixed sleep."""

from __future__ import annotations

import asyncio
import copy
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from bus.clock import ManualClock
from bus.topics import HANDOFF_EVENTS
from omnibus.cli import app as omnibus
from processors.handoffs.config import HandoffPolicy, RoutingRule, Team
from tests.adapters.call_center.support import PARIS_KEY, sample
from tests.processors.handoffs.broker import running_worker
from tests.support.kafka_io import Landed, one_per_event_id, read_events
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]

POLICY = HandoffPolicy(teams=(Team(name="back-office"), Team(name="repair", receiving_system="repair-dispatch")),
                       routing=(RoutingRule(name="repairs", case_types=("line-repair",), team="repair"),))
NS = "omnibus.handoff."


async def _until(settings: Any, predicate: Any, what: str, timeout_s: float = 60.0) -> list[Landed]:
    deadline = time.monotonic() + timeout_s
    while True:
        landed = one_per_event_id(await read_events(settings, HANDOFF_EVENTS))
        if predicate(landed):
            return landed
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout_s} s for {what}: {[e.event.schema for e in landed]}")
        await asyncio.sleep(0.2)


def _of(landed: list[Landed], schema: str) -> list[Landed]:
    return [e for e in landed if e.event.schema == NS + schema]


async def test_a_call_opens_a_handoff_the_tracker_routes_and_the_cli_acknowledges(
    start_server: Any, bootstrap_servers: str
) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=2)
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**ctr["Attributes"], "omnibus_handoff_kind": "line-repair",
                         "omnibus_handoff_summary": "No power since the storm"}
    handoff_id = f"call:amazon-connect:{ctr['ContactId']}"
    _, session = await start_server(settings)
    async with running_worker(settings, POLICY, ManualClock(datetime(2024, 3, 5, 9, 20, tzinfo=UTC))):
        for _ in range(2):  # the platform re-sends the record: still one case
            async with session.post("/v1/connect/ctr", json=ctr,
                                    headers={"Authorization": f"Bearer {PARIS_KEY}"}) as response:
                assert response.status == 200, await response.text()
        landed = await _until(settings, lambda got: _of(got, "HandoffRouted"), "the handoff to be routed")
        (created,) = _of(landed, "HandoffCreated")
        (routed,) = _of(landed, "HandoffRouted")
        assert created.key == routed.key == handoff_id
        assert created.event.value["origin_channel"] == "CALL_CENTER" and created.event.value["customer_identifiers"]
        assert (routed.event.value["team"], routed.event.value["receiving_system"]) == ("repair", "repair-dispatch")

        env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix,
               "OMNIBUS_TOPICS__PARTITIONS": "2", "OMNIBUS_METRICS__ENABLED": "false"}
        command = ["handoffs", "acknowledge", handoff_id, "--by", "dispatcher-4", "--reference", "RD-118"]
        result = await asyncio.to_thread(CliRunner().invoke, omnibus, command, env=env)
        assert result.exit_code == 0, result.output
        assert "HandoffAcknowledged" in result.output and "omnibus handoffs show" in result.output

        def acknowledged(got: list[Landed]) -> bool:
            return any(e.event.value["acknowledged"] for e in _of(got, "HandoffStatusChanged"))

        landed = await _until(settings, acknowledged, "the acknowledgement to be applied")
        (ack,) = _of(landed, "HandoffAcknowledged")
        assert ack.key == handoff_id and ack.event.value["receiving_system"] == "repair-dispatch"
        assert ack.event.value["external_reference"] == "RD-118"
        shown = await asyncio.to_thread(CliRunner().invoke, omnibus, ["handoffs", "show", handoff_id], env=env)
        assert shown.exit_code == 0 and "ROUTED with team repair" in shown.output, shown.output
        assert " by dispatcher-4 (receiving system repair-dispatch, its case RD-118)\n" in shown.output, shown.output
    assert len(_of(landed, "HandoffCreated")) == 1
