"""The identity processor's faust shell: decode, hand to the graph, publish, then keep the new state.

Two agents, both batching (``take_events``) so a batch waits for Kafka's acknowledgement once:

* intake (contact, identity, business, handoff and section topics): normalise identifiers and start
  one saga per event on the graph topic; invalid and blocked values are refused there and then.
* graph (the internal graph topic, keyed by node): run the protocol against the node tables.

Order within a batch: every output is published and acknowledged first, and only then are the new
states written to the tables. A crash in between replays the batch on the old state, which produces
the same messages again (and the handlers drop what they already did): nothing is lost.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import faust
from aiokafka.admin import AIOKafkaAdminClient

from bus import group_lease
from bus.app import create_app
from bus.config import OmnibusSettings
from bus.consume import RecordDecoder, hold_back, raw_record
from bus.dead_letter import DeadLetterWriter
from bus.errors import ConfigError, RawRecord
from bus.fenced_table import fenced_table
from bus.fencing import AssignmentFence, batch_version
from bus.kafka_client import connection_options
from bus.logging import get_logger
from bus.producer import EventProducer, Outgoing, Tombstone
from bus.serde import build_serde
from bus.take_batches import take_events
from bus.topics import (
    BUSINESS_EVENTS,
    CONTACT_EVENTS,
    DEAD_LETTERS,
    HANDOFF_EVENTS,
    IDENTIFIERS_OBSERVED,
    IDENTITY_GRAPH,
    TopicSpec,
)
from processors.identity import metrics
from processors.identity.announcements import Announcer
from processors.identity.assignments_repair import assignment_repair
from processors.identity.bulk_intake import BulkIntake
from processors.identity.config import IdentitySettings
from processors.identity.fastpath import AssignmentView
from processors.identity.graph.engine import IdentityGraph
from processors.identity.graph.messages import AnyMessage, Fast, kind
from processors.identity.graph.outputs import Output, Send, SharedMarked
from processors.identity.graph_progress import GraphProgress
from processors.identity.intake import EventTooLarge, Intake, event_ref, ref_loader
from processors.identity.normalize import IdentifierNormalizer
from processors.identity.rules import LinkPolicy, kind_of
from processors.identity.store import FaustTables, Overlay
from processors.identity.view_feed import ViewFeed
from processors.identity.wire import (
    RoutingSerializer,
    bundle,
    decode_record,
    encode_record,
    encoded_graph_event,
    partition_of,
    reusable_records,
)
from processors.profile.book import ProfileBook

COMPONENT = "identity"
LINKING_TOPICS = (IDENTIFIERS_OBSERVED, CONTACT_EVENTS, BUSINESS_EVENTS, HANDOFF_EVENTS)

log = get_logger(__name__, component=COMPONENT)


def input_topics(book: ProfileBook) -> list[TopicSpec]:
    """Every topic whose events carry customer identifiers or feed a profile section."""
    specs = {spec.suffix: spec for spec in LINKING_TOPICS}
    for spec in book.topics():
        specs.setdefault(spec.suffix, spec)
    return list(specs.values())


async def partition_count(settings: OmnibusSettings, topic: str, wait_s: float = 30.0) -> int:
    """Partitions of ``topic`` on the cluster (the graph topic must exist: ``omnibus topics apply``).

    Waits up to ``wait_s`` for a topic created a moment ago: its metadata reaches every broker later.
    """
    admin = AIOKafkaAdminClient(**connection_options(settings.kafka))
    await admin.start()
    try:
        deadline = time.monotonic() + wait_s
        while True:
            (described,) = await admin.describe_topics([topic])
            if described["error_code"] == 0 and described["partitions"]:
                return len(described["partitions"])
            if time.monotonic() > deadline:
                raise ConfigError(f"topic {topic} does not exist: run `omnibus topics apply` first")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


class IdentityProcessor:
    def __init__(
        self, settings: OmnibusSettings, identity: IdentitySettings, *, web_port: int | None = None,
        book: ProfileBook | None = None, **app_overrides: Any,
    ) -> None:
        self.settings, self.identity = settings, identity
        self.app = create_app(COMPONENT, settings, web_port=web_port, **app_overrides)
        serializer, deserializer = build_serde(settings.registry)
        self.producer = EventProducer(settings, RoutingSerializer(serializer))
        self._producer_started = asyncio.Lock()
        self._producer_running = False
        # The profile sections are handed in by the composition (omnibus.cli); the registry is the fallback.
        self.book = book if book is not None else ProfileBook.from_registry()
        self.normalizer = IdentifierNormalizer(identity, settings.identifiers)
        self.load_event = ref_loader(deserializer)
        self.view = AssignmentView(identity.fast_path_identifiers) if identity.fast_path else None
        self.intake = Intake(self.normalizer, self.book, view=self.view)
        self.view_feed = ViewFeed(settings, self.view, deserializer) if self.view is not None else None
        self.graph = IdentityGraph(LinkPolicy(identity), self.book, self.load_event,
                                   dedupe_window=identity.dedupe_window)
        self.announcer = Announcer(settings.topics, self.load_event, reusable=reusable_records(settings))
        self.dead_letters = DeadLetterWriter(self.producer, DEAD_LETTERS.name(settings.topics), COMPONENT)
        self.decoder = RecordDecoder(deserializer, self.dead_letters)
        self.graph_topic_name = IDENTITY_GRAPH.name(settings.topics)
        self.graph_partitions: int | None = None  # read from the cluster: bundles are grouped by partition
        self.contact_topic_name = CONTACT_EVENTS.name(settings.topics)
        partitions = IDENTITY_GRAPH.partition_count(settings.topics)
        # bytes keys, written to the partition of their graph messages (see FaustTables).
        # msgpack values (store.FaustTables), kept as bytes: value_type=bytes is faust's raw serializer.
        # Fenced (bus.fenced_table): a late changelog write of a worker that lost the partition loses at restore.
        table = {"key_type": bytes, "value_type": bytes, "partitions": partitions, "use_partitioner": True}
        self.nodes = fenced_table(self.app, "identity-nodes", settings.topics, **table)
        self.profiles = fenced_table(self.app, "identity-profiles", settings.topics, **table)
        self.store = FaustTables(self.nodes, self.profiles, lambda: self.graph_partitions or partitions)
        self.repair = assignment_repair(self, deserializer, lambda: self.graph_partitions or partitions)
        # Held from reading node states to writing them: graph batches and repeat contacts applied at intake
        # (``_apply_here``) change the same tables, and each publishes before it writes.
        self.state_lock = asyncio.Lock()
        self.progress = GraphProgress()
        self.app.agent(self.app.topic(self.graph_topic_name), name=f"{COMPONENT}.graph")(self._graph_agent)
        names = [spec.name(settings.topics) for spec in input_topics(self.book)]
        # The agent makes faust subscribe to the inputs; with bulk_intake its stream stays empty and the
        # records reach self.bulk in batches straight from the fetch (bulk_intake.py).
        self.app.agent(self.app.topic(*names), name=f"{COMPONENT}.intake")(self._intake_agent)
        self.app.on_before_shutdown.connect(self._on_shutdown)
        # A worker resumed after a pause past its session timeout has no lease: it publishes nothing (bus.group_lease).
        self.fence = AssignmentFence(lambda: self.app.consumer.assignment(), COMPONENT,
                                     lease=group_lease.install(self.app),
                                     confirm_within_s=float(self.app.conf.broker_heartbeat_interval))
        self.bulk = BulkIntake(self.app, names, self.fence, self.intake_batch, self._crash,
                               batch_size=identity.batch_size)
        if identity.bulk_intake:
            self.bulk.install()
        self.app.on_partitions_revoked.connect(self._on_revoked)
        if web_port is not None:
            from processors.identity.web import register_views

            register_views(self)

    # --- lifecycle ------------------------------------------------------------------------------------

    async def _ensure_producer(self) -> None:
        async with self._producer_started:
            if not self._producer_running:
                await self.producer.start()
                await self.repair.feed.start()
                self.repair.start()
                self._producer_running = True
            if self.graph_partitions is None:
                self.graph_partitions = await partition_count(self.settings, self.graph_topic_name)

    async def _on_revoked(self, app: faust.App, /, *_: Any, **__: Any) -> None:
        self.fence.revoked()

    async def _on_shutdown(self, app: faust.App, /, *_: Any, **__: Any) -> None:
        await self.bulk.stop()
        await self.stop_producer()

    async def stop_producer(self) -> None:
        async with self._producer_started:
            if self._producer_running:
                await self.repair.stop()
                await self.repair.feed.stop()
                await self.producer.stop()
                self._producer_running = False

    async def start(self) -> None:
        await self._ensure_producer()
        await self.app.start()

    async def stop(self) -> None:
        await self.app.stop()
        await self.stop_producer()

    # --- agents ---------------------------------------------------------------------------------------

    async def _intake_agent(self, stream: faust.StreamT) -> None:
        batches = take_events(stream, self.identity.batch_size, self.identity.batch_within_s)  # no idle timer
        async for events in batches:
            try:
                if not await self.intake_batch([event.message for event in events]):
                    hold_back(events)  # fenced off by a rebalance: left to the partitions' next owner
            except asyncio.CancelledError:
                hold_back(events)  # stopped mid-batch (SIGTERM, rebalance): never committed past (#13 build 5)
                raise
            except Exception as exc:
                hold_back(events)
                await self._crash("intake", exc)

    async def _graph_agent(self, stream: faust.StreamT) -> None:
        batches = take_events(stream, self.identity.batch_size, self.identity.batch_within_s)  # no idle timer
        async for events in batches:
            try:
                await self.graph_batch(events)
            except asyncio.CancelledError:
                hold_back(events)  # stopped mid-batch (SIGTERM, rebalance): never committed past (#13 build 5)
                raise
            except Exception as exc:
                hold_back(events)
                await self._crash("graph", exc)

    async def _crash(self, agent: str, exc: Exception) -> NoReturn:
        """Stop the whole worker rather than run on without an agent: the batch was not committed, so a
        restarted worker takes it again (a crashed faust agent alone would leave its partitions idle)."""
        log.exception("identity agent failed; stopping the worker", agent=agent, error_type=type(exc).__name__)
        await self.app.crash(exc)
        raise exc

    async def intake_batch(self, messages: Sequence[Any], allowed: Callable[[], bool] = lambda: True) -> bool:
        """Start the saga of each record (aiokafka ``ConsumerRecord``s or faust ``Message``s) and publish
        them; False, with nothing published, when ``allowed()`` says the partitions were lost meanwhile."""
        await self._ensure_producer()
        if self.identity.intake_waits_for_graph_s > 0 and len(messages) >= self.identity.batch_size:
            # A full batch: intake is behind (a backlog, a replay), so the graph's customers first, then the
            # fast path (graph_progress.py). Under a steady input the wait would only add latency: at 400
            # events/s it cost 300-600 ms a batch (tests/bench/results/identity_latency.md).
            await self.progress.settled(self._owned_graph_partitions(), self.identity.intake_waits_for_graph_s)
        outputs: list[Output] = []
        for message in messages:
            record = raw_record(message)
            decoded = await self.decoder.decode(record)
            if decoded is None:
                continue
            wants_ref = record.topic == self.contact_topic_name or self.book.reads(decoded.schema)
            try:
                ref = event_ref(record.topic or "", decoded, record.value or b"") if wants_ref else None
                if ref is not None:
                    self.load_event.keep(ref, decoded)  # read again at the customer root and by the announcer
                outputs.extend(self.intake.start(decoded, ref))
            except Exception as exc:  # an event intake cannot take is dead-lettered, never skipped (#13)
                error_type = "EventTooLarge" if isinstance(exc, EventTooLarge) else type(exc).__name__
                await self.dead_letters.write(record, reason=f"identity intake refused the event: {exc!r}",
                                              error_type=error_type)
        here = self._here(outputs)
        if here:
            return await self._apply_here(here, outputs, allowed)
        await self.fence.confirm()
        if not allowed():
            return False
        await self.publish(outputs)
        metrics.observe(outputs, time.time())
        return True

    def _owned_graph_partitions(self) -> set[int]:
        return {tp[1] for tp in self.app.consumer.assignment() if tp[0] == self.graph_topic_name}

    def _here(self, outputs: list[Output]) -> list[Send]:
        """The repeat contacts (``Fast``) among ``outputs`` whose customer root is on a graph partition this
        worker owns: they are applied at once (``_apply_here``), with no graph round trip."""
        if not self.identity.fast_apply_at_intake or not any(
                isinstance(output, Send) and isinstance(output.message, Fast) for output in outputs):
            return []
        owned, partitions = self._owned_graph_partitions(), self.graph_partitions or 1
        return [output for output in outputs if isinstance(output, Send) and isinstance(output.message, Fast)
                and partition_of(output.node, partitions) in owned]

    async def _apply_here(self, here: list[Send], outputs: list[Output], allowed: Callable[[], bool]) -> bool:
        """Handle ``here`` on the local tables as the graph agent would, then publish everything like a graph
        batch: outputs acknowledged, then the states written and their changelog acknowledged, then (the
        caller) the inputs acknowledged. The root checks each claim as it would on the graph topic
        (``graph/fast_node.py``); a claim that does not hold sends the saga the slow way from here.
        A handler error leaves the message to the graph topic, whose agent dead-letters it if it fails again."""
        async with self.state_lock:
            stamp = self.fence.stamp()
            partitions = self.graph_partitions or 1
            owned = {(self.graph_topic_name, partition_of(send.node, partitions)) for send in here}
            batch = Overlay(self.store)
            local = set(map(id, here))
            published = [output for output in outputs if id(output) not in local]
            kinds: Counter[str] = Counter()
            for send in here:
                transaction = Overlay(batch)
                try:
                    produced = self.graph.handle(transaction, send.node, send.message)
                except Exception:
                    log.exception("graph handler failed at intake; sent to the graph topic", kind=kind(send.message))
                    published.append(send)
                    continue
                transaction.commit()
                published.extend(produced)
                kinds[kind(send.message)] += 1
            await self.fence.confirm()
            if not allowed() or not self.fence.allows(stamp, owned):
                return False
            await self.publish(published)
            await self.fence.confirm()
            if not allowed() or not self.fence.allows(stamp, owned):
                return False  # published, states not written, inputs not acknowledged: the next owner replays
            batch.commit()
            await self.producer.send_batched(self.store.drain_changelog(self.app.consumer_generation_id))
        self._after(published, kinds)
        return True

    def _after(self, outputs: list[Output], kinds: Counter[str]) -> None:
        """What follows a batch whose states are written: the view learns, metrics move, shared ids are logged."""
        if self.view is not None:
            self.view.learn_outputs(outputs)
        metrics.observe(outputs, time.time())
        for name, count in kinds.items():
            metrics.GRAPH_MESSAGES.labels(kind=name).inc(count)
        for output in outputs:
            if isinstance(output, SharedMarked):
                log.info("identifier is shared and stops linking", type=kind_of(output.identifier),
                         customers=output.customers)

    async def graph_batch(self, events: Sequence[faust.EventT]) -> None:
        await self._ensure_producer()
        async with self.state_lock:
            await self._graph_batch(events)

    async def _graph_batch(self, events: Sequence[faust.EventT]) -> None:
        stamp = self.fence.stamp()
        batch = Overlay(self.store)
        outputs: list[Output] = []
        kinds: Counter[str] = Counter()  # protocol messages handled, by kind: counted once per batch
        for event in events:
            message = event.message
            try:
                if message.key is None:
                    raise ValueError("the record has no key")
                messages = decode_record(message.value, message.key.decode())
            except (AttributeError, KeyError, TypeError, UnicodeDecodeError, ValueError) as exc:
                await self.dead_letters.write(raw_record(message), reason=f"not a graph protocol message: {exc}",
                                              error_type="InvalidGraphMessage")
                continue
            for node, body in messages:
                if partition_of(node, self.graph_partitions or 1) != message.partition:
                    outputs.append(Send(node, body))  # not this partition's node (topic resized?): send it home
                    continue
                await self._handle(batch, outputs, kinds, message, node, body)
        partitions = {(e.message.topic, e.message.partition) for e in events}
        await self.fence.confirm()
        if not self.fence.allows(stamp, partitions):
            # Decided on state another worker now owns: publish nothing, keep the records uncommitted
            # for the new owner (bus.fencing; readers also ignore stale rows by version).
            log.warning("partitions lost during a graph batch; its outputs are not published", records=len(events))
            hold_back(events)
            return
        await self.publish(outputs)
        await self.fence.confirm()
        if not self.fence.allows(stamp, partitions):
            # Lost while the outputs were in flight (a worker paused past the session timeout): the new owner
            # replays these records. The states stay as they were, in memory and in the changelog: a later
            # restore must not start from this worker's stale states, nor a replay here skip them as done.
            log.warning("partitions lost while a graph batch published; its states are not written",
                        records=len(events))
            hold_back(events)
            return
        batch.commit()
        # The new states are acknowledged before faust may commit the batch's offsets (it acks the
        # events when this returns); a crash before that replays the batch on the old state.
        version = batch_version(e.message.generation_id for e in events)  # the generation these were fetched in
        await self.producer.send_batched(self.store.drain_changelog(version))
        for event in events:
            self.progress.handled(event.message.partition, event.message.offset)
        self._after(outputs, kinds)

    async def _handle(
        self, batch: Overlay, outputs: list[Output], kinds: Counter[str], record: Any, node: str, body: AnyMessage,
    ) -> None:
        transaction = Overlay(batch)
        try:
            produced = self.graph.handle(transaction, node, body)
        except Exception as exc:  # a message the protocol cannot take must not stall the partition
            log.exception("graph handler failed", kind=kind(body))
            failed = RawRecord(value=encode_record([(node, body)]), key=node.encode(), topic=record.topic,
                               partition=record.partition, offset=record.offset)
            await self.dead_letters.write(
                failed, reason=f"graph handler failed: {exc!r}", error_type=type(exc).__name__
            )
            return
        transaction.commit()
        outputs.extend(produced)
        kinds[kind(body)] += 1

    async def publish(self, outputs: Sequence[Output]) -> None:
        items: list[Outgoing | Tombstone] = []
        sends = [output for output in outputs if isinstance(output, Send)]
        for key, record in bundle(sends, self.graph_partitions or 1):
            items.append(Outgoing(self.graph_topic_name, key, encoded_graph_event(record)))
        for output in outputs:
            if not isinstance(output, Send):
                items.extend(self.announcer.outgoing(output))
        if items:  # one Kafka batch per partition, not one send per record (EventProducer.send_batched)
            graph_records = sum(1 for item in items if item.topic == self.graph_topic_name)
            acknowledged = await self.producer.publish_many(items, batched=True)
            for meta in acknowledged[:graph_records]:  # the graph's records come first
                self.progress.produced(meta.partition, meta.offset)
