"""The faust shell of the offer processor: records in, ``OfferEngine`` decides, outputs out, then state.

One agent reads every input topic in batches (``take_events``). A batch's outputs (instructions,
signals) are published and acknowledged first, and only then are the table writes committed: a crash
in between replays the batch on the old state and republishes the same event ids.

The tables are looked up by any key (customer ids, identifiers, offer ids), so a worker must hold all
their partitions: the processor runs as **one worker** (``processors.scaling``). A second worker in its consumer
group (faust has no passive standby: it would take half the partitions) makes both process nothing and say so
(``processors.sole_worker``: records held back, ``/ready`` and the query 503, an error line, the alert
``OmnibusOneWorkerSplit``) until one stops; the one left goes on from the committed offsets. Fail-over is the
orchestrator starting the one worker again. Scaling out needs the inputs re-keyed by customer id first (see
``processors/offers/README.md``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import faust

from bus.app import create_app
from bus.config import OmnibusSettings
from bus.consume import RecordDecoder, hold_back, raw_record
from bus.dead_letter import DeadLetterWriter
from bus.errors import RawRecord
from bus.fenced_table import fenced_table
from bus.identifiers import IdentifierNormaliser
from bus.logging import get_logger
from bus.producer import EventProducer, Outgoing, worker_producer
from bus.serde import build_serde
from bus.topics import (
    CUSTOMER_CONTACTS,
    CUSTOMER_EVENTS,
    DEAD_LETTERS,
    IDENTIFIERS_OBSERVED,
    MARKETING_OFFERS,
    MARKETING_RESPONSES,
    TopicSpec,
    moved_from,
)
from processors import readiness, sole_worker
from processors.offers import metrics
from processors.offers.config import OffersSettings
from processors.offers.engine import NoCustomer, OfferEngine
from processors.offers.outputs import Batch, Emitter, Expired
from processors.offers.store import Stores, TableMap
from processors.scaling import runs_as_one_worker

APP_NAME = "offers"
# Billing and handoff events come on CUSTOMER_CONTACTS, under the customer identity placed them on (not read from
# their own topics: resolving them by an identifier gave a housemate's facts to a family phone's keeper).
INPUT_TOPICS: tuple[TopicSpec, ...] = (
    MARKETING_OFFERS, CUSTOMER_EVENTS, CUSTOMER_CONTACTS, MARKETING_RESPONSES, IDENTIFIERS_OBSERVED,
)
TABLES = ("catalog", "directory", "customers", "pending")
WAITED_FOR_IDENTITY = "WaitedForIdentity"  # dead letters of offer events dropped from pending (retention.py)
PHASES = ("decode", "engine", "encode", "publish_acked", "state_commit")
log = get_logger(__name__, component=APP_NAME)


@dataclass
class PhaseClock:
    """Seconds (wall, on the worker's event loop) spent in each phase of the batches, and records handled.

    ``publish_acked`` is the wait for Kafka's acknowledgements of the batch's outputs; the other phases
    are the worker's own work. Read by ``tests/bench/offers.py`` to show where an answer's time goes.
    """

    records: int = 0
    batches: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))

    def add(self, phase: str, started: float) -> float:
        now = time.perf_counter()
        self.seconds[phase] += now - started
        return now


@dataclass
class OffersWorker:
    app: faust.App
    engine: OfferEngine
    tables: dict[str, TableMap]
    settings: OffersSettings
    producer: EventProducer
    normaliser: IdentifierNormaliser
    clock: PhaseClock = field(default_factory=PhaseClock)
    guard: sole_worker.SoleWorkerGuard | None = None  # None: no guard (a processor declared to run as several)
    _started: bool = False
    _lock: asyncio.Lock | None = None

    def stores(self) -> Stores:
        return Stores(*(self.tables[name] for name in TABLES))

    async def ready(self) -> EventProducer:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if not self._started:
                await self.producer.start()
                self._started = True
        return self.producer

    async def stop_producer(self) -> None:
        if self._started:
            self._started = False
            await self.producer.stop()


async def expired_record(producer: EventProducer, expired: Expired, fallback_topic: str) -> RawRecord:
    """The record an offer event dropped from ``pending`` came in, for its dead letter: its value re-encoded as its
    topic does, its coordinates as kept (``origin``), so the dead letter's id is the same on a replay;
    ``fallback_topic`` for an event parked before origins were kept (no offset: a dead letter of its own id)."""
    topic, partition, offset, key = expired.origin or [fallback_topic, None, None, None]
    encoded = await producer.encode(Outgoing(str(topic), key, expired.event))
    return RawRecord(encoded.value, key.encode() if key else None, (), str(topic), partition, offset)


def build_worker(settings: OmnibusSettings, offers: OffersSettings,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), **faust_overrides: Any) -> OffersWorker:
    offers = offers.in_region(settings.identifiers.default_region)  # quiet hours in the deployment's zone (F8)
    serializer, deserializer = build_serde(settings.registry)
    producer = worker_producer(settings, serializer)
    app = create_app(APP_NAME, settings, web_port=offers.web_port, **faust_overrides)
    inputs = {spec.name(settings.topics): spec.partition_count(settings.topics) for spec in INPUT_TOPICS}
    guard = sole_worker.install(app, APP_NAME, inputs) if runs_as_one_worker(APP_NAME) else None
    # /live, /ready (503 while a second worker splits the partitions), consumer-lag gauges
    probes = readiness.install(app, APP_NAME, broker=settings.readiness, checks=(guard.reason,) if guard else ())
    schema: faust.Schema = faust.Schema(key_serializer="json", value_serializer="json")
    partitions = CUSTOMER_CONTACTS.partition_count(settings.topics)
    tables = {
        name: TableMap(fenced_table(app, f"offers-{name}", settings.topics, default=None, schema=schema,
                                    partitions=partitions), partitions)
        for name in TABLES
    }
    engine = OfferEngine(offers, Emitter(settings.topics, offers.source_system, clock), clock,
                         account_format=settings.identifiers.account_number_format)
    worker = OffersWorker(app, engine, tables, offers, producer,
                          IdentifierNormaliser(settings.identifiers, component=APP_NAME), guard=guard)
    dead_letters = DeadLetterWriter(producer, DEAD_LETTERS.name(settings.topics), APP_NAME)
    decoder = RecordDecoder(deserializer, dead_letters)
    contacts_topic = CUSTOMER_CONTACTS.name(settings.topics)
    responses_topic = MARKETING_RESPONSES.name(settings.topics)
    source = app.topic(*(spec.name(settings.topics) for spec in INPUT_TOPICS), key_serializer="raw",
                       value_serializer="raw")

    def admitted(events: Sequence[faust.EventT]) -> bool:
        """False (the events held back) while this worker holds only part of the partitions (``sole_worker``)."""
        return guard is None or guard.admits(events)

    async def handle_batch(events: Sequence[faust.EventT]) -> None:
        if not admitted(events):
            return
        await worker.ready()
        stores, batch, phases = worker.stores(), Batch(), worker.clock
        phases.batches, phases.records = phases.batches + 1, phases.records + len(events)
        for event in events:
            started = time.perf_counter()
            record = raw_record(event.message)
            decoded = await decoder.decode(record)
            started = phases.add("decode", started)
            if decoded is None:
                continue
            key = record.key.decode() if record.key else None
            attempt, produced = stores.nested(), Batch()
            try:
                engine.handle(attempt, decoded, key, produced, from_contacts=record.topic == contacts_topic,
                              moved_from=moved_from(record.headers),
                              origin=[record.topic, record.partition, record.offset, key])
            except NoCustomer as exc:
                await dead_letters.write(record, reason=str(exc), error_type="NoCustomer")
                continue
            except Exception as exc:  # a record the rules cannot take must not stall the partition
                log.exception("offer engine failed on a record", schema=decoded.schema)
                await dead_letters.write(record, reason=f"offer engine failed: {exc!r}", error_type=type(exc).__name__)
                continue
            attempt.commit()
            batch.merge(produced)
            phases.add("engine", started)
        if not admitted(events):  # a second worker joined meanwhile: nothing published, no table written
            return
        if batch.outgoing:
            started = time.perf_counter()
            encoded = [await producer.encode(item) for item in batch.outgoing]
            started = phases.add("encode", started)
            await producer.publish_many(batch.outgoing, encoded)
            phases.add("publish_acked", started)
        for expired in batch.expired:  # acknowledged before the tables forget them: nothing lost
            await dead_letters.write(await expired_record(producer, expired, responses_topic), reason=expired.reason,
                                     error_type=WAITED_FOR_IDENTITY)
        acked_s = time.time()
        started = time.perf_counter()
        stores.commit()
        phases.add("state_commit", started)
        metrics.record(batch.counts)
        metrics.accept_to_withdraw(acked_s - item.started_us / 1e6 for item in batch.instructions
                                   if item.action == "WITHDRAW" and item.started_us)

    @app.agent(source, name=f"{APP_NAME}.engine")
    async def process(stream: faust.StreamT) -> None:
        # faust's StreamT interface omits take_events, which its Stream (what an agent is given) has.
        batches = stream.take_events(offers.batch_size, offers.batch_within_s)  # type: ignore[attr-defined]
        async for events in batches:
            try:
                await handle_batch(events)
            except asyncio.CancelledError:
                hold_back(events)  # stopped mid-batch (SIGTERM, rebalance): never committed past (#13 build 5)
                raise
            except Exception as exc:
                hold_back(events)  # not committed past: the restarted worker takes the batch again
                log.exception("offer agent failed; stopping the worker", error_type=type(exc).__name__)
                await app.crash(exc)
                raise

    @app.on_before_shutdown.connect
    async def on_shutdown(sender: Any, /, *_: Any, **__: Any) -> None:
        await worker.stop_producer()

    if offers.web_port is not None:
        from processors.offers.web import register_views

        register_views(worker, tokens=settings.web.tokens, held_back=probes.held_back)
    return worker
