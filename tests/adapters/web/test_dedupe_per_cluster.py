"""tester30 F9 end to end: a web adapter restarted on the same port and dedupe file but pointed at another Kafka
target (here another topic prefix on one broker: the target is the cluster id and the prefix, ``ImportTarget``) used
to answer the portal's re-sent message ``{"duplicates": 1}`` and publish nothing there, and refuse a service request
under a ``request_id`` that target never saw (``request_id_conflict``). Each target now remembers its own ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.web.ingress import running_web_adapter
from bus.config import OmnibusSettings
from bus.topics import CONTACT_EVENTS, IDENTIFIERS_OBSERVED
from tests.adapters.web.support import basic_auth, web_settings
from tests.support.kafka_io import read_events
from tests.support.ports import reserved_port
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]
IDENTIFY = {"type": "identify", "userId": "web-u-f9", "messageId": "m-mario-id-1", "traits": {"first_name": "Mario"}}


def request(message_id: str, summary: str) -> dict[str, Any]:
    return {"type": "track", "userId": "web-u-f9", "messageId": message_id, "event": "Service Request Submitted",
            "properties": {"case_type": "billing-dispute", "request_id": "RECL-2026-0001", "summary": summary}}


async def send(settings: OmnibusSettings, port: int, dedupe: Path, *messages: dict[str, Any]) -> list[tuple[int, Any]]:
    answers = []
    async with running_web_adapter(settings, web_settings(port=port, dedupe_path=dedupe)) as server, \
            aiohttp.ClientSession() as http:
        for message in messages:
            path = "/v1/identify" if message["type"] == "identify" else "/v1/track"
            async with http.post(f"http://127.0.0.1:{server.port}{path}", json=message,
                                 headers={"Authorization": basic_auth()}) as response:
                answers.append((response.status, await response.json()))
    return answers


async def test_tester30_f9_another_target_gets_what_the_portal_re_sends(bootstrap_servers: str, tmp_path: Path) -> None:
    first = await settings_with_topics(bootstrap_servers, partitions=1)
    rebuilt = await settings_with_topics(bootstrap_servers, partitions=1)
    with reserved_port() as port:  # held for the three starts on it: no other process can bind it between them
        await _three_starts(first, rebuilt, port, tmp_path / "web" / "dedupe.sqlite")


async def _three_starts(first: OmnibusSettings, rebuilt: OmnibusSettings, port: int, dedupe: Path) -> None:
    assert await send(first, port, dedupe, IDENTIFY, request("m-req-1", "bolletta doppia")) == [
        (200, {"success": True})] * 2
    # the same port and file, another target: the re-sent identify and a request under the same request_id land there
    assert await send(rebuilt, port, dedupe, IDENTIFY, request("m-req-2", "bolletta doppia, di nuovo")) == [
        (200, {"success": True})] * 2
    landed = {item.event.value["envelope"]["source_event_id"] for topic in (CONTACT_EVENTS, IDENTIFIERS_OBSERVED)
              for item in await read_events(rebuilt, topic)}
    assert landed == {"m-mario-id-1", "m-req-2"}, landed  # the identify (identifiers), the request (its contact)
    # the first target still remembers its own: a re-send there is a duplicate, as before
    assert await send(first, port, dedupe, IDENTIFY) == [(200, {"success": True, "duplicates": 1})]
