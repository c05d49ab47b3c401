"""Offer processor benchmark: acceptance-to-withdraw latency under a steady load of answers, and the offer query.

    .venv/bin/python -m tests.bench.offers --customers 2000 --rate 100 --queries 2000

On a real broker (a throw-away local one unless ``--bootstrap-servers``), the real offer worker alone:
``--customers`` customers announced on ``customer.events.v1``, one offer published on the offers
topic (each customer then gets SHOW instructions on the call-center and counter topics), then every
customer accepts it on the web at a steady ``--rate`` answers per second (``OfferResponded`` on
``marketing.responses.v1``, ``received_at`` = the instant it is sent). A consumer on the call-center
instruction topic stamps each WITHDRAW when it arrives: acceptance-to-withdraw = arrival - sent.
Then ``--queries`` offer queries (``GET /customers/{id}/offers?channel=WEB``) run 4 at a time (after the
answers: the bench, the worker and its web server share one process, so running both at once would
measure their competition for the CPU, not either path).

Baseline (same run, same broker): the bare Kafka round trip, a record produced with the same producer
settings and consumed on another topic at the same rate - the floor any processor pays.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bus.config import OmnibusSettings
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.topics import (
    CUSTOMER_CONTACTS,
    CUSTOMER_EVENTS,
    MARKETING_INSTRUCTIONS_CALL_CENTER,
    MARKETING_RESPONSES,
    MARKETING_SIGNALS,
    TopicSpec,
)
from demo.offers import TopicWatch
from processors.offers.agent import PHASES, PhaseClock, build_worker
from processors.offers.campaigns import defined
from processors.offers.caps import ContactPolicy
from processors.offers.config import OffersSettings
from tests.processors.offers.factories import offer
from tests.support.settings import settings_with_topics

RESULTS = Path(__file__).parent / "results" / "offers.md"
OFFER_ID = "bench-offer"
TITLE = "# Offer processor benchmark"


def envelope(event_id: str, now: datetime) -> dict[str, Any]:
    return {"event_id": event_id, "occurred_at": now, "received_at": now, "source_system": "bench",
            "channel": "WEB", "site": None, "correlation_id": event_id, "causation_id": None, "source_event_id": None}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


class Stamps(TopicWatch):
    """What arrives on some topics after ``start()``, by a key picked from each record: when it was read, and
    its ``envelope.occurred_at`` (when its producer made it). The first record per key counts."""

    def __init__(self, settings: OmnibusSettings, specs: list[TopicSpec], pick: Any) -> None:
        super().__init__(settings, specs, from_end=True)
        self.pick = pick

    def _first(self) -> dict[str, tuple[float, float]]:
        first: dict[str, tuple[float, float]] = {}
        for at, event in self.seen:
            key = self.pick(event)
            if key is not None and key not in first:
                first[key] = (at, event.value["envelope"]["occurred_at"].timestamp())
        return first

    @property
    def arrived(self) -> dict[str, float]:
        return {key: at for key, (at, _) in self._first().items()}

    @property
    def created(self) -> dict[str, float]:
        return {key: made for key, (_, made) in self._first().items()}


def of_action(stamps: dict[str, float], action: str) -> dict[str, float]:
    """The stamps of one instruction action, by customer id (keys are ``ACTION|customer``)."""
    prefix = f"{action}|"
    return {key[len(prefix):]: at for key, at in stamps.items() if key.startswith(prefix)}


@dataclass(frozen=True)
class AnswerCost:
    """Where the answer phase's time went: the process's CPU seconds (bench + worker: one process), the
    worker's per-phase wall seconds on its event loop (``PhaseClock``) since ``before``, and the baseline's
    CPU per record for comparison."""

    process_cpu_s: float
    after: PhaseClock
    before: PhaseClock
    baseline_cpu_per_record_s: float  # the bare Kafka round trip's CPU per record (producer + consumer)

    def lines(self, answers: int) -> list[str]:
        n = max(answers, 1)
        spent = {phase: self.after.seconds[phase] - self.before.seconds[phase] for phase in PHASES}
        batches = self.after.batches - self.before.batches
        records = self.after.records - self.before.records
        rows = [f"| {phase} | {1000 * seconds / n:.3f} |" for phase, seconds in spent.items()]
        summary = (
            f"Per answer, during the answer phase ({answers:,} answers, {records:,} records in {batches:,} batches, "
            f"{records / max(batches, 1):.1f} records per batch): the whole process (bench's producer and consumer + "
            f"the worker) used {1000 * self.process_cpu_s / n:.2f} ms CPU per answer (the bare Kafka round trip: "
            f"{1000 * self.baseline_cpu_per_record_s:.2f} ms per record). The worker's phases, wall ms per answer on "
            "its event loop:")
        return [
            summary,
            "",
            "| phase | ms per answer |",
            "|---|---:|",
            *rows,
        ]


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
    """Bare Kafka: produce to a topic, consume it back; latency per record (s). The records are answers
    without identifiers, on a topic the offer worker does not read."""
    sink = MARKETING_SIGNALS  # a topic of the same partitions that the offer worker does not read
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
            asyncio.ensure_future(producer.publish(Outgoing(sink.name(settings.topics), key,
                                                            Event("omnibus.marketing.OfferResponded", value))))
        await steady(count, rate, send)
        await asyncio.sleep(2)
    await stamps.stop()
    arrived = stamps.arrived
    return [arrived[k] - t for k, t in sent.items() if k in arrived]


async def run(args: argparse.Namespace, bootstrap: str, workdir: Path) -> str:
    settings = await settings_with_topics(bootstrap, partitions=args.partitions, log={"level": "WARNING"})
    serializer, _ = build_serde(settings.registry)
    customers = [f"cus_{i:06d}" for i in range(args.customers)]
    cpu_s = time.process_time()
    baseline = await baseline_round_trip(settings, min(args.customers, 2000), args.rate)
    baseline_cpu_s = time.process_time() - cpu_s

    worker = build_worker(settings, OffersSettings(web_port=0, policy=ContactPolicy(quiet_hours=None),
                                                   **({"batch_within_s": args.batch_within} if args.batch_within else {})),
                          datadir=str(workdir / "offers"))
    port = worker.app.conf.web_port  # port 0: bound when the worker was built, served on at its start
    # one consumer for SHOW and WITHDRAW: the bench's own decoding shares the worker's process and CPU
    instructions = Stamps(settings, [MARKETING_INSTRUCTIONS_CALL_CENTER],
                          lambda e: f"{e.value['action']}|{e.value['customer_id']}")
    await instructions.start()
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
            if args.distinct_facts:  # a product of its own per customer: no two customers share their facts
                # as identity re-publishes it: on customer.contacts, keyed by its customer (the worker runs alone)
                created += [Outgoing(CUSTOMER_CONTACTS.name(settings.topics), c, Event(
                    "omnibus.business.ProductSubscribed", {
                        "envelope": envelope(f"product-{c}", now), "account_number": f"A-{c}",
                        "customer_identifiers": [{"type": "USER_ID", "value": f"u-{c}"}], "subscription_id": f"S-{c}",
                        "product_code": f"P-{c}", "product_name": "bench", "effective_at": now})) for c in customers]
            for start in range(0, len(created), 1000):
                await producer.publish_many(created[start:start + 1000])
            published = time.time()
            await producer.publish(Outgoing(f"{settings.topics.prefix}.marketing.offers.v1", OFFER_ID,
                                            defined(offer(OFFER_ID, channels=["WEB", "CALL_CENTER", "BRANCH"]))))
            deadline = time.time() + 300
            while len(of_action(instructions.arrived, "SHOW")) < len(customers) and time.time() < deadline:
                await asyncio.sleep(0.2)
            fan_out_s = max(of_action(instructions.arrived, "SHOW").values(), default=published) - published
            await asyncio.sleep(args.settle)  # let the worker drain what the set-up queued (state writes, facts)

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

            before, cpu_s = PhaseClock(worker.clock.records, worker.clock.batches, dict(worker.clock.seconds)), time.process_time()
            await steady(len(customers), args.rate, answer)
            deadline = time.time() + 60
            while len(of_action(instructions.arrived, "WITHDRAW")) < len(sent) and time.time() < deadline:
                await asyncio.sleep(0.2)
            cost = AnswerCost(time.process_time() - cpu_s, worker.clock, before, baseline_cpu_s / max(len(baseline), 1))
            # then the query, on its own: in this one process it would take CPU from the answers' path
            async with aiohttp.ClientSession() as http:
                await asyncio.gather(*(queries(http, lane) for lane in range(4)))
    finally:
        await instructions.stop()
        await worker.app.stop()
    arrived, created = of_action(instructions.arrived, "WITHDRAW"), of_action(instructions.created, "WITHDRAW")
    latencies = [arrived[c] - t for c, t in sent.items() if c in arrived]
    decided = [created[c] - t for c, t in sent.items() if c in created]
    return report(args, latencies, len(sent), baseline, query_s, fan_out_s, decided, cost)


def machine() -> str:
    model = "unknown cpu"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, one local KRaft broker"


def _row(label: str, seconds: list[float], records: str) -> str:
    """One latency row in milliseconds: p50, p99, max."""
    ms = [1000.0 * percentile(seconds, share) for share in (0.5, 0.99)] + [1000.0 * max(seconds, default=0)]
    return f"| {label} | {records} | " + " | ".join(f"{value:.1f}" for value in ms) + " |"


def report(args: argparse.Namespace, latencies: list[float], answers: int, baseline: list[float],
           query_s: list[float], fan_out_s: float, decided: list[float], cost: AnswerCost | None = None) -> str:
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    p99, base_p99 = percentile(latencies, 0.99), percentile(baseline, 0.99)
    command = (f"`.venv/bin/python -m tests.bench.offers --customers {args.customers} --rate {args.rate:g} "
               f"--queries {args.queries} --partitions {args.partitions} --settle {args.settle:g}"
               + (" --distinct-facts" if args.distinct_facts else "")
               + (f" --batch-within {args.batch_within:g}" if args.batch_within else "") + "`")
    facts = ("every customer with facts of its own (a product each: no eligibility result reused)" if args.distinct_facts
             else "all customers with the same facts (eligibility evaluated once, then reused)")
    workload = (f"{args.customers:,} customers, {facts}, one offer on WEB, CALL_CENTER and BRANCH (SHOW to all of them took "
                f"{fan_out_s:.1f} s after publishing), then every customer accepts on the web at {args.rate:g} answers/s.")
    verdict = (f"Target p99 < 1 s: {'met' if p99 < 1.0 else 'NOT met'} ({p99:.3f} s). "
               f"Ratio of p99s (processor / bare Kafka): {p99 / max(base_p99, 1e-9):.1f}x.")
    return "\n".join([
        TITLE,
        "",
        f"Command: {command}",
        f"Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}. Machine: {machine()}. "
        + f"Load average (1/5/15 min) at the end: {load} (other work shares the CPUs).",
        "",
        workload,
        "",
        "## Acceptance to withdraw (answer sent -> WITHDRAW read from the call-center instruction topic)",
        "",
        "| path | records | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        _row("offer processor: answer -> resolve -> state -> WITHDRAW on every push channel", latencies,
             f"{len(latencies):,} of {answers:,}"),
        _row("of which: answer sent -> WITHDRAW decided (its envelope.occurred_at)", decided, f"{len(decided):,}"),
        _row("baseline: bare Kafka produce -> consume, same rate", baseline, f"{len(baseline):,}"),
        "",
        verdict,
        "",
        *(cost.lines(answers) + [""] if cost else []),
        "## Offer query (`GET /customers/{id}/offers?channel=WEB`, 4 concurrent clients, after the answers)",
        "",
        "| queries | p50 ms | p99 ms |",
        "|---:|---:|---:|",
        f"| {len(query_s):,} | {1000 * percentile(query_s, 0.5):.1f} | {1000 * percentile(query_s, 0.99):.1f} |",
        "",
    ])


def earlier_runs(output: Path) -> str:
    """The runs already in ``output``, to keep below the new one (newest first)."""
    previous = output.read_text(encoding="utf-8") if output.exists() else ""
    body = previous.removeprefix(TITLE + "\n").strip()
    return f"\n---\n\n## Earlier run\n\n{body}\n" if body else ""


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0, help="Answers per second.")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--settle", type=float, default=5.0, help="Seconds to wait after the set-up, before the answers.")
    parser.add_argument("--batch-within", type=float, default=None,
                        help="The worker's OMNIBUS_PROCESSOR_OFFERS__BATCH_WITHIN_S (seconds); default: its setting.")
    parser.add_argument("--distinct-facts", action="store_true",
                        help="Give every customer a product of its own, so no eligibility result can be reused.")
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
    args.output.write_text(text + earlier_runs(args.output), encoding="utf-8")
    print(text)
    return text


if __name__ == "__main__":
    main()
