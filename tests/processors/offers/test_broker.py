"""End to end on the real broker: one offer, every channel, answered on the web, withdrawn everywhere.

Runs the demo's middleware (web, branch and call-center adapters; identity, handoffs and offer
processors) on the test broker under a fresh topic prefix.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import jsonschema
import pytest

from adapters.legacy.layout import load_layout
from demo.offers import InstructionWatch
from demo.services import BRANCH_ID, TERMINAL_ID, TERMINAL_TOKEN, WRITE_KEY, running_middleware
from processors.identity import openapi as identity_openapi
from processors.offers import openapi as offers_openapi
from processors.offers.campaigns import publish
from tests.processors.offers.factories import offer
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]
EMAIL, PHONE, USER = "ana.lima@example.org", "+8613912345678", "u-offers-1"


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
    settings = await settings_with_topics(bootstrap_servers, log={"level": "WARNING"})
    watcher = InstructionWatch(settings)
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
            # tester12 M3: both HTTP answers hold to the contracts the two processors serve (closed objects)
            offers_spec = await get_json(http, f"{endpoints.offers}/openapi.json")
            assert offers_spec is not None and offers_spec["components"] == offers_openapi.OPENAPI["components"]
            jsonschema.Draft202012Validator(offers_openapi.schema_of("Offers")).validate(web)
            assert [o["offer_id"] for o in web["offers"]] == ["fibre-upgrade"] and web["offers"][0]["content"] == "Twice the speed"
            counter = await offered("BRANCH", type="PHONE", value=PHONE)
            assert [o["offer_id"] for o in counter["offers"]] == ["fibre-upgrade"]
            customer = web["customer_id"]
            await until(lambda: asyncio.sleep(0, bool(watcher.of(customer, "CALL_CENTER", "SHOW")
                                                      and watcher.of(customer, "BRANCH", "SHOW"))), 30, "SHOW instructions")
            (_, show), = watcher.of(customer, "CALL_CENTER", "SHOW")
            assert show.value["content"] == "Script: upgrade" and show.value["offer_version"] == 1
            pop_url = f"{endpoints.screen_pop}/customers/lookup"

            async def pop_offers() -> list[str] | None:
                found = await get_json(http, pop_url, type="EMAIL", value=EMAIL)
                return [o["offer_id"] for o in (found or {}).get("eligible_offers") or []] or None

            assert await until(pop_offers, 30, "the screen pop's eligible offers") == ["fibre-upgrade"]
            pop_spec = await get_json(http, f"{endpoints.screen_pop}/openapi.json")
            assert pop_spec is not None
            pop = await get_json(http, pop_url, type="EMAIL", value=EMAIL)
            jsonschema.Draft202012Validator(identity_openapi.schema_of("Customer", pop_spec)).validate(pop)

            # the customer accepts on the web
            accepted = {"type": "track", "messageId": "acc-1", "userId": USER, "event": "Offer Accepted",
                        "timestamp": datetime.now(UTC).isoformat(),
                        "properties": {"offer_id": "fibre-upgrade", "offer_version": 1}}
            async with http.post(f"{endpoints.web}/v1/track", json=accepted, headers=auth) as response:
                assert response.status == 200, await response.text()
            # No wall-clock bound on one sample here: a loaded CI machine (a broker, a JVM, five components in
            # this process) can take a second. The < 1 s target is the benchmark's (tests/bench/offers.py, p99).
            await until(lambda: asyncio.sleep(0, bool(watcher.of(customer, "CALL_CENTER", "WITHDRAW")
                                                      and watcher.of(customer, "BRANCH", "WITHDRAW"))), 60, "WITHDRAW instructions")
            (_, withdraw), = watcher.of(customer, "CALL_CENTER", "WITHDRAW")
            assert (withdraw.value["reason"], withdraw.value["answered_channel"]) == ("ACCEPTED", "WEB")

            for channel in ("WEB", "BRANCH", "CALL_CENTER"):
                assert (await get_json(http, lookup, type="EMAIL", value=EMAIL, channel=channel))["offers"] == []
            deadline = time.monotonic() + 30
            while await pop_offers() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert await pop_offers() is None, "the call center's screen pop still lists the accepted offer"
    finally:
        await watcher.stop()


# tester15 F3, the sample as reported: a billing export line (SAP IS-U style) for Sylvie Moreau, carrying the e-mail her
# husband Pierre identified with on the web.
ACCOUNTS_LAYOUT = """name: contract-accounts
format: csv
event: AccountOpened
delimiter: ";"
header: true
key: [account_number]
phone_region: FR
fields:
  account_number: {column: COMPTE_CONTRAT}
  account_type: {column: TYPE}
  service_tier: {column: SEGMENT}
  last_name: {column: NOM}
  first_name: {column: PRENOM}
  birth_date: {column: DATE_NAISSANCE, type: date, format: "%d/%m/%Y"}
  address_line: {column: ADRESSE}
  postcode: {column: CP}
  city: {column: VILLE}
  phone: {column: TEL}
  email: {column: EMAIL}
"""
MOREAU_LINE = """COMPTE_CONTRAT;TYPE;SEGMENT;NOM;PRENOM;DATE_NAISSANCE;ADRESSE;CP;VILLE;TEL;EMAIL
4200 0000 0033;residential;standard;MOREAU;SYLVIE;04/04/1972;9 rue Z;42000;Saint-Etienne;06 99 88 77 66;famille.moreau@free.fr
"""


async def test_a_billing_fact_counts_for_the_customer_the_screen_pop_puts_the_account_on(
        bootstrap_servers: str, tmp_path: Any) -> None:
    """tester15 F3: identity put Sylvie's account on her screen pop, offers gave its segment to Pierre, who keeps
    the shared e-mail. The offers processor now follows identity's placement (customer.contacts.v1)."""
    settings = await settings_with_topics(bootstrap_servers, log={"level": "WARNING"})
    auth = {"Authorization": aiohttp.encode_basic_auth(WRITE_KEY, "")}
    (tmp_path / "accounts.yaml").write_text(ACCOUNTS_LAYOUT)
    (tmp_path / "moreau.csv").write_text(MOREAU_LINE)
    async with running_middleware(settings, tmp_path) as endpoints, aiohttp.ClientSession() as http:
        pop_url, lookup = f"{endpoints.screen_pop}/customers/lookup", f"{endpoints.offers}/customers/lookup/offers"
        identify = {"type": "identify", "messageId": "id-pmoreau", "userId": "u-pmoreau",
                    "timestamp": datetime.now(UTC).isoformat(),
                    "traits": {"email": "famille.moreau@free.fr", "firstName": "Pierre", "lastName": "Moreau",
                               "birthday": "1970-03-03", "postcode": "42000", "country": "FR"}}
        async with http.post(f"{endpoints.web}/v1/identify", json=identify, headers=auth) as response:
            assert response.status == 200, await response.text()
        pierre = await until(lambda: get_json(http, pop_url, type="USER_ID", value="u-pmoreau"), 60, "Pierre's pop")
        await publish(settings, [offer("green-power", eligibility='segment == "residential"', channels=["WEB"])])
        await endpoints.batch.import_file(tmp_path / "moreau.csv", load_layout(tmp_path / "accounts.yaml"))

        sylvie = await until(lambda: get_json(http, pop_url, type="ACCOUNT", value="4200 0000 0033"), 60,
                             "the account's screen pop")
        assert sylvie["customer_id"] != pierre["customer_id"]  # identity: two people, the account is Sylvie's

        async def offered_to_sylvie() -> dict[str, Any] | None:
            found = await get_json(http, lookup, channel="WEB", type="ACCOUNT", value="4200 0000 0033")
            return found if found and found["offers"] else None

        found = await until(offered_to_sylvie, 60, "the residential offer for the account holder")
        assert found["customer_id"] == sylvie["customer_id"]
        assert [o["offer_id"] for o in found["offers"]] == ["green-power"]
        for_pierre = await get_json(http, lookup, channel="WEB", type="USER_ID", value="u-pmoreau")
        assert for_pierre is not None and for_pierre["customer_id"] == pierre["customer_id"]
        assert for_pierre["offers"] == [], "the e-mail's keeper got the account holder's segment"

        # tester19 F10: Sylvie declines at the counter, found by the shared e-mail (Pierre's), her name and birth date
        # typed: identity places the visit on her, and so the offers processor places her decline.
        visit = {"terminal_id": TERMINAL_ID, "branch_id": BRANCH_ID, "events": [{
            "event_id": "f10-ev-1", "kind": "transaction", "occurred_at": datetime.now(UTC).isoformat(),
            "agent_id": "clerk.roux", "transaction": {"id": "f10-tx-1", "type": "bill-enquiry", "status": "completed"},
            "identifiers": [{"type": "EMAIL", "value": "famille.moreau@free.fr"}],
            "customer": {"given_name": "Sylvie", "family_name": "Moreau", "birth_date": "1972-04-04"},
            "offer": {"offer_id": "green-power", "offer_version": 1, "response": "DECLINED"}}]}
        async with http.post(f"{endpoints.branch}/v1/counter/events", json=visit,
                             headers={"Authorization": f"Bearer {TERMINAL_TOKEN}"}) as response:
            assert response.status == 200, await response.text()

        async def declined_by_sylvie() -> bool:
            found = await get_json(http, lookup, channel="WEB", type="ACCOUNT", value="4200 0000 0033")
            return found is not None and found["offers"] == []

        await until(declined_by_sylvie, 60, "Sylvie's decline on her own offers")
        pop = await get_json(http, pop_url, type="ACCOUNT", value="4200 0000 0033")
        assert pop is not None and pop["customer_id"] == sylvie["customer_id"]
