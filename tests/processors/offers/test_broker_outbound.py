"""tester30 F4 end to end on the real broker: an offer pushed by SMS, held back by quiet hours, reported sent by the
gateway, counted by the offer's cross-channel cap, and withdrawn from the SMS topic when accepted at the counter;
that acceptance is the counter's pitch of the day (``bus.offer_presentations``): the next offer is not pitched there.

Runs the demo's middleware (adapters; identity, handoffs and offer processors) under a fresh topic prefix; the SMS
gateway is this test: it reads ``marketing.instructions.sms.v1`` and publishes its report on
``marketing.responses.v1`` as processors/offers/README.md ("Outbound pushes") tells one to.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bus.envelope import envelope
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.topics import MARKETING_RESPONSES
from demo.offers import InstructionWatch
from demo.services import BRANCH_ID, TERMINAL_ID, TERMINAL_TOKEN, WRITE_KEY, demo_timezone, running_middleware
from processors.offers.campaigns import publish
from tests.processors.offers.factories import offer
from tests.processors.offers.test_broker import get_json, until
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]
EMAIL, PHONE, USER = "anna.rossi@example.it", "+33612345678", "u-outbound-1"


async def report_sent(settings: Any, shown: Event) -> None:
    """The SMS gateway's report that it sent ``shown``: an OfferPresented on channel SMS whose correlation id is the
    instruction's event id, echoing its customer_identifiers."""
    value = shown.value
    sent = Event("omnibus.marketing.OfferPresented", {
        "envelope": envelope(event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, value["envelope"]["event_id"] + "|sent")),
                             occurred_at=datetime.now(UTC), source_system="sms-gateway", channel="SMS",
                             correlation_id=value["envelope"]["event_id"]),
        "presentation_id": value["envelope"]["event_id"], "offer_id": value["offer_id"],
        "offer_version": value["offer_version"], "channel": "SMS", "customer_identifiers": value["customer_identifiers"],
        "agent_id": None})
    serializer, _ = build_serde(settings.registry)
    async with EventProducer(settings, serializer) as producer:
        await producer.publish(Outgoing(MARKETING_RESPONSES.name(settings.topics), value["customer_id"], sent))


async def identify(http: aiohttp.ClientSession, web: str, user: str, email: str, phone: str) -> None:
    """The web hall's Segment ``identify`` of ``user`` with their e-mail and phone (the demo's write key)."""
    call = {"type": "identify", "messageId": f"id-{user}", "userId": user, "timestamp": datetime.now(UTC).isoformat(),
            "traits": {"email": email, "phone": phone}}
    async with http.post(f"{web}/v1/identify", json=call,
                         headers={"Authorization": aiohttp.encode_basic_auth(WRITE_KEY, "")}) as answer:
        assert answer.status == 200, await answer.text()


async def counter_offer(http: aiohttp.ClientSession, branch: str, visit_id: str, email: str, offer_id: str,
                        response: str) -> None:
    """A counter visit (the demo's terminal) for the customer of ``email`` recording ``response`` to ``offer_id``."""
    visit = {"terminal_id": TERMINAL_ID, "branch_id": BRANCH_ID, "events": [{
        "event_id": f"ev-{visit_id}", "kind": "transaction", "occurred_at": datetime.now(UTC).isoformat(),
        "agent_id": "clerk.bianchi", "transaction": {"id": f"tx-{visit_id}", "type": "sale", "status": "completed"},
        "identifiers": [{"type": "EMAIL", "value": email}],
        "offer": {"offer_id": offer_id, "offer_version": 1, "response": response}}]}
    async with http.post(f"{branch}/v1/counter/events", json=visit,
                         headers={"Authorization": f"Bearer {TERMINAL_TOKEN}"}) as answer:
        assert answer.status == 200, await answer.text()


async def test_sms_push_quiet_hours_report_cap_and_withdrawal(bootstrap_servers: str, tmp_path: Any) -> None:
    settings = await settings_with_topics(bootstrap_servers, log={"level": "WARNING"})
    watcher = InstructionWatch(settings)
    await watcher.start()
    local = datetime.now(ZoneInfo(demo_timezone(settings)))
    quiet = {"start": (local - timedelta(hours=1)).strftime("%H:%M"), "end": (local + timedelta(hours=2)).strftime("%H:%M")}
    try:
        async with running_middleware(settings, tmp_path) as endpoints, aiohttp.ClientSession() as http:
            await identify(http, endpoints.web, USER, EMAIL, PHONE)
            # the offer's own quiet hours span now; its own cap: one presentation a week, on any channel
            await publish(settings, [offer("boiler-care", channels=["WEB", "SMS", "BRANCH"], quiet_hours=quiet,
                                           caps=[{"max": 1, "per": "7d"}],
                                           content={"default": "Boiler care", "SMS": "Boiler care: reply YES"})])
            lookup = f"{endpoints.offers}/customers/lookup/offers"
            async def on_the_web() -> dict[str, Any] | None:
                found = await get_json(http, lookup, channel="WEB", type="EMAIL", value=EMAIL)
                return found if found and found["offers"] else None

            web = await until(on_the_web, 60, "the offer on the web")
            customer = web["customer_id"]
            assert [o["offer_id"] for o in web["offers"]] == ["boiler-care"]

            await until(lambda: asyncio.sleep(0, bool(watcher.of(customer, "SMS", "SHOW"))), 60, "the SMS SHOW")
            (_, shown), = watcher.of(customer, "SMS", "SHOW")
            assert shown.value["content"] == "Boiler care: reply YES"
            assert [i["type"] for i in shown.value["lookup_identifiers"]] == ["PHONE"]  # the address, nothing else
            held = shown.value["not_before"].astimezone(ZoneInfo(demo_timezone(settings)))
            assert held.strftime("%H:%M") == quiet["end"] and held > local + timedelta(hours=1)

            await report_sent(settings, shown)

            async def capped() -> dict[str, Any] | None:
                found = await get_json(http, lookup, channel="WEB", type="EMAIL", value=EMAIL)
                return found if found and found["suppressed"] else None

            suppressed = (await until(capped, 60, "the SMS counted by the offer's cross-channel cap"))["suppressed"]
            assert [(s["offer_id"], s["reason"]) for s in suppressed] == [("boiler-care", "offer_cap")]

            await counter_offer(http, endpoints.branch, "out-1", EMAIL, "boiler-care", "ACCEPTED")
            await until(lambda: asyncio.sleep(0, bool(watcher.of(customer, "SMS", "WITHDRAW"))), 60, "the SMS WITHDRAW")
            (_, withdraw), = watcher.of(customer, "SMS", "WITHDRAW")
            assert (withdraw.value["reason"], withdraw.value["answered_channel"]) == ("ACCEPTED", "BRANCH")

            # the clerk's recorded answer is the pitch behind it: the counter's one offer contact of the day (the
            # default policy), so marketing's next offer waits there; the web, with 2 of 3 contacts this week, has it
            await publish(settings, [offer("fibre", channels=["WEB", "BRANCH"])])

            async def held_at_the_counter() -> dict[str, Any] | None:
                found = await get_json(http, lookup, channel="BRANCH", type="EMAIL", value=EMAIL)
                return found if found and found["suppressed"] else None

            counter = await until(held_at_the_counter, 60, "the counter's answer counted by the counter's cap")
            assert counter["offers"] == [] and [(s["offer_id"], s["reason"]) for s in counter["suppressed"]] == [
                ("fibre", "channel_cap")]
            web = await get_json(http, lookup, channel="WEB", type="EMAIL", value=EMAIL)
            assert web and [o["offer_id"] for o in web["offers"]] == ["fibre"]
            assert not [e for _, e in watcher.of(customer, "BRANCH", "SHOW") if e.value["offer_id"] == "fibre"]
    finally:
        await watcher.stop()
