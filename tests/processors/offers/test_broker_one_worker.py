"""tester49 F2 on the real broker: two ``omnibus offers run`` on the same topics. The offer processor runs as one
worker (``processors/scaling.py``); with a second one in its group neither processes the half of the partitions it
holds, both say why (``/ready`` and the query 503 with the reason, the error line, ``omnibus_one_worker_split``), and
once the second stops the first processes every record sent meanwhile: the tester's lost decline is withdrawn, and
every customer created meanwhile is shown the offer."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from bus.app import PORT_CHOSEN_EVENT
from bus.config import OmnibusSettings
from bus.metrics import LISTENING_EVENT
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.topics import CUSTOMER_EVENTS, MARKETING_INSTRUCTIONS_CALL_CENTER, MARKETING_OFFERS, MARKETING_RESPONSES
from processors.offers.agent import INPUT_TOPICS
from processors.offers.campaigns import defined
from processors.sole_worker import SPLIT_LINE, WHOLE_LINE
from tests.processors.offers.factories import envelope, offer
from tests.support.kafka_io import one_per_event_id, read_events
from tests.support.processes import Command, assert_clean_exit, omnibus_command
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(420)]
T = TypeVar("T")
PARTITIONS = 2
HELD = re.compile(r"holds (\d+) of the (\d+) partitions")
PHONE = "+33612000001"  # the customer who declines while two workers run (the tester's erin4)
SPLIT_CUSTOMERS = [f"cus_split_{n}" for n in range(6)]  # created while two workers run: spread over both partitions


def customer_created(customer_id: str, phone: str) -> Event:
    return Event("omnibus.identity.CustomerCreated", {
        "envelope": envelope(f"created-{customer_id}", datetime.now(UTC)), "customer_id": customer_id,
        "identifiers": [{"type": "PHONE", "value": phone}],
        "lineage": {"triggering_event_id": f"seen-{customer_id}", "channel": "WEB", "rule": "co-observed"}})


def declined_at_the_counter(offer_id: str, phone: str) -> Event:
    return Event("omnibus.marketing.OfferResponded", {
        "envelope": envelope("decline-1", datetime.now(UTC), "BRANCH"), "offer_id": offer_id, "offer_version": 1,
        "presentation_id": None, "channel": "BRANCH", "customer_identifiers": [{"type": "PHONE", "value": phone}],
        "response": "DECLINED", "agent_id": None})


async def publish(settings: OmnibusSettings, *items: tuple[Any, str, Event]) -> None:
    serializer, _ = build_serde(settings.registry)
    async with EventProducer(settings, serializer) as producer:
        for spec, key, event in items:
            await producer.publish(Outgoing(spec.name(settings.topics), key, event))


async def until(check: Callable[[], Awaitable[T | None]], what: str, timeout_s: float = 180.0) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := await check():
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"waited {timeout_s:.0f} s for {what}")


async def instructions(settings: OmnibusSettings, action: str) -> dict[str, Any]:
    """``{customer id: value}`` of the call center's instructions of ``action`` (one per event id)."""
    landed = one_per_event_id(await read_events(settings, MARKETING_INSTRUCTIONS_CALL_CENTER))
    return {e.event.value["customer_id"]: e.event.value for e in landed if e.event.value["action"] == action}


async def probe(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    try:
        async with http.get(url) as answer:
            return answer.status, await answer.json(content_type=None)
    except (aiohttp.ClientError, ValueError):
        return 0, {}


class Worker:
    """One ``omnibus offers run`` on port 0 (web and metrics): the ports it bound, from its log (``started``)."""

    def __init__(self) -> None:
        self.web = self.metrics = ""
        self.last: tuple[int, dict[str, Any]] = (0, {})  # the last /ready answer, for a failure's message

    def env(self, base: dict[str, str]) -> dict[str, str]:
        return {**base, "OMNIBUS_PROCESSOR_OFFERS__WEB_PORT": "0", "OMNIBUS_METRICS__PORT": "0"}

    def started(self, command: Command) -> Command:
        self.web = f"http://127.0.0.1:{command.port(PORT_CHOSEN_EVENT)}"
        self.metrics = f"http://127.0.0.1:{command.port(LISTENING_EVENT)}"
        return command

    async def split(self, http: aiohttp.ClientSession) -> tuple[int, int] | None:
        """(held, total) when ``/ready`` answers 503 because this worker holds only part of the partitions."""
        status, body = self.last = await probe(http, f"{self.web}/ready")
        found = HELD.search(str(body.get("reason"))) if status == 503 else None
        return (int(found[1]), int(found[2])) if found else None

    async def saying_split(self, http: aiohttp.ClientSession) -> tuple[int, int]:
        try:
            return await until(lambda: self.split(http), f"{self.web} saying it holds part of the partitions")
        except AssertionError as error:
            raise AssertionError(f"{error}; its last /ready: {self.last}") from None

    async def ready(self, http: aiohttp.ClientSession) -> bool:
        return (await probe(http, f"{self.web}/ready"))[0] == 200

    async def metric(self, http: aiohttp.ClientSession, name: str) -> float | None:
        async with http.get(f"{self.metrics}/metrics") as answer:
            text = await answer.text()
        found = re.search(rf'^{name}{{component="offers"}} ([0-9.e+]+)$', text, re.M)
        return float(found[1]) if found else None


async def test_tester49_f2_a_second_offers_worker_stops_both_and_nothing_is_lost_when_it_leaves(
        bootstrap_servers: str, tmp_path: Path) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=PARTITIONS)
    total = len(INPUT_TOPICS) * PARTITIONS
    base = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix,
            "OMNIBUS_TOPICS__PARTITIONS": str(PARTITIONS), "OMNIBUS_LOG__LEVEL": "WARNING",
            "OMNIBUS_PROCESSOR_OFFERS__POLICY": '{"quiet_hours": null}'}
    first, second = Worker(), Worker()
    lookup = "/customers/lookup/offers?type=PHONE&value=0612000001&channel=CALL_CENTER"
    await publish(settings, (CUSTOMER_EVENTS, "cus_erin", customer_created("cus_erin", PHONE)),
                  (MARKETING_OFFERS, "t49-savings", defined(offer("t49-savings"))))

    started: list[Any] = []  # the commands, whose output a failure prints
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            with omnibus_command(["offers", "run"], first.env(base), tmp_path) as one:
                started.append(first.started(one))
                shown = await until(lambda: instructions(settings, "SHOW"), "the SHOW for the customer")
                assert set(shown) == {"cus_erin"}
                await until(lambda: first.ready(http), "the first worker ready")

                with omnibus_command(["offers", "run"], second.env(base), tmp_path) as two:
                    started.append(second.started(two))
                    # both hold part of the partitions: neither processes, both say why, together they hold them all
                    held = [await first.saying_split(http), await second.saying_split(http)]
                    assert {t for _, t in held} == {total} and sum(h for h, _ in held) == total, held
                    for worker in (first, second):
                        status, body = await probe(http, worker.web + lookup)
                        assert status == 503 and HELD.search(body["error"]), (status, body)  # never a wrong 404
                        assert await worker.metric(http, "omnibus_one_worker_split") == 1
                    await publish(settings, (MARKETING_RESPONSES, PHONE, declined_at_the_counter("t49-savings", PHONE)),
                                  *((CUSTOMER_EVENTS, c, customer_created(c, f"+3361200010{n}"))
                                    for n, c in enumerate(SPLIT_CUSTOMERS)))
                    await asyncio.sleep(15)  # long enough for either to process them, had it
                    assert await instructions(settings, "WITHDRAW") == {}
                    assert set(await instructions(settings, "SHOW")) == {"cus_erin"}
                    assert all([await first.split(http), await second.split(http)])  # still split, still saying so
                # the second worker stopped: the first holds every partition again and processes what waited
                assert two.process.returncode == 0, two.output[-3000:]
                said = logged(two.lines, SPLIT_LINE)
                assert said and said[0]["level"] == "error" and said[0]["total"] == total, two.output[-3000:]

                withdrawn = await until(lambda: instructions(settings, "WITHDRAW"), "the decline's WITHDRAW")
                assert set(withdrawn) == {"cus_erin"} and withdrawn["cus_erin"]["reason"] == "DECLINED"
                await until(lambda: shown_all(settings), "a SHOW for every customer created meanwhile")
                await until(lambda: first.ready(http), "the first worker ready again")
                assert await first.metric(http, "omnibus_one_worker_split") == 0
            assert_clean_exit(one)
            assert logged(one.lines, SPLIT_LINE) and logged(one.lines, WHOLE_LINE), one.output[-3000:]
    finally:
        for command in started:
            print(command.output[-8000:])  # shown by pytest when the test fails


async def shown_all(settings: OmnibusSettings) -> bool:
    return set(SPLIT_CUSTOMERS) <= set(await instructions(settings, "SHOW"))


def logged(lines: list[str], event: str) -> list[dict[str, Any]]:
    """The JSON log lines of ``lines`` whose event is ``event``."""
    found = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == event:
            found.append(record)
    return found
