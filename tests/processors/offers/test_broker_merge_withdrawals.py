"""On the real broker: a merge withdraws the merged customer's SHOWs (reason ``MERGED``, keyed by its id) and sends
the survivor no second WITHDRAW for an offer the survivor itself withdrew after the merged customer's SHOW (tester50
F1: the survivor got a second ``WITHDRAW DECLINED`` seconds after its first). Two callers (two phones), an offer
SHOWn to both on the agent's and the clerk's screens, the survivor (the smaller id: ``omnibus identity merge``
merges the larger into it) declines it on a call, then an operator merges the two.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from demo.offers import InstructionWatch
from demo.services import DEMO_HMAC_KEY, SITE_KEY, running_middleware
from processors.identity.cli_common import _publish
from processors.identity.config import IdentitySettings
from processors.identity.merge import merge_plan, merge_send
from processors.identity.merge_cli import _owners_survivors_and_current
from processors.identity.rules import LinkPolicy
from processors.offers.campaigns import publish
from tests.processors.offers.factories import offer
from tests.processors.offers.test_broker import get_json, until
from tests.processors.offers.test_broker_ctr_versions import _iso
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]
PHONES = ("+8613912345611", "+8613912345612")
CHANNELS = ("CALL_CENTER", "BRANCH")


def call(contact_id: str, phone: str, start: datetime, response: str | None = None) -> dict[str, Any]:
    """A call's CTR from ``phone``; with ``response``, the agent's answer to ``fibre-upgrade``."""
    connected, end = start + timedelta(seconds=20), start + timedelta(minutes=4)
    attributes = {"offer_id": "fibre-upgrade", "offer_version": "1", "offer_response": response} if response else {}
    return {
        "ContactId": contact_id, "Channel": "VOICE", "InitiationMethod": "INBOUND",
        "InitiationTimestamp": _iso(start), "DisconnectTimestamp": _iso(end), "LastUpdateTimestamp": _iso(end),
        "CustomerEndpoint": {"Address": phone, "Type": "TELEPHONE_NUMBER"},
        "Queue": {"Name": "sales", "EnqueueTimestamp": _iso(start + timedelta(seconds=5)),
                  "DequeueTimestamp": _iso(connected)},
        "Agent": {"Username": "agent7", "ConnectedToAgentTimestamp": _iso(connected)},
        "Attributes": attributes, "DisconnectReason": "AGENT_DISCONNECT",
    }


async def test_a_merge_withdraws_the_merged_shows_and_sends_the_survivor_no_second_withdrawal(
        bootstrap_servers: str, tmp_path: Any) -> None:
    settings = await settings_with_topics(bootstrap_servers, log={"level": "WARNING"})
    watcher = InstructionWatch(settings)
    await watcher.start()
    connect = {"X-Amz-Firehose-Access-Key": SITE_KEY}
    start = datetime.now(UTC) - timedelta(minutes=30)
    try:
        async with running_middleware(settings, tmp_path) as endpoints, aiohttp.ClientSession() as http:
            await publish(settings, [offer("fibre-upgrade", title="Fibre 1 Gbit/s", priority=10)])

            async def post(body: dict[str, Any]) -> None:
                async with http.post(f"{endpoints.call_center}/v1/connect/ctr", json=body, headers=connect) as answer:
                    assert answer.status == 200, await answer.text()

            for n, phone in enumerate(PHONES):
                await post(call(f"merge-call-{n}", phone, start + timedelta(minutes=n)))
            lookup = f"{endpoints.offers}/customers/lookup/offers"
            ids = []
            for phone in PHONES:
                found = await until(lambda phone=phone: get_json(http, lookup, channel="WEB", type="PHONE",
                                                                 value=phone), 60, "the caller's customer")
                ids.append(found["customer_id"])
            survivor, merged = sorted(ids)
            survivor_phone = PHONES[ids.index(survivor)]

            def of(customer: str, channel: str, action: str, reason: str | None = None) -> list[Any]:
                return [e for _, e in watcher.of(customer, channel, action) if reason in (None, e.value["reason"])]

            for customer in ids:
                await until(lambda customer=customer: asyncio.sleep(0, all(of(customer, c, "SHOW") for c in CHANNELS)),
                            60, "the SHOWs of both callers")
            # the survivor declines it on a later call: withdrawn under its id, after the merged customer's SHOW
            await post(call("merge-call-2", survivor_phone, start + timedelta(minutes=10), "declined"))
            await until(lambda: asyncio.sleep(0, all(of(survivor, c, "WITHDRAW", "DECLINED") for c in CHANNELS)), 60,
                        "the survivor's WITHDRAW DECLINED")

            owners, survivors, current = await _owners_survivors_and_current(settings)
            policy = LinkPolicy(IdentitySettings(hmac_key=SecretStr(DEMO_HMAC_KEY)))
            first, second, keys = merge_plan(survivor, merged, owners, survivors, policy, current)
            send = merge_send(str(uuid.uuid4()), first, second, keys, "ops-1", "one person, two phones")
            await _publish(settings, send.node, send.message)

            await until(lambda: asyncio.sleep(0, all(of(merged, c, "WITHDRAW", "MERGED") for c in CHANNELS)), 90,
                        "the merged customer's WITHDRAW MERGED")
            await asyncio.sleep(5)  # what the survivor's sync after the merge would send comes with or right after
            for channel in CHANNELS:
                assert [e.value["reason"] for e in of(survivor, channel, "WITHDRAW")] == ["DECLINED"], channel
                assert len(of(survivor, channel, "SHOW")) == 1, channel  # no SHOW again after the merge
            found = await get_json(http, lookup, channel="WEB", type="PHONE", value=PHONES[ids.index(merged)])
            assert found is not None and found["customer_id"] == survivor and found["offers"] == []
    finally:
        await watcher.stop()
