"""Offer processor benchmark: acceptance-to-withdraw latency under a steady load of answers, and the offer query.

    .venv/bin/python -m tests.bench.offers --customers 2000 --rate 100 --queries 2000

On a real broker (a throw-away local one unless ``--bootstrap-servers``), the real offer worker alone:
``--customers`` customers announced on ``customer.events.v1``, one offer published on the offers
topic (each customer then gets SHOW instructions on the call-center and counter topics), then every
customer accepts it on the web at a steady ``--rate`` answers per second (``OfferResponded`` on
``marketing.responses.v1``, ``received_at`` = the instant it is sent). A consumer on the call-center
instruction topic stamps each WITHDRAW when it arrives: acceptance-to-withdraw = arrival - sent.
Meanwhile ``--queries`` offer queries (``GET /customers/{id}/offers?channel=WEB``) run 4 at a time.

Baseline (same run, same broker): the bare Kafka round trip, a record produced with the same producer
settings and consumed on another topic at the same rate - the floor any processor pays.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition

from bus.config import OmnibusSettings
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, SerdeContext, build_serde
from bus.stack.ports import free_port
from bus.topics import CUSTOMER_EVENTS, MARKETING_INSTRUCTIONS_CALL_CENTER, MARKETING_RESPONSES, TopicSpec
from processors.offers.agent import build_worker
from processors.offers.campaigns import defined
from processors.offers.caps import ContactPolicy
from processors.offers.config import OffersSettings
from tests.processors.offers.factories import offer
from tests.support.settings import settings_with_topics

RESULTS = Path(__file__).parent / "results" / "offers.md"
OFFER_ID = "bench-offer"


def envelope(event_id: str, now: datetime) -> dict[str, Any]:
    return {"event_id": event_id, "occurred_at": now, "received_at": now, "source_system": "bench",
            "channel": "WEB", "site": None, "correlation_id": event_id, "causation_id": None, "source_event_id": None}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


class Stamps:
    """Consumes topics from their end, stamping each record (by a key of its value) when it arrives."""

    def __init__(self, settings: OmnibusSettings, specs: list[TopicSpec], pick: Any) -> None:
        self.settings, self.specs, self.pick = settings, specs, pick
        self.arrived: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        _, deserializer = build_serde(self.settings.registry)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka.bootstrap_servers, group_id=None,
                                    enable_auto_commit=False, fetch_max_wait_ms=10)
        await consumer.start()
        tps = [TopicPartition(s.name(self.settings.topics), p) for s in self.specs
               for p in range(s.partition_count(self.settings.topics))]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:
            await consumer.position(tp)

        async def run() -> None:
            try:
                while True:
                    for tp, messages in (await consumer.getmany(timeout_ms=20)).items():
                        now = time.time()
                        for m in messages:
                            key = self.pick(deserializer(m.value, SerdeContext(topic=tp.topic)))
                            if key is not None:
                                self.arrived.setdefault(key, now)
            finally:
                await consumer.stop()

        self._task = asyncio.create_task(run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


async def steady(count: int, rate: float, send: Any) -> None:
    """Calls ``send(i)`` for i in range(count) at ``rate`` per second (in small bursts every 10 ms)."""
    started = time.perf_counter()
    for i in range(count):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await send(i)


async def baseline_round_trip(settings: OmnibusSettings, count: int, rate: float) -> list[float]:
    """Bare Kafka: produce to a topic, consume it back; latency per record (s)."""
    sink = MARKETING_RESPONSES  # the responses topic itself: same partitions, same path (the processor is not running)
    serializer, _ = build_serde(settings.registry)
    sent: dict[str, float] = {}
    stamps = Stamps(settings, [sink], lambda e: e.value["offer_id"] if e.value["offer_id"].startswith("rt-") else None)
    await stamps.start()
    async with EventProducer(settings, serializer) as producer:
        async def send(i: int) -> None:
            key = f"rt-{i}"
            now = datetime.now(UTC)
            sent[key] = now.timestamp()
            value = {"envelope": envelope(str(uuid.uuid4()), now), "offer_id": key, "offer_version": 1,
                     "presentation_id": None, "channel": "WEB", "customer_identifiers": [], "response": "UNKNOWN",
                     "agent_id": None}
            asyncio.ensure_future(producer.publish(Outgoing(MARKETING_RESPONSES.name(settings.topics), key,
                                                            Event("omnibus.marketing.OfferResponded", value))))
        await steady(count, rate, send)
        await asyncio.sleep(2)
    await stamps.stop()
    return [stamps.arrived[k] - t for k, t in sent.items() if k in stamps.arrived]


async def run(args: argparse.Namespace, bootstrap: str, workdir: Path) -> str:
    settings = await settings_with_topics(bootstrap, partitions=args.partitions, log={"level": "WARNING"})
    serializer, _ = build_serde(settings.registry)
    customers = [f"cus_{i:06d}" for i in range(args.customers)]
    baseline = await baseline_round_trip(settings, min(args.customers, 2000), args.rate)

    port = free_port()
    worker = build_worker(settings, OffersSettings(web_port=port, policy=ContactPolicy(quiet_hours=None)),
                          datadir=str(workdir / "offers"))
    withdrawals = Stamps(settings, [MARKETING_INSTRUCTIONS_CALL_CENTER],
                         lambda e: e.value["customer_id"] if e.value["action"] == "WITHDRAW" else None)
    shows = Stamps(settings, [MARKETING_INSTRUCTIONS_CALL_CENTER],
                   lambda e: e.value["customer_id"] if e.value["action"] == "SHOW" else None)
    await withdrawals.start()
    await shows.start()
    await worker.app.start()
    sent: dict[str, float] = {}
    query_s: list[float] = []
    try:
        async with EventProducer(settings, serializer) as producer:
            now = datetime.now(UTC)
            created = [Outgoing(CUSTOMER_EVENTS.name(settings.topics), c, Event("omnibus.identity.CustomerCreated", {
                "envelope": envelope(f"created-{c}", now), "customer_id": c,
                "identifiers": [{"type": "USER_ID", "value": f"u-{c}"}],
                "lineage": {"triggering_event_id": "bench", "channel": "WEB", "rule": "co-observed"}})) for c in customers]
            for start in range(0, len(created), 1000):
                await producer.publish_many(created[start:start + 1000])
            published = time.time()
            await producer.publish(Outgoing(f"{settings.topics.prefix}.marketing.offers.v1", OFFER_ID,
                                            defined(offer(OFFER_ID, channels=["WEB", "CALL_CENTER", "BRANCH"]))))
            deadline = time.time() + 300
            while len(shows.arrived) < len(customers) and time.time() < deadline:
                await asyncio.sleep(0.2)
            fan_out_s = max(shows.arrived.values(), default=published) - published

            async def answer(i: int) -> None:
                customer = customers[i]
                now = datetime.now(UTC)
                sent[customer] = now.timestamp()
                value = {"envelope": envelope(f"accept-{customer}", now), "offer_id": OFFER_ID, "offer_version": 1,
                         "presentation_id": None, "channel": "WEB",
                         "customer_identifiers": [{"type": "USER_ID", "value": f"u-{customer}"}],
                         "response": "ACCEPTED", "agent_id": None}
                asyncio.ensure_future(producer.publish(Outgoing(MARKETING_RESPONSES.name(settings.topics),
                                                                f"USER_ID:u-{customer}",
                                                                Event("omnibus.marketing.OfferResponded", value))))

            async def queries(http: aiohttp.ClientSession, lane: int) -> None:
                for i in range(lane, args.queries, 4):
                    started = time.perf_counter()
                    url = f"http://127.0.0.1:{port}/customers/{customers[(i * 7919) % len(customers)]}/offers"
                    async with http.get(url, params={"channel": "WEB"}) as response:
                        await response.read()
                        assert response.status == 200, response.status
                    query_s.append(time.perf_counter() - started)
                    await asyncio.sleep(0.002)

            async with aiohttp.ClientSession() as http:
                await asyncio.gather(steady(len(customers), args.rate, answer),
                                     *(queries(http, lane) for lane in range(4)))
            deadline = time.time() + 60
            while len(withdrawals.arrived) < len(sent) and time.time() < deadline:
                await asyncio.sleep(0.2)
    finally:
        await withdrawals.stop()
        await shows.stop()
        await worker.app.stop()
    latencies = [withdrawals.arrived[c] - t for c, t in sent.items() if c in withdrawals.arrived]
    return report(args, latencies, len(sent), baseline, query_s, fan_out_s)


def machine() -> str:
    model = "unknown cpu"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, one local KRaft broker"


def report(args: argparse.Namespace, latencies: list[float], answers: int, baseline: list[float],
           query_s: list[float], fan_out_s: float) -> str:
    ms = 1000.0
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    p99 = percentile(latencies, 0.99)
    return "\n".join([
        "# Offer processor benchmark",
        "",
        f"Command: `.venv/bin/python -m tests.bench.offers --customers {args.customers} --rate {args.rate} "
        f"--queries {args.queries} --partitions {args.partitions}`",
        f"Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}. Machine: {machine()}. "
        f"Load average (1/5/15 min) at the end: {load} (other work shares the CPUs).",
        "",
        f"{args.customers:,} customers, one offer on WEB, CALL_CENTER and BRANCH (SHOW to all of them took "
        f"{fan_out_s:.1f} s after publishing), then every customer accepts on the web at {args.rate:g} answers/s.",
        "",
        "## Acceptance to withdraw (answer sent -> WITHDRAW read from the call-center instruction topic)",
        "",
        "| path | records | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        f"| offer processor: answer -> resolve -> state -> WITHDRAW on every push channel | {len(latencies):,} of "
        f"{answers:,} | {percentile(latencies, 0.5) * ms:.1f} | {p99 * ms:.1f} | {max(latencies, default=0) * ms:.1f} |",
        f"| baseline: bare Kafka produce -> consume, same rate | {len(baseline):,} | "
        f"{percentile(baseline, 0.5) * ms:.1f} | {percentile(baseline, 0.99) * ms:.1f} | "
        f"{max(baseline, default=0) * ms:.1f} |",
        "",
        f"Target p99 < 1 s: {'met' if p99 < 1.0 else 'NOT met'} ({p99:.3f} s). Ratio of p99s (processor / bare "
        f"Kafka): {p99 / max(percentile(baseline, 0.99), 1e-9):.1f}x.",
        "",
        "## Offer query (`GET /customers/{id}/offers?channel=WEB`, 4 concurrent clients, during the answers)",
        "",
        "| queries | p50 ms | p99 ms |",
        "|---:|---:|---:|",
        f"| {len(query_s):,} | {percentile(query_s, 0.5) * ms:.1f} | {percentile(query_s, 0.99) * ms:.1f} |",
        "",
    ])


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0, help="Answers per second.")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--bootstrap-servers", default=os.environ.get("OMNIBUS_TEST_BOOTSTRAP"))
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> str:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="omnibus-bench-") as tmp:
        workdir = Path(tmp)
        broker, bootstrap = None, args.bootstrap_servers
        if not bootstrap:
            from bus.stack.kafka import KafkaBroker

            broker = KafkaBroker(workdir / "broker").start()
            bootstrap = broker.bootstrap_servers
        try:
            text = asyncio.run(run(args, bootstrap, workdir))
        finally:
            if broker is not None:
                broker.stop()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    return text


if __name__ == "__main__":
    main()
