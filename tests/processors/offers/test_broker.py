"""End to end on the real broker: one offer, every channel, answered on the web, withdrawn everywhere.

Runs the demo's middleware (web, branch and call-center adapters; identity, handoffs and offer
processors) on the test broker under a fresh topic prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from bus.config import OmnibusSettings, load_settings
from bus.serde import Event, SerdeContext, build_serde
from bus.topic_admin import apply_topics
from bus.topics import MARKETING_INSTRUCTIONS_BRANCH, MARKETING_INSTRUCTIONS_CALL_CENTER, TopicSpec
from demo.services import WRITE_KEY, running_middleware
from processors.offers.campaigns import publish
from tests.processors.offers.factories import offer

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]
EMAIL, PHONE, USER = "ana.lima@example.org", "+8613912345678", "u-offers-1"


class Instructions:
    """Every instruction on the push channels' topics, from offset 0, with the instant it was seen."""

    def __init__(self, settings: OmnibusSettings, specs: tuple[TopicSpec, ...]) -> None:
        self.settings, self.specs = settings, specs
        self.seen: list[tuple[float, str, Event]] = []
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        _, deserializer = build_serde(self.settings.registry)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka.bootstrap_servers, group_id=None,
                                    enable_auto_commit=False, fetch_max_wait_ms=20)
        await consumer.start()
        tps = [TopicPartition(spec.name(self.settings.topics), p) for spec in self.specs
               for p in range(spec.partition_count(self.settings.topics))]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)

        async def run() -> None:
            try:
                while True:
                    for tp, messages in (await consumer.getmany(timeout_ms=50)).items():
                        for m in messages:
                            event = deserializer(m.value, SerdeContext(topic=tp.topic))
                            self.seen.append((time.monotonic(), event.value["channel"], event))
            finally:
                await consumer.stop()

        self._task = asyncio.create_task(run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def of(self, channel: str, action: str) -> list[tuple[float, Event]]:
        return [(at, e) for at, c, e in self.seen if c == channel and e.value["action"] == action]


async def until(check: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise TimeoutError(f"waited {timeout_s} s for {what}")


async def get_json(http: aiohttp.ClientSession, url: str, **params: str) -> dict[str, Any] | None:
    async with http.get(url, params=params) as response:
        return await response.json() if response.status == 200 else None


async def test_accepted_on_the_web_is_withdrawn_from_every_channel(bootstrap_servers: str, tmp_path: Any) -> None:
    settings = load_settings(kafka={"bootstrap_servers": bootstrap_servers},
                             topics={"prefix": f"offers{uuid.uuid4().hex[:6]}", "partitions": 3},
                             metrics={"port": 0}, log={"level": "WARNING"})
    await apply_topics(settings)
    watcher = Instructions(settings, (MARKETING_INSTRUCTIONS_CALL_CENTER, MARKETING_INSTRUCTIONS_BRANCH))
    await watcher.start()
    auth = {"Authorization": aiohttp.encode_basic_auth(WRITE_KEY, "")}
    now = datetime.now(UTC).isoformat()
    try:
        async with running_middleware(settings, tmp_path) as endpoints, aiohttp.ClientSession() as http:
            identify = {"type": "identify", "messageId": "id-1", "userId": USER, "timestamp": now,
                        "traits": {"email": EMAIL, "phone": PHONE}}
            async with http.post(f"{endpoints.web}/v1/identify", json=identify, headers=auth) as response:
                assert response.status == 200, await response.text()
            await publish(settings, [offer("fibre-upgrade", title="Fibre 1 Gbit/s", priority=10,
                                           content={"default": "Twice the speed", "CALL_CENTER": "Script: upgrade"})])

            # published once: on the web query, the counter's query and instruction topic, the call center's
            lookup = f"{endpoints.offers}/customers/lookup/offers"
            async def offered(channel: str, **identifier: str) -> dict[str, Any] | None:
                found = await get_json(http, lookup, channel=channel, **identifier)
                return found if found and found["offers"] else None

            web = await until(lambda: offered("WEB", type="EMAIL", value=EMAIL), 60, "the web query")
            assert [o["offer_id"] for o in web["offers"]] == ["fibre-upgrade"] and web["offers"][0]["content"] == "Twice the speed"
            counter = await offered("BRANCH", type="PHONE", value=PHONE)
            assert [o["offer_id"] for o in counter["offers"]] == ["fibre-upgrade"]
            await until(lambda: asyncio.sleep(0, bool(watcher.of("CALL_CENTER", "SHOW") and watcher.of("BRANCH", "SHOW"))),
                        30, "SHOW instructions")
            (_, show), = watcher.of("CALL_CENTER", "SHOW")
            assert show.value["customer_id"] == web["customer_id"] and show.value["content"] == "Script: upgrade"
            pop_url = f"{endpoints.screen_pop}/customers/lookup"

            async def pop_offers() -> list[str] | None:
                found = await get_json(http, pop_url, type="EMAIL", value=EMAIL)
                return [o["offer_id"] for o in (found or {}).get("eligible_offers") or []] or None

            assert await until(pop_offers, 30, "the screen pop's eligible offers") == ["fibre-upgrade"]

            # the customer accepts on the web
            accepted = {"type": "track", "messageId": "acc-1", "userId": USER, "event": "Offer Accepted",
                        "timestamp": datetime.now(UTC).isoformat(),
                        "properties": {"offer_id": "fibre-upgrade", "offer_version": 1}}
            sent = time.monotonic()
            async with http.post(f"{endpoints.web}/v1/track", json=accepted, headers=auth) as response:
                assert response.status == 200, await response.text()
            await until(lambda: asyncio.sleep(0, bool(watcher.of("CALL_CENTER", "WITHDRAW") and watcher.of("BRANCH", "WITHDRAW"))),
                        10, "WITHDRAW instructions")
            withdrawn_at = max(watcher.of(c, "WITHDRAW")[0][0] for c in ("CALL_CENTER", "BRANCH"))
            assert withdrawn_at - sent < 1.0, f"withdrawn {withdrawn_at - sent:.3f} s after the answer"
            (_, withdraw), = watcher.of("CALL_CENTER", "WITHDRAW")
            assert (withdraw.value["reason"], withdraw.value["answered_channel"]) == ("ACCEPTED", "WEB")

            for channel in ("WEB", "BRANCH", "CALL_CENTER"):
                assert (await get_json(http, lookup, type="EMAIL", value=EMAIL, channel=channel))["offers"] == []
            deadline = time.monotonic() + 10
            while await pop_offers() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert await pop_offers() is None, "the call center's screen pop still lists the accepted offer"
    finally:
        await watcher.stop()
