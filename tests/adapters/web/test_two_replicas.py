"""F1 end to end: two web adapter processes on one real broker, as the two pods ``deploy/k8s`` runs behind one Service.

A portal reuses a messageId: "Bill Viewed" reaches one replica, "Bill Paid" under the same messageId the other, which
never saw the id. Both are answered 200 and land on ``contact.events.v1``, each under event ids of its own, so a
subscriber deduping on ``envelope.event_id`` (every processor does) keeps both; a re-send of "Bill Viewed" through a
third process (a pod replaced since: its dedupe store is empty) lands with the first one's event ids and is dropped by
that dedupe.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import pytest

from adapters.web.ingress import running_web_adapter
from bus.topics import CONTACT_EVENTS
from tests.adapters.web.support import basic_auth, web_settings
from tests.support.kafka_io import read_events
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]


def _track(event: str, sent_at: str) -> dict[str, Any]:
    return {"type": "track", "userId": "portal-f1", "messageId": "f1-reused", "event": event, "sentAt": sent_at,
            "properties": {"bill_id": "B-77"}}


async def test_another_event_under_a_used_message_id_on_the_other_replica_lands_under_its_own_event_ids(
    bootstrap_servers: str,
) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    auth = {"Authorization": basic_auth()}
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession())
        urls = []
        for _ in range(3):  # port 0: each process with a dedupe store of its own (in memory)
            server = await stack.enter_async_context(running_web_adapter(settings, web_settings()))
            urls.append(f"http://127.0.0.1:{server.port}/v1/track")
        for url, message in [(urls[0], _track("Bill Viewed", "2026-12-02T07:00:00Z")),
                             (urls[1], _track("Bill Paid", "2026-12-02T07:00:01Z")),
                             (urls[2], _track("Bill Viewed", "2026-12-02T07:00:02Z"))]:  # a re-send
            async with http.post(url, json=message, headers=auth) as response:
                assert response.status == 200, await response.text()

    landed = [item.event.value for item in await read_events(settings, CONTACT_EVENTS)
              if item.event.value["envelope"]["source_event_id"] == "f1-reused"]
    kept = {value["envelope"]["event_id"]: value["name"] for value in landed}  # a subscriber's dedupe
    assert len(landed) == 3 and sorted(kept.values()) == ["Bill Paid", "Bill Viewed"]


async def test_a_message_re_sent_with_its_ids_in_their_other_spelling_is_one_message_on_every_replica(
    bootstrap_servers: str,
) -> None:
    """tester48 F4 end to end: ``messageId: 424242`` with ``userId: 770002.0`` (JSON Schema's integer), then the same
    track with ``"424242"`` and ``"770002"``. The replica that published the first answers the re-send as a
    duplicate and publishes nothing; another replica publishes it under the first one's event ids, which a subscriber
    drops. Nothing is dead-lettered."""
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    auth = {"Authorization": basic_auth()}
    first = {"type": "track", "userId": 770002.0, "messageId": 424242, "event": "Bill Viewed",
             "sentAt": "2026-12-02T07:00:00Z", "properties": {"bill_id": "B-78"}}
    again = {**first, "userId": "770002", "messageId": "424242", "sentAt": "2026-12-02T07:00:05Z"}
    answers = []
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession())
        urls = []
        for _ in range(2):
            server = await stack.enter_async_context(running_web_adapter(settings, web_settings()))
            urls.append(f"http://127.0.0.1:{server.port}/v1/track")
        for url, message in [(urls[0], first), (urls[0], again), (urls[1], again)]:
            async with http.post(url, json=message, headers=auth) as response:
                answers.append((response.status, await response.json()))
    assert answers == [(200, {"success": True}), (200, {"success": True, "duplicates": 1}), (200, {"success": True})]

    landed = [item.event.value for item in await read_events(settings, CONTACT_EVENTS)
              if item.event.value["envelope"]["source_event_id"] == "424242"]
    assert len(landed) == 2 and len({value["envelope"]["event_id"] for value in landed}) == 1
    assert {value["interaction_id"] for value in landed} == {landed[0]["interaction_id"]}
    assert {identifier["value"] for value in landed for identifier in value["customer_identifiers"]} == {"770002"}
