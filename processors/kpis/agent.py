"""The faust shell of the KPI processor: records in, ``KpiLedger`` and ``Rollup`` do the rest.

Agent ``kpis.count`` reads the co-partitioned inputs (contact events, customer contacts, handoff events,
offer responses), the customer-history moves after merges and the KPI ticks; for each record it computes the
ledger change, publishes the partial
counts of the windows it touched (waiting for Kafka's acknowledgement), then writes the change to the
``kpi-ledger`` table. Agent ``kpis.rollup`` reads the partials, sums them per window in the
``kpi-windows`` table and publishes a ``KpiAggregate`` when a window's sum changed. A record that cannot
be decoded or applied is dead-lettered and the partition moves on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import faust

from bus.app import create_app
from bus.clock import Clock, to_micros
from bus.config import OmnibusSettings, TopicSettings
from bus.consume import RecordDecoder, raw_record, stop_on_failure
from bus.dead_letter import DeadLetterWriter
from bus.errors import ConfigError, RawRecord
from bus.fenced_table import fenced_table
from bus.logging import get_logger
from bus.metrics import TICK_SCANS
from bus.producer import LazyProducer, Outgoing, worker_producer
from bus.serde import build_serde
from bus.tick_gate import Outcome, TickGate
from bus.ticks import BadTick, Ticker
from bus.topics import (
    CONTACT_EVENTS,
    CUSTOMER_CONTACTS,
    DEAD_LETTERS,
    HANDOFF_EVENTS,
    KPI_AGGREGATES,
    KPI_MERGES,
    KPI_PARTIALS,
    KPI_TICKS,
    MARKETING_RESPONSES,
    TopicSpec,
    moved_from,
)
from processors import readiness
from processors.kpis import metrics
from processors.kpis.config import KpisSettings
from processors.kpis.ledger import Change, KpiLedger, Source, decode_move, encode_move
from processors.kpis.peers import Held, http_fetch, owners
from processors.kpis.retention import WindowsKept
from processors.kpis.rollup import Rollup, decode_partial, encode_partial, partition_of
from processors.kpis.web import register_views
from processors.kpis.windows import WindowKey

APP_NAME = "kpis"
LEDGER_TABLE, WINDOWS_TABLE = "kpi-ledger", "kpi-windows"
INPUTS: dict[TopicSpec, Source] = {
    CONTACT_EVENTS: "contacts", CUSTOMER_CONTACTS: "customer-contacts", HANDOFF_EVENTS: "handoffs",
    MARKETING_RESPONSES: "offers",
}
log = get_logger(__name__, component=APP_NAME)


def changelogs(settings: OmnibusSettings) -> list[TopicSpec]:
    """faust's changelog topics of the two tables (``<prefix>.kpis-<table>-changelog``), for whoever creates
    topics ahead of the first start (faust creates them itself otherwise)."""
    partitions = {LEDGER_TABLE: CUSTOMER_CONTACTS.partition_count(settings.topics),
                  WINDOWS_TABLE: KPI_PARTIALS.partition_count(settings.topics)}
    return [TopicSpec(f"{APP_NAME}-{table}-changelog", f"changelog of the {table} table (internal, JSON)",
                      key="table key", compacted=True, retention_ms=-1, partitions=count, internal=True)
            for table, count in partitions.items()]


@dataclass
class KpiWorker:
    app: faust.App
    ledger: KpiLedger
    rollup: Rollup
    producer: LazyProducer
    metrics: metrics.KpiMetrics
    windows: Callable[[], dict[str, dict[str, int]]]  # the windows this worker owns, summed


def _json_table(app: faust.App, name: str, partitions: int, topics: TopicSettings) -> Any:
    return fenced_table(app, name, topics, default=None, partitions=partitions,
                     schema=faust.Schema(key_serializer="json", value_serializer="json"))


def build_worker(settings: OmnibusSettings, kpis: KpisSettings, clock: Clock, **faust_overrides: Any) -> KpiWorker:
    serializer, deserializer = build_serde(settings.registry)
    producer = LazyProducer(lambda: worker_producer(settings, serializer))
    dead_letters = DeadLetterWriter(producer, DEAD_LETTERS.name(settings.topics), APP_NAME)  # type: ignore[arg-type]
    decoder = RecordDecoder(deserializer, dead_letters)
    app = create_app(APP_NAME, settings, web_port=kpis.web_port, **faust_overrides)
    probes = readiness.install(app, APP_NAME, broker=settings.readiness)  # /live, /ready, consumer-lag gauges
    topics = settings.topics
    counts = {spec.partition_count(topics) for spec in (*INPUTS, KPI_MERGES, KPI_TICKS)}
    if len(counts) != 1:
        raise ConfigError(f"the KPI processor's inputs, merges and ticks need one partition count, got {counts}")
    partition_count = counts.pop()
    sources = {spec.name(topics): source for spec, source in INPUTS.items()}
    ticks_topic, partials_topic = KPI_TICKS.name(topics), KPI_PARTIALS.name(topics)
    merges_topic = KPI_MERGES.name(topics)
    aggregates_topic = KPI_AGGREGATES.name(topics)
    ledger = KpiLedger(kpis, _json_table(app, LEDGER_TABLE, partition_count, topics))
    rollup = Rollup(_json_table(app, WINDOWS_TABLE, KPI_PARTIALS.partition_count(topics), topics),
                    kpis.source_system,
                    clock.now)
    kpi_metrics = metrics.KpiMetrics(kpis)
    kept = WindowsKept(kpis.windows_kept_us)
    partials_count = KPI_PARTIALS.partition_count(topics)

    def owned_by(partition: int) -> Callable[[str], bool]:
        """Window keys of one partials partition (a table write goes to the changelog of the record's partition)."""
        return lambda key: partition_of(key, partials_count) == partition

    # Every input of the count agent but the ticks: a tick closes windows only once they were read up to it.
    ticker = Ticker(app, ticks_topic, partition_count, clock, kpis.tick_tolerance_s, inputs=(*sources, merges_topic))
    gate = TickGate(kpis.tick_max_defer_s, committed=ticker.committed)

    async def publish(change: Change) -> None:
        """Moves and partials of a change, acknowledged by Kafka (the caller commits the change after)."""
        ready = await producer.ready()
        await asyncio.gather(*(ready.send_raw(merges_topic, survivor.encode(), encode_move(move))
                               for survivor, move in change.moves))
        await asyncio.gather(*(ready.send_raw(partials_topic, key.encode(), encode_partial(partial))
                               for key, partial in change.partials()))

    async def change_of(record: RawRecord, partition: int) -> Change | None:
        """The ledger change one record makes (None: dead-lettered, or a tick deferred by the gate)."""
        if record.topic == ticks_topic:
            try:
                tick = ticker.read(record)
            except BadTick as error:
                await dead_letters.write(record, reason=str(error), error_type="BadTick")
                return None
            admission = gate.admit(partition, tick)
            TICK_SCANS.labels(component=APP_NAME, outcome=admission.outcome.value).inc()
            return ledger.tick(partition, admission.scan_at_us) if admission.scan_at_us is not None else None
        if record.topic == merges_topic:
            try:
                return ledger.move((record.key or b"").decode(), decode_move(record.value), partition)
            except ValueError as error:
                await dead_letters.write(record, reason=str(error), error_type="BadMove")
                return None
        decoded = await decoder.decode(record)
        if decoded is None:
            return None
        kind = sources[record.topic or ""]
        too_late = ledger.too_late
        try:
            change = ledger.apply(decoded, kind, partition, record.key.decode() if record.key else None,
                                  moved_from(record.headers))
        except Exception as error:  # a record the rules cannot handle must not stall the partition
            log.exception("event could not be counted", schema=decoded.schema)
            metrics.REJECTED.labels(topic_kind=kind).inc()
            await dead_letters.write(record, reason=f"{type(error).__name__}: {error}", error_type="KpiRuleError")
            return None
        if ledger.too_late > too_late:
            metrics.TOO_LATE.inc()
        return change

    async def save(change: Change | None) -> None:
        if change is not None and not change.empty:
            await publish(change)
            ledger.commit(change)

    source = app.topic(*sources, merges_topic, ticks_topic, key_serializer="raw", value_serializer="raw")

    @app.agent(source, name=f"{APP_NAME}.count")
    async def count(stream: faust.StreamT) -> None:
        async for event in stream.events():
            async with stop_on_failure(app, event):
                record = raw_record(event.message)
                partition = record.partition or 0
                await save(await change_of(record, partition))
                if record.topic != ticks_topic and (
                        at_us := gate.read(record.topic or "", partition, record.offset or 0)) is not None:
                    TICK_SCANS.labels(component=APP_NAME, outcome=Outcome.CAUGHT_UP.value).inc()
                    await save(ledger.tick(partition, at_us))  # the tick deferred until this record was read

    @app.agent(app.topic(partials_topic, key_serializer="raw", value_serializer="raw"), name=f"{APP_NAME}.rollup")
    async def roll(stream: faust.StreamT) -> None:
        async for event in stream.events():
            async with stop_on_failure(app, event):
                record = raw_record(event.message)
                try:
                    key = (record.key or b"").decode()
                    WindowKey.parse(key)
                    partial = decode_partial(record.value)
                except ValueError as error:
                    await dead_letters.write(record, reason=str(error), error_type="BadPartial")
                    continue
                p = record.partition or 0
                if kept.expired(rollup.store, key, partial, p, owned_by(p)):
                    continue  # a stale copy for a window no longer kept (``retention``)
                rolled = rollup.receive(key, partial)
                if rolled is None:
                    continue
                if rolled.aggregate is not None:
                    await producer.publish(Outgoing(aggregates_topic, key, rolled.aggregate))
                    metrics.AGGREGATES.labels(period=rolled.aggregate.value["granularity"].lower()).inc()
                rollup.save(key, rolled)

    ticker.publish_every(kpis.tick_interval_s, producer, name=f"{APP_NAME}.ticker")

    def owned_partitions() -> set[int]:
        return {tp.partition for tp in app.consumer.assignment() if tp.topic == partials_topic}

    def windows_of(partitions: set[int]) -> dict[str, dict[str, int]]:
        return rollup.current(lambda key: partition_of(key, partials_count) in partitions)

    def owned_windows() -> dict[str, dict[str, int]]:
        return windows_of(owned_partitions())

    @app.timer(kpis.metrics_refresh_s, name=f"{APP_NAME}.gauges")
    async def refresh_gauges() -> None:
        kpi_metrics.refresh(owned_windows(), to_micros(clock.now()))

    @app.on_partitions_assigned.connect
    async def on_assigned(sender: Any, /, *_: Any, **__: Any) -> None:
        gate.reset()  # another worker may have read on: positions start again from the committed offsets

    @app.on_before_shutdown.connect  # type: ignore[arg-type]  # faust types handlers as sync
    async def on_shutdown(sender: Any, **_: Any) -> None:
        await producer.stop()

    if kpis.web_port is not None:
        held = Held(partials_count, owned_partitions, windows_of, lambda: owners(app, WINDOWS_TABLE))
        register_views(app, held, http_fetch(app, settings.web.tokens), cannot_serve=probes.waiting_for,
                       tokens=settings.web.tokens, held_back=probes.held_back)
    return KpiWorker(app, ledger, rollup, producer, kpi_metrics, owned_windows)
