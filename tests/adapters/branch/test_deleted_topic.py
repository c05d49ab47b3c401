"""Tester32 F10 on a real broker: an operator deletes the offer answers' topic while the branch adapter runs.

Before, the adapter stopped (status 75) and every counter visit was refused until a restart after `omnibus topics
apply`. Now a visit that records a pitch is answered 503 naming the topic (nothing of it published), a card dispute
goes on, the process is not stopped, and once the topic is applied again the pitch's retry is published."""

from __future__ import annotations

import asyncio
import copy
import json
from contextlib import AsyncExitStack
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from bus import topic_watch
from bus.kafka_client import connection_options
from bus.topic_admin import apply_topics
from bus.topics import CONTACT_EVENTS, MARKETING_RESPONSES
from tests.adapters.branch.support import TOKENS, sample, start_branch
from tests.support.kafka_io import read_events
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka


def visit(event_id: str, *, offer: bool) -> dict[str, Any]:
    upload = copy.deepcopy(sample("transaction_with_identifiers"))
    event = upload["events"][0]
    event["event_id"] = event_id
    event["transaction"]["id"] = f"TX-{event_id}"
    if offer:
        event["offer"] = {"offer_id": "gold-card", "offer_version": 1, "response": "presented"}
    return upload


async def delete(settings: Any, topic: str) -> None:
    admin = AIOKafkaAdminClient(**connection_options(settings.kafka))
    await admin.start()
    try:
        await admin.delete_topics([topic])
        for _ in range(300):
            if topic not in set(await admin.list_topics()):
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the deleted topic is still listed")
    finally:
        await admin.close()


async def test_a_deleted_offer_topic_refuses_the_pitch_and_keeps_the_dispute_intake(
        bootstrap_servers: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(topic_watch, "CHECK_EVERY_S", 0.5)
    monkeypatch.setattr(topic_watch, "GONE_AFTER_S", 1.0)
    killed: list[int] = []
    monkeypatch.setattr(topic_watch, "_exit_enabled", [True])  # as in the adapter's own process
    monkeypatch.setattr(topic_watch, "_gone", [])
    monkeypatch.setattr(topic_watch.os, "kill", lambda pid, signum: killed.append(signum))
    settings = await settings_with_topics(bootstrap_servers)
    responses = MARKETING_RESPONSES.name(settings.topics)
    async with AsyncExitStack() as stack:
        client = await start_branch(stack, settings)

        async def post(upload: dict[str, Any]) -> Any:
            return await client.post(json.dumps(upload).encode(), TOKENS[upload["terminal_id"]])

        assert (await post(visit("before", offer=True))).accepted
        await delete(settings, responses)
        await asyncio.sleep(3)  # the watch has seen it gone (every 0.5 s, gone after 1 s)

        refused = await post(visit("pitch", offer=True))
        assert (refused.status, refused.accepted) == (503, False), refused
        assert responses in (refused.reason or "") and "omnibus topics apply" in (refused.reason or "")
        assert refused.retry_after
        dispute = await post(visit("dispute", offer=False))
        assert dispute.accepted, dispute  # the intake of everything else goes on
        assert killed == []  # not stopped

        await apply_topics(settings)
        for _ in range(60):  # the watch lists it again within a check
            retried = await post(visit("pitch", offer=True))
            if retried.accepted:
                break
            await asyncio.sleep(0.5)
        assert retried.accepted, retried
        assert killed == []

    # the terminal's own ids (the published id names its terminal first: adapters.base.issuers)
    transactions = {landed.event.value.get("transaction_id").rsplit(":", 1)[-1]
                    for landed in await read_events(settings, CONTACT_EVENTS)
                    if landed.event.schema.endswith("CounterTransaction")}
    assert {"TX-before", "TX-dispute", "TX-pitch"} <= transactions, transactions
    pitches = [landed for landed in await read_events(settings, MARKETING_RESPONSES)
               if landed.event.schema.endswith("OfferPresented")]
    assert len(pitches) == 1  # the retry's (the topic was created empty again); the refused try published nothing
