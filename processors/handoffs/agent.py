"""The faust shell of the handoff tracker: records and ticks in, ``HandoffTracker`` does the rest.

One agent reads two co-partitioned topics: ``handoff.events.v1`` (lifecycle records) and
``handoff.ticks.v1`` (clock ticks, see ``ticks``), so both the transitions and the deadline scan of
partition p write the state table's partition p. A timer publishes the ticks of the partitions this
worker owns, reading the injected ``Clock``; another refreshes the open-handoff gauges. When customers
are followed (#15), a second agent digests ``business.events.v1`` into ``handoff.tier-facts.v1`` and a
``DirectoryFeed`` keeps the in-memory ``CustomerDirectory`` current; ticks apply its changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from bus.app import create_app
from bus.clock import Clock, to_micros
from bus.config import OmnibusSettings
from bus.consume import RecordDecoder, raw_record, stop_on_failure
from bus.dead_letter import DeadLetterWriter
from bus.fenced_table import fenced_table
from bus.logging import get_logger
from bus.producer import LazyProducer, worker_producer
from bus.serde import build_serde
from bus.tick_gate import TickGate
from bus.ticks import BadTick, Ticker
from bus.topics import (
    BUSINESS_EVENTS,
    DEAD_LETTERS,
    HANDOFF_EVENTS,
    HANDOFF_NOTIFICATIONS,
    HANDOFF_TICKS,
    HANDOFF_TIER_FACTS,
)
from processors import readiness
from processors.handoffs.config import HandoffPolicy, HandoffsSettings
from processors.handoffs.directory import CustomerDirectory
from processors.handoffs.directory_feed import DirectoryFeed, tier_fact_record
from processors.handoffs.metrics import HandoffMetrics
from processors.handoffs.outputs import Emitter
from processors.handoffs.placements import Placements
from processors.handoffs.tier_facts import tier_facts
from processors.handoffs.tracker import Destinations, HandoffTracker

APP_NAME = "handoffs"
TABLE_NAME = "handoff-state"
log = get_logger(__name__, component=APP_NAME)


@dataclass
class HandoffWorker:
    app: faust.App
    tracker: HandoffTracker
    producer: LazyProducer
    feed: DirectoryFeed | None = None  # None when customers are not followed


def build_worker(
    settings: OmnibusSettings, handoffs: HandoffsSettings, policy: HandoffPolicy, clock: Clock, **faust_overrides: Any
) -> HandoffWorker:
    serializer, deserializer = build_serde(settings.registry)
    producer = LazyProducer(lambda: worker_producer(settings, serializer))
    # The writer only calls ``publish``, which the lazily started producer provides.
    dead_letters = DeadLetterWriter(producer, DEAD_LETTERS.name(settings.topics), APP_NAME)  # type: ignore[arg-type]
    decoder = RecordDecoder(deserializer, dead_letters)
    app = create_app(APP_NAME, settings, web_port=handoffs.web_port, **faust_overrides)
    readiness.install(app, APP_NAME, broker=settings.readiness)  # /live, /ready, consumer-lag gauges
    events_topic, ticks_topic = HANDOFF_EVENTS.name(settings.topics), HANDOFF_TICKS.name(settings.topics)
    partition_count = HANDOFF_TICKS.partition_count(settings.topics)
    schema: faust.Schema = faust.Schema(key_serializer="json", value_serializer="json")
    table = fenced_table(app, TABLE_NAME, settings.topics, default=None, schema=schema,
                         partitions=HANDOFF_EVENTS.partition_count(settings.topics))

    ticker = Ticker(app, ticks_topic, partition_count, clock, handoffs.tick_tolerance_s, inputs=(events_topic,))
    gate = TickGate(handoffs.tick_max_defer_s, committed=ticker.committed)
    directory = CustomerDirectory(placements=Placements(retention_ms=int(handoffs.directory_retention_s * 1000))) \
        if handoffs.follow_customers else None
    feed = DirectoryFeed(settings, directory, deserializer) if directory is not None else None
    tracker = HandoffTracker(
        policy, Emitter(handoffs.source_system, clock), table, producer, dead_letters,
        Destinations(events_topic, HANDOFF_NOTIFICATIONS.name(settings.topics)), metrics=HandoffMetrics(policy),
        owned_partitions=ticker.owned_partitions, directory=directory, gate=gate,
        retention=handoffs.retention,
    )
    source = app.topic(events_topic, ticks_topic, key_serializer="raw", value_serializer="raw")

    @app.agent(source, name=f"{APP_NAME}.tracker")
    async def track(stream: faust.StreamT) -> None:
        async for event in stream.events():
            async with stop_on_failure(app, event):
                record = raw_record(event.message)
                if record.topic == ticks_topic:
                    try:
                        tick = ticker.read(record)
                    except BadTick as error:
                        await dead_letters.write(record, reason=str(error), error_type="BadTick")
                        continue
                    await tracker.on_tick(record.partition or 0, tick)
                else:
                    if (decoded := await decoder.decode(record)) is not None:
                        await tracker.handle(decoded, record)
                    await tracker.input_read(record)  # a scan deferred until this record was read runs now

    if feed is not None:
        facts_topic = HANDOFF_TIER_FACTS.name(settings.topics)
        business = app.topic(BUSINESS_EVENTS.name(settings.topics), key_serializer="raw", value_serializer="raw")

        @app.agent(business, name=f"{APP_NAME}.tier-facts")
        async def digest_business_events(stream: faust.StreamT) -> None:
            async for event in stream.events():
                async with stop_on_failure(app, event):
                    record = raw_record(event.message)
                    decoded = await decoder.decode(record)
                    try:
                        facts = tier_facts(decoded) if decoded is not None else []
                    except Exception as error:  # a record the digest cannot read must not stall the partition
                        await dead_letters.write(record, reason=f"{type(error).__name__}: {error}",
                                                 error_type="TierFactError")
                        continue
                    for fact in facts:
                        key, value = tier_fact_record(fact, policy.tiers)
                        await (await producer.ready()).send_raw(facts_topic, key, value)

        @app.task
        async def start_directory_feed() -> None:
            await feed.start()

    ticker.publish_every(handoffs.tick_interval_s, producer, name=f"{APP_NAME}.ticker")

    @app.timer(handoffs.metrics_refresh_s, name=f"{APP_NAME}.gauges")
    async def refresh_gauges() -> None:
        tracker.refresh_metrics(to_micros(clock.now()))

    @app.on_partitions_assigned.connect
    async def on_assigned(sender: Any, /, *_: Any, **__: Any) -> None:
        tracker.index.invalidate()  # rebuilt from the (recovered) table at each partition's next tick
        tracker.customer_index.invalidate()
        gate.reset()  # another worker may have read on: positions start again from the committed offsets

    @app.on_before_shutdown.connect
    async def on_shutdown(sender: Any, /, *_: Any, **__: Any) -> None:
        if feed is not None:
            await feed.stop()
        await producer.stop()

    return HandoffWorker(app, tracker, producer, feed)
