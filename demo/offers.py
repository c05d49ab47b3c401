"""The demo's offer: defined once in YAML, seen on every channel, withdrawn everywhere after the answer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition
from rich.console import Console
from rich.table import Table

from bus import lag_watchdog
from bus.cli.progress import waiting
from bus.config import OmnibusSettings
from bus.kafka_client import connection_options
from bus.serde import Event, SerdeContext, build_serde
from bus.topics import CUSTOMER_EVENTS, CUSTOMER_IDENTIFIERS, TopicSpec
from demo.people import DemoCustomer
from demo.services import WRITE_KEY, Endpoints
from processors.offers.campaigns import publish
from processors.offers.offer_file import parse_offers
from processors.offers.outputs import INSTRUCTION_TOPICS

OFFER_ID = "fibre-upgrade"
# What the agent is told must hold for every customer the rule admits: anyone without fibre (mobile, TV or no product
# known yet). tests/demo/test_offers.py checks that each product the texts name is one the rule looks at.
OFFER_YAML = f"""\
offer_id: {OFFER_ID}
version: 1
title: Fibre 1 Gbit/s, first 3 months free
content:
  default: Get fibre 1 Gbit/s at home, first 3 months free and no installation fee.
  CALL_CENTER: "Script: the customer has no fibre with us yet. Offer fibre 1 Gbit/s, 3 months free, no set-up fee."
channels: [WEB, CALL_CENTER, BRANCH]
valid_from: 2026-01-01T00:00:00Z
priority: 50
eligibility: '!("FIBRE-1G" in products)'
caps: [{{max: 2, per: 7d}}]
"""
# A partition that fetches nothing with records waiting is sought again by the workers' lag watchdog after
# STALL_AFTER_S (plus up to a check interval): a step waits past that cure, or the demo gives up a second before it.
STEP_TIMEOUT_S = lag_watchdog.STALL_AFTER_S + 2 * lag_watchdog.INTERVAL_S + 10.0


class TopicWatch:
    """Every record of some topics as it arrives, with the wall-clock instant it was read (from offset 0, or
    only what comes after ``start()`` with ``from_end``)."""

    def __init__(self, settings: OmnibusSettings, specs: list[TopicSpec], *, from_end: bool = False) -> None:
        self.settings, self.specs, self.from_end = settings, specs, from_end
        self.seen: list[tuple[float, Event]] = []  # (time.time() when read, event)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        _, deserializer = build_serde(self.settings.registry)
        consumer = AIOKafkaConsumer(**connection_options(self.settings.kafka), group_id=None,
                                    enable_auto_commit=False, fetch_max_wait_ms=10)
        await consumer.start()
        tps = [TopicPartition(s.name(self.settings.topics), p) for s in self.specs
               for p in range(s.partition_count(self.settings.topics))]
        consumer.assign(tps)
        if self.from_end:
            await consumer.seek_to_end(*tps)
            for tp in tps:
                await consumer.position(tp)
        else:
            await consumer.seek_to_beginning(*tps)

        async def run() -> None:
            try:
                while True:
                    for tp, messages in (await consumer.getmany(timeout_ms=20)).items():
                        now = time.time()
                        self.seen.extend((now, deserializer(m.value, SerdeContext(topic=tp.topic))) for m in messages)
            finally:
                await consumer.stop()

        self._task = asyncio.create_task(run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class InstructionWatch(TopicWatch):
    """The show / withdraw instructions on every push channel's topic."""

    def __init__(self, settings: OmnibusSettings) -> None:
        super().__init__(settings, list(INSTRUCTION_TOPICS.values()))

    def of(self, customer_id: str, channel: str, action: str) -> list[tuple[float, Event]]:
        """The instructions for one customer, channel and action, the first copy of each event id only (a batch
        replayed after a rebalance publishes its instructions again under the same ids; a subscriber drops them)."""
        found: dict[str, tuple[float, Event]] = {}
        for at, e in self.seen:
            if e.value["customer_id"] == customer_id and e.value["channel"] == channel and e.value["action"] == action:
                found.setdefault(e.value["envelope"]["event_id"], (at, e))
        return list(found.values())


async def publish_demo_offer(settings: OmnibusSettings) -> None:
    await publish(settings, parse_offers(OFFER_YAML, "demo offer"))


async def _json(http: aiohttp.ClientSession, url: str, **params: str) -> dict[str, Any] | None:
    async with http.get(url, params=params) as response:
        return await response.json() if response.status == 200 else None


async def _until(check: Any, timeout_s: float = STEP_TIMEOUT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := await check():
            return found
        await asyncio.sleep(0.05)
    return None


async def offer_journey(http: aiohttp.ClientSession, endpoints: Endpoints, watch: InstructionWatch,
                        customer: DemoCustomer, console: Console) -> bool:
    """Show the offer on every channel for ``customer``, accept it on the web, show it withdrawn everywhere."""
    lookup = f"{endpoints.offers}/customers/lookup/offers"

    async def offered(channel: str, kind: str, value: str) -> list[str]:
        found = await _json(http, lookup, type=kind, value=value, channel=channel) or {}
        return [o["offer_id"] for o in found.get("offers") or []]

    answers = ScreenPopAnswers()

    async def on_screen_pop() -> list[str]:
        found = await answers.ask(http, f"{endpoints.screen_pop}/customers/lookup", "EMAIL", customer.email) or {}
        return [o["offer_id"] for o in found.get("eligible_offers") or []]

    with waiting(console, "Waiting for the offer to reach every channel..."):
        web = await _until(lambda: offered("WEB", "EMAIL", customer.email))
        found = await _json(http, lookup, type="EMAIL", value=customer.email, channel="WEB")
        customer_id = (found or {}).get("customer_id", "")
        shown = await _until(lambda: asyncio.sleep(0, watch.of(customer_id, "CALL_CENTER", "SHOW")))
        pop = await _until(on_screen_pop)
    if not pop:
        try:
            await _why_not_on_screen_pop(http, endpoints, watch, customer_id, answers, console)
        except Exception as exc:  # noqa: BLE001 - a diagnostic must never be what stops the demo
            console.print(f"(could not say why the offer is missing from the screen pop: {exc!r})")
    # waited for like the others: under load the counter's view of the offer comes seconds after the web hall's
    counter = await _until(lambda: offered("BRANCH", "PHONE", customer.phone)) or []
    published = [", ".join(web or []) or "-", ", ".join(counter) or "-", "SHOW" if shown else "-",
                 ", ".join(pop or []) or "-"]
    if web:  # the web hall showed it: an OfferPresented, the denominator of the acceptance KPI
        await _offer_track(http, endpoints, customer, "Offer Viewed")
    sent = time.time()
    await _offer_track(http, endpoints, customer, "Offer Accepted")
    withdrawn = await _until(lambda: asyncio.sleep(0, watch.of(customer_id, "CALL_CENTER", "WITHDRAW")))
    latency = f"WITHDRAW after {withdrawn[0][0] - sent:.2f} s" if withdrawn else "-"
    pop_after = await _gone(on_screen_pop)
    web_after = await offered("WEB", "EMAIL", customer.email)
    counter_after = await offered("BRANCH", "PHONE", customer.phone)
    after = [", ".join(web_after) or WITHDRAWN, ", ".join(counter_after) or WITHDRAWN, latency,
             ", ".join(pop_after) or WITHDRAWN]
    console.print(offer_table(customer.name, published, after))
    missed = [step for step, seen in (("the web hall's offer", web), ("the counter's offer", counter),
                                      ("the call center's SHOW", shown), ("the screen pop's offer", pop),
                                      ("the call center's WITHDRAW", withdrawn)) if not seen]
    missed += [f"{step} still offered after the acceptance" for step, left in (
        ("the web hall", web_after), ("the counter", counter_after), ("the screen pop", pop_after)) if left]
    if missed:
        console.print(f"[red]Not seen within {STEP_TIMEOUT_S:.0f} s: {'; '.join(missed)}.[/]")
    return not missed


async def _offer_track(http: aiohttp.ClientSession, endpoints: Endpoints, customer: DemoCustomer, event: str) -> None:
    """A Segment track of the demo offer by ``customer``, stamped now (after the offer was published)."""
    message = {"type": "track", "messageId": f"demo-{event.lower().replace(' ', '-')}-{customer.index}",
               "userId": customer.user_id, "event": event, "timestamp": datetime.now(UTC).isoformat(),
               "properties": {"offer_id": OFFER_ID, "offer_version": 1}}
    async with http.post(f"{endpoints.web}/v1/track", json=message,
                         headers={"Authorization": aiohttp.encode_basic_auth(WRITE_KEY, "")}) as response:
        response.raise_for_status()


WITHDRAWN = "withdrawn"  # what a channel that no longer lists the offer shows after the answer
OFFER_CHANNELS = ("web hall (query)", "counter (query)", "call center (instructions)", "agent's screen pop")


def offer_table(name: str, published: list[str], after: list[str]) -> Table:
    """One row per channel (``OFFER_CHANNELS``), what it showed once the offer was published and after the customer
    accepted it on the web: three columns, so that it fits an 80-column terminal whole (a column per channel
    truncated the headers and the WITHDRAW latency there)."""
    table = Table("channel", "published", "accepted on the web", title=f"Offer {OFFER_ID!r} for {name}, defined "
                  "once in YAML")
    for channel, before, later in zip(OFFER_CHANNELS, published, after, strict=True):
        table.add_row(channel, before, later)
    return table


async def _gone(listing: Any, timeout_s: float = STEP_TIMEOUT_S) -> list[str]:
    deadline = time.monotonic() + timeout_s
    found = await listing()
    while found and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        found = await listing()
    return found


class ScreenPopAnswers:
    """The screen pop's answers during a wait: the last status and the customer it named (diagnostics)."""

    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}  # HTTP status -> how many answers
        self.last: tuple[int, dict[str, Any]] | None = None

    async def ask(self, http: aiohttp.ClientSession, url: str, kind: str, value: str) -> dict[str, Any] | None:
        async with http.get(url, params={"type": kind, "value": value}) as response:
            text = await response.text()
            try:
                body = json.loads(text) if text else {}
            except ValueError:
                body = {"error": text[:200]}
            self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
            self.last = (response.status, body if isinstance(body, dict) else {})
            return self.last[1] if response.status == 200 else None


async def _why_not_on_screen_pop(http: aiohttp.ClientSession, endpoints: Endpoints, watch: InstructionWatch,
                                 customer_id: str, answers: ScreenPopAnswers, console: Console) -> None:
    """Say why the agent's screen pop lacks the offer: what the screen pop answered, and where the call-center
    SHOW instruction's identifier leads (the customer identity filed it under). Types and ids only, no values."""
    lines = [f"screen pop answers by status: {answers.statuses}"]
    if answers.last is not None:
        status, body = answers.last
        lines.append(f"last answer: HTTP {status}, customer {body.get('customer_id', '-')}, "
                     f"eligible_offers {[o.get('offer_id') for o in body.get('eligible_offers') or []]}, "
                     f"error {body.get('error', '-')}")
    shows = watch.of(customer_id, "CALL_CENTER", "SHOW")
    lines.append(f"SHOW instructions for {customer_id or '-'} on the call-center topic: {len(shows)}")
    lookup = f"{endpoints.screen_pop}/customers/lookup"
    for _, event in shows[:1]:
        for identifier in event.value.get("customer_identifiers") or []:
            probe = ScreenPopAnswers()
            found = await probe.ask(http, lookup, identifier["type"], identifier["value"]) or {}
            lines.append(f"its {identifier['type']} leads to customer {found.get('customer_id', '-')} "
                         f"(HTTP {probe.last[0] if probe.last else '-'}), eligible_offers "
                         f"{[o.get('offer_id') for o in found.get('eligible_offers') or []]}")
    lines.extend(await _identity_history(watch.settings, shows[:1]))
    async with http.get(f"{endpoints.screen_pop}/ready") as response:  # identity's consumer lag
        lines.append(f"identity /ready: HTTP {response.status} {await response.text()}")
    console.print("Offer missing from the agent's screen pop:\n  " + "\n  ".join(lines))


async def _identity_history(settings: OmnibusSettings, shows: list[tuple[float, Event]]) -> list[str]:
    """What identity decided about the SHOW instruction and its identifier: the identifier's assignments in
    order (which customer held it when), and every customer event the instruction triggered (types and ids)."""
    if not shows:
        return []
    history = TopicWatch(settings, [CUSTOMER_IDENTIFIERS, CUSTOMER_EVENTS])
    await history.start()
    await asyncio.sleep(3.0)  # a demo's topics are read in well under a second
    await history.stop()
    show = shows[0][1].value
    lines = []
    for identifier in show.get("customer_identifiers") or []:
        held = [f"{e.value['customer_id'] or '-'} v{e.value['version']} at {e.value['assigned_at']}"
                for _, e in history.seen if e.schema.endswith("IdentifierAssignment")
                and dict(e.value["identifier"]) == dict(identifier)]
        lines.append(f"its {identifier['type']} was assigned to: {'; '.join(held) or 'nobody'}")
    caused = [f"{e.schema.rsplit('.', 1)[-1]} {e.value.get('customer_id') or e.value.get('survivor_customer_id')}"
              f" {e.value.get('reason') or ''}".strip() for _, e in history.seen
              if (e.value.get("lineage") or {}).get("triggering_event_id") == show["envelope"]["event_id"]]
    lines.append(f"identity decisions triggered by the SHOW: {', '.join(caused) or 'none'}")
    return lines
