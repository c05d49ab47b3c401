"""tester32 F9 end to end on the real broker: an offer on the web, the counter, SMS and e-mail with its own cap of one
contact a day is pushed by SMS only (the e-mail held back, the pull query says why), and the counter pitch that
fills the cap withdraws the SMS from the gateway's topic, and the counter's own SHOW, with reason ``CAPPED``.

Runs the demo's middleware (adapters; identity, handoffs and offer processors) under a fresh topic prefix; the
gateways are this test, reading the instruction topics as processors/offers/README.md ("Outbound pushes") says.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from demo.offers import InstructionWatch
from demo.services import running_middleware
from processors.offers.campaigns import publish
from tests.processors.offers.factories import offer
from tests.processors.offers.test_broker import get_json, until
from tests.processors.offers.test_broker_outbound import counter_offer, identify
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]
EMAIL, PHONE, USER = "pedro.ruiz@example.es", "+34612345678", "u-caps-1"


async def test_tester32_f9_one_push_a_day_and_the_counter_pitch_withdraws_it(bootstrap_servers: str,
                                                                              tmp_path: Any) -> None:
    settings = await settings_with_topics(bootstrap_servers, log={"level": "WARNING"})
    watcher = InstructionWatch(settings)
    await watcher.start()
    try:
        async with running_middleware(settings, tmp_path) as endpoints, aiohttp.ClientSession() as http:
            await identify(http, endpoints.web, USER, EMAIL, PHONE)
            await publish(settings, [offer("tarjeta-oro", channels=["WEB", "BRANCH", "SMS", "EMAIL"],
                                           caps=[{"max": 1, "per": "1d"}])])
            lookup = f"{endpoints.offers}/customers/lookup/offers"

            async def held_back(channel: str) -> Any:
                found = await get_json(http, lookup, channel=channel, type="EMAIL", value=EMAIL)
                return found if found and [(s["offer_id"], s["reason"]) for s in found["suppressed"]] == [
                    ("tarjeta-oro", "offer_cap")] else None

            customer = (await until(lambda: held_back("EMAIL"), 60, "the e-mail held back by the SMS"))["customer_id"]
            await until(lambda: asyncio.sleep(0, bool(watcher.of(customer, "SMS", "SHOW"))), 60, "the SMS SHOW")
            web = await get_json(http, lookup, channel="WEB", type="EMAIL", value=EMAIL)
            assert web and [o["offer_id"] for o in web["offers"]] == ["tarjeta-oro"]  # a customer who is there

            await counter_offer(http, endpoints.branch, "caps-1", EMAIL, "tarjeta-oro", "presented")
            await until(lambda: asyncio.sleep(0, bool(watcher.of(customer, "SMS", "WITHDRAW"))), 60, "the SMS WITHDRAW")
            (_, withdraw), = watcher.of(customer, "SMS", "WITHDRAW")
            assert withdraw.value["reason"] == "CAPPED"
            # the counter's own SHOW too: the clerk's screen follows the cap like the counter's pull query
            await until(lambda: asyncio.sleep(0, bool(watcher.of(customer, "BRANCH", "WITHDRAW"))), 60,
                        "the counter's WITHDRAW")
            (_, clerk), = watcher.of(customer, "BRANCH", "WITHDRAW")
            assert clerk.value["reason"] == "CAPPED"
            await until(lambda: held_back("SMS"), 30, "the SMS held back by the counter pitch")
            assert not watcher.of(customer, "EMAIL", "SHOW")  # never two pushes for one allowed contact
    finally:
        await watcher.stop()
