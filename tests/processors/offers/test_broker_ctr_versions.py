"""On the real broker: an agent's answer recorded in a later version of a call's CTR reaches the offer processor.

offers49's finding: the first version of the CTR said ``presented`` and the later one (after-contact work, a later
``LastUpdateTimestamp``) ``accepted``; the acceptance had the first version's event id and was dropped, so the offer
stayed SHOWn at the counter. Through the call-center adapter's HTTP ingress, the identity and offer processors (the
demo's middleware) on the test broker under a fresh topic prefix.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from demo.offers import InstructionWatch
from demo.services import SITE_KEY, WRITE_KEY, running_middleware
from processors.offers.campaigns import publish
from tests.processors.offers.factories import offer
from tests.processors.offers.test_broker import get_json, until
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]
EMAIL, PHONE, USER = "rui.costa@example.org", "+8613912345601", "u-ctr-versions-1"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def ctr_version(response: str, updated: datetime, start: datetime, offer_id: str = "fibre-upgrade",
                contact_id: str = "ctr-versions-0001") -> dict[str, Any]:
    """One version of the call's CTR, the agent's answer in its contact attributes."""
    connected, end = start + timedelta(seconds=20), start + timedelta(minutes=4)
    return {
        "ContactId": contact_id, "Channel": "VOICE", "InitiationMethod": "INBOUND",
        "InitiationTimestamp": _iso(start), "DisconnectTimestamp": _iso(end), "LastUpdateTimestamp": _iso(updated),
        "CustomerEndpoint": {"Address": PHONE, "Type": "TELEPHONE_NUMBER"},
        "Queue": {"Name": "sales", "EnqueueTimestamp": _iso(start + timedelta(seconds=5)),
                  "DequeueTimestamp": _iso(connected)},
        "Agent": {"Username": "agent7", "ConnectedToAgentTimestamp": _iso(connected)},
        "Attributes": {"offer_id": offer_id, "offer_version": "1", "offer_response": response},
        "DisconnectReason": "AGENT_DISCONNECT",
    }


async def test_an_acceptance_in_a_later_ctr_version_withdraws_the_offer(bootstrap_servers: str, tmp_path: Any) -> None:
    settings = await settings_with_topics(bootstrap_servers, log={"level": "WARNING"})
    watcher = InstructionWatch(settings)
    await watcher.start()
    auth = {"Authorization": aiohttp.encode_basic_auth(WRITE_KEY, "")}
    connect = {"X-Amz-Firehose-Access-Key": SITE_KEY}
    start = datetime.now(UTC) - timedelta(minutes=10)
    try:
        async with running_middleware(settings, tmp_path) as endpoints, aiohttp.ClientSession() as http:
            identify = {"type": "identify", "messageId": "id-ctr-1", "userId": USER, "timestamp": _iso(start),
                        "traits": {"email": EMAIL, "phone": PHONE}}
            async with http.post(f"{endpoints.web}/v1/identify", json=identify, headers=auth) as response:
                assert response.status == 200, await response.text()
            await publish(settings, [offer("fibre-upgrade", title="Fibre 1 Gbit/s", priority=10)])
            lookup = f"{endpoints.offers}/customers/lookup/offers"

            async def listed(channel: str) -> list[str]:
                found = await get_json(http, lookup, channel=channel, type="EMAIL", value=EMAIL)
                return [o["offer_id"] for o in (found or {}).get("offers") or []]

            web = await until(lambda: get_json(http, lookup, channel="WEB", type="EMAIL", value=EMAIL), 60,
                              "the web query")
            customer = web["customer_id"]
            await until(lambda: asyncio.sleep(0, bool(watcher.of(customer, "BRANCH", "SHOW"))), 60,
                        "the counter's SHOW")

            # the call: the agent pitched it (first version), then recorded the acceptance in after-contact work
            for response_recorded, updated in (("presented", start + timedelta(minutes=4)),
                                               ("accepted", start + timedelta(minutes=6))):
                body = ctr_version(response_recorded, updated, start)
                async with http.post(f"{endpoints.call_center}/v1/connect/ctr", json=body, headers=connect) as answer:
                    assert answer.status == 200, await answer.text()

            def accepted() -> list[Any]:  # the pitch itself may withdraw it first, CAPPED (a presentation)
                return [e for _, e in watcher.of(customer, "BRANCH", "WITHDRAW") if e.value["reason"] == "ACCEPTED"]

            await until(lambda: asyncio.sleep(0, accepted()), 60,
                        "the counter's WITHDRAW after the acceptance of the CTR's later version")
            (withdraw,) = accepted()
            assert withdraw.value["answered_channel"] == "CALL_CENTER"
            for channel in ("WEB", "BRANCH", "CALL_CENTER"):
                assert await listed(channel) == []
    finally:
        await watcher.stop()


async def test_an_acceptance_taken_back_in_a_later_ctr_version_shows_the_offer_again(bootstrap_servers: str,
                                                                                       tmp_path: Any) -> None:
    """The agent recorded ``accepted``, then corrected it to ``presented`` in after-contact work: the newer version
    stands in the offer state as in the KPIs (``processors/offers/pitches.py``), so the counter, WITHDRAWn
    ``ACCEPTED``, gets the offer SHOWn again and the web lists it again."""
    settings = await settings_with_topics(bootstrap_servers, log={"level": "WARNING"})
    watcher = InstructionWatch(settings)
    await watcher.start()
    auth = {"Authorization": aiohttp.encode_basic_auth(WRITE_KEY, "")}
    connect = {"X-Amz-Firehose-Access-Key": SITE_KEY}
    start = datetime.now(UTC) - timedelta(minutes=10)
    try:
        async with running_middleware(settings, tmp_path) as endpoints, aiohttp.ClientSession() as http:
            identify = {"type": "identify", "messageId": "id-ctr-2", "userId": USER, "timestamp": _iso(start),
                        "traits": {"email": EMAIL, "phone": PHONE}}
            async with http.post(f"{endpoints.web}/v1/identify", json=identify, headers=auth) as response:
                assert response.status == 200, await response.text()
            await publish(settings, [offer("fibre-upgrade", title="Fibre 1 Gbit/s", priority=10)])
            lookup = f"{endpoints.offers}/customers/lookup/offers"
            web = await until(lambda: get_json(http, lookup, channel="WEB", type="EMAIL", value=EMAIL), 60,
                              "the web query")
            customer = web["customer_id"]
            await until(lambda: asyncio.sleep(0, bool(watcher.of(customer, "BRANCH", "SHOW"))), 60,
                        "the counter's SHOW")

            def branch(action: str, reason: str | None = None) -> list[Any]:
                return [e for _, e in watcher.of(customer, "BRANCH", action) if reason in (None, e.value["reason"])]

            async def post(response_recorded: str, minutes: int) -> None:
                body = ctr_version(response_recorded, start + timedelta(minutes=minutes), start)
                async with http.post(f"{endpoints.call_center}/v1/connect/ctr", json=body, headers=connect) as answer:
                    assert answer.status == 200, await answer.text()

            await post("accepted", 4)
            await until(lambda: asyncio.sleep(0, branch("WITHDRAW", "ACCEPTED")), 60, "the WITHDRAW ACCEPTED")
            shows = len(branch("SHOW"))
            await post("presented", 6)
            await until(lambda: asyncio.sleep(0, len(branch("SHOW")) > shows), 60,
                        "the counter's SHOW again after the acceptance was taken back")
            found = await get_json(http, lookup, channel="WEB", type="EMAIL", value=EMAIL)
            assert [o["offer_id"] for o in (found or {}).get("offers") or []] == ["fibre-upgrade"]
    finally:
        await watcher.stop()


async def test_the_offer_accepted_in_a_corrected_version_is_withdrawn_accepted_on_the_call_center(
        bootstrap_servers: str, tmp_path: Any) -> None:
    """tester51 F4: the agent recorded ``fibre-upgrade accepted``, then corrected *which* offer in after-contact work
    (``tv-bundle accepted``). The call filled the call center's day (1 a day per channel), so ``tv-bundle`` had been
    withdrawn ``CAPPED`` there; its acceptance now reaches the call center's topic as ``WITHDRAW ACCEPTED`` (before,
    ``CAPPED`` stayed its last word: a SHOW to come again), and ``fibre-upgrade``'s ``ACCEPTED`` is restated."""
    settings = await settings_with_topics(bootstrap_servers, log={"level": "WARNING"})
    watcher = InstructionWatch(settings)
    await watcher.start()
    auth = {"Authorization": aiohttp.encode_basic_auth(WRITE_KEY, "")}
    connect = {"X-Amz-Firehose-Access-Key": SITE_KEY}
    start = datetime.now(UTC) - timedelta(minutes=10)
    try:
        async with running_middleware(settings, tmp_path) as endpoints, aiohttp.ClientSession() as http:
            identify = {"type": "identify", "messageId": "id-ctr-3", "userId": USER, "timestamp": _iso(start),
                        "traits": {"email": EMAIL, "phone": PHONE}}
            async with http.post(f"{endpoints.web}/v1/identify", json=identify, headers=auth) as response:
                assert response.status == 200, await response.text()
            await publish(settings, [offer("fibre-upgrade", title="Fibre 1 Gbit/s", priority=10),
                                     offer("tv-bundle", title="TV bundle", priority=5)])
            lookup = f"{endpoints.offers}/customers/lookup/offers"
            web = await until(lambda: get_json(http, lookup, channel="WEB", type="EMAIL", value=EMAIL), 60,
                              "the web query")
            customer = web["customer_id"]

            def call_center(offer_id: str, action: str) -> list[Any]:
                return [e for _, e in watcher.of(customer, "CALL_CENTER", action) if e.value["offer_id"] == offer_id]

            await until(lambda: asyncio.sleep(0, bool(call_center("tv-bundle", "SHOW"))), 60, "the agent's SHOWs")
            for minutes, offer_id in ((4, "fibre-upgrade"), (6, "tv-bundle")):
                body = ctr_version("accepted", start + timedelta(minutes=minutes), start, offer_id)
                async with http.post(f"{endpoints.call_center}/v1/connect/ctr", json=body, headers=connect) as answer:
                    assert answer.status == 200, await answer.text()

            def last(offer_id: str) -> tuple[str, str | None] | None:
                found = [e for _, e in watcher.seen if e.value["customer_id"] == customer
                         and e.value["channel"] == "CALL_CENTER" and e.value["offer_id"] == offer_id]
                return (found[-1].value["action"], found[-1].value["reason"]) if found else None

            await until(lambda: asyncio.sleep(0, last("tv-bundle") == ("WITHDRAW", "ACCEPTED")), 60,
                        "the call center's WITHDRAW tv-bundle ACCEPTED")
            (accepted,) = [e for e in call_center("tv-bundle", "WITHDRAW") if e.value["reason"] == "ACCEPTED"]
            assert accepted.value["answered_channel"] == "CALL_CENTER"
            # the first acceptance was taken back: fibre-upgrade is capped on the call center (the call filled it)
            await until(lambda: asyncio.sleep(0, last("fibre-upgrade") == ("WITHDRAW", "CAPPED")), 60,
                        "the call center's WITHDRAW fibre-upgrade CAPPED")
    finally:
        await watcher.stop()


async def test_a_not_now_after_the_call_capped_the_offer_reaches_the_call_center(bootstrap_servers: str,
                                                                                 tmp_path: Any) -> None:
    """tester53 F3: a call pitched ``fibre-upgrade`` and filled the call center's day (1 a day per channel), so
    ``tv-bundle`` was withdrawn ``CAPPED`` there; the customer then said "not now" to ``tv-bundle`` (a second call,
    the counter's case in the report): the call center's last word on it is ``NOT_NOW``, the customer's answer over
    the cap (before, ``CAPPED`` stayed: free again tomorrow)."""
    settings = await settings_with_topics(bootstrap_servers, log={"level": "WARNING"})
    watcher = InstructionWatch(settings)
    await watcher.start()
    auth = {"Authorization": aiohttp.encode_basic_auth(WRITE_KEY, "")}
    connect = {"X-Amz-Firehose-Access-Key": SITE_KEY}
    start = datetime.now(UTC) - timedelta(minutes=30)
    try:
        async with running_middleware(settings, tmp_path) as endpoints, aiohttp.ClientSession() as http:
            identify = {"type": "identify", "messageId": "id-ctr-4", "userId": USER, "timestamp": _iso(start),
                        "traits": {"email": EMAIL, "phone": PHONE}}
            async with http.post(f"{endpoints.web}/v1/identify", json=identify, headers=auth) as response:
                assert response.status == 200, await response.text()
            await publish(settings, [offer("fibre-upgrade", title="Fibre 1 Gbit/s", priority=10),
                                     offer("tv-bundle", title="TV bundle", priority=5)])
            lookup = f"{endpoints.offers}/customers/lookup/offers"
            web = await until(lambda: get_json(http, lookup, channel="WEB", type="EMAIL", value=EMAIL), 60,
                              "the web query")
            customer = web["customer_id"]

            def last(channel: str) -> tuple[str, str | None] | None:
                found = [e for _, e in watcher.seen if e.value["customer_id"] == customer
                         and e.value["channel"] == channel and e.value["offer_id"] == "tv-bundle"]
                return (found[-1].value["action"], found[-1].value["reason"]) if found else None

            await until(lambda: asyncio.sleep(0, last("CALL_CENTER") == ("SHOW", None)), 60, "the agent's SHOW")
            for minutes, offer_id, response_recorded, contact_id in (
                    (0, "fibre-upgrade", "presented", "ctr-versions-0004"),
                    (10, "tv-bundle", "not_now", "ctr-versions-0005")):
                body = ctr_version(response_recorded, start + timedelta(minutes=minutes + 4),
                                   start + timedelta(minutes=minutes), offer_id, contact_id)
                async with http.post(f"{endpoints.call_center}/v1/connect/ctr", json=body, headers=connect) as answer:
                    assert answer.status == 200, await answer.text()
                if offer_id == "fibre-upgrade":
                    await until(lambda: asyncio.sleep(0, last("CALL_CENTER") == ("WITHDRAW", "CAPPED")), 60,
                                "the call center's WITHDRAW tv-bundle CAPPED")
            await until(lambda: asyncio.sleep(0, last("BRANCH") == ("WITHDRAW", "NOT_NOW")), 60,
                        "the counter's WITHDRAW tv-bundle NOT_NOW")
            await until(lambda: asyncio.sleep(0, last("CALL_CENTER") == ("WITHDRAW", "NOT_NOW")), 30,
                        "the call center's WITHDRAW tv-bundle NOT_NOW")
    finally:
        await watcher.stop()
