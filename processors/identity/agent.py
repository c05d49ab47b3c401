"""The identity processor: the parts of one worker, put together (a newcomer's map).

Records flow through two stages, each batching so a batch waits for Kafka's acknowledgement once:

* **intake** (``intake_agent.py``): the contact, identity, business, handoff and profile-section topics,
  taken in bulk from faust's fetch (``bulk_intake.py``). Identifiers are normalised and one saga per event
  is started on the graph topic (``intake.py``); a repeat contact whose customer root is on a graph
  partition this worker owns is applied at once (``apply_here.py``).
* **graph** (``graph_agent.py``): the internal graph topic, keyed by node, also taken in bulk, runs the protocol
  (``graph/engine.py``, catalogue in ``graph/protocol.md``) against the node tables (``store.py``).

Both publish through ``publish.py``: every output is published and acknowledged first, and only then are
the new states written to the tables. A crash in between replays the batch on the old state, which produces
the same messages again (and the handlers drop what they already did): nothing is lost. A rebalance fences
a batch off (``bus.fencing.AssignmentFence``). Start, stop and crash: ``lifecycle.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import faust

from bus import group_lease
from bus.app import create_app
from bus.batch_restore import DoneBatches
from bus.config import OmnibusSettings
from bus.consume import RecordDecoder
from bus.dead_letter import DeadLetterWriter
from bus.fenced_table import fenced_table
from bus.fencing import AssignmentFence
from bus.producer import worker_producer
from bus.serde import build_serde
from bus.topics import (
    BUSINESS_EVENTS,
    CONTACT_EVENTS,
    DEAD_LETTERS,
    HANDOFF_EVENTS,
    IDENTIFIERS_OBSERVED,
    IDENTITY_GRAPH,
    TopicSpec,
    placed_topics,
)
from processors.identity.announcements import Announcer
from processors.identity.apply_here import ApplyHere
from processors.identity.assignments_repair import assignment_repair
from processors.identity.bulk_intake import BulkIntake
from processors.identity.config import IdentitySettings
from processors.identity.fastpath import AssignmentView
from processors.identity.graph.engine import IdentityGraph
from processors.identity.graph.outputs import Output
from processors.identity.graph.split_contacts import partition_key
from processors.identity.graph_agent import GraphAgent
from processors.identity.graph_progress import GraphProgress
from processors.identity.intake import Intake, ref_loader
from processors.identity.intake_agent import IntakeAgent
from processors.identity.lifecycle import Lifecycle, partition_count
from processors.identity.normalize import IdentifierNormalizer
from processors.identity.publish import Publisher
from processors.identity.rules import LinkPolicy
from processors.identity.state_writes import StateWrites
from processors.identity.store import CONTACTS_TABLE, FaustTables, contacts_table
from processors.identity.view_feed import ViewFeed
from processors.identity.wire import RoutingSerializer, reusable_records
from processors.profile.book import ProfileBook

COMPONENT = "identity"
LINKING_TOPICS = (IDENTIFIERS_OBSERVED, CONTACT_EVENTS, BUSINESS_EVENTS, HANDOFF_EVENTS)

__all__ = ["COMPONENT", "IdentityProcessor", "input_topics", "partition_count"]


def input_topics(book: ProfileBook) -> list[TopicSpec]:
    """Every topic whose events carry customer identifiers or feed a profile section."""
    specs = {spec.suffix: spec for spec in LINKING_TOPICS}
    for spec in book.topics():
        specs.setdefault(spec.suffix, spec)
    return list(specs.values())


class IdentityProcessor:
    """One identity worker. ``start()``/``stop()`` run it in this process; ``app`` is its faust app (what
    ``omnibus identity run`` hands to ``bus.bootstrap``). ``book``: the profile sections (the composition in
    ``omnibus.cli`` hands them in; the registry is the fallback). ``app_overrides`` go to faust's app."""

    def __init__(
        self, settings: OmnibusSettings, identity: IdentitySettings, *, web_port: int | None = None,
        book: ProfileBook | None = None, **app_overrides: Any,
    ) -> None:
        self.settings, self.identity = settings, identity
        self.app = create_app(COMPONENT, settings, web_port=web_port, **app_overrides)
        serializer, deserializer = build_serde(settings.registry)
        self.producer = worker_producer(settings, RoutingSerializer(serializer))
        self.book = book if book is not None else ProfileBook.from_registry(identifiers=settings.identifiers)
        self.normalizer = IdentifierNormalizer(identity, settings.identifiers)
        self.load_event = ref_loader(deserializer)
        self.view = AssignmentView(identity.fast_path_identifiers) if identity.fast_path else None
        self.intake = Intake(self.normalizer, self.book, view=self.view)
        self.view_feed = ViewFeed(settings, self.view, deserializer) if self.view is not None else None
        self.graph = IdentityGraph(LinkPolicy(identity), self.book, self.load_event,
                                   dedupe_window=identity.dedupe_window)
        announcer = Announcer(settings.topics, self.load_event, reusable=reusable_records(settings))
        self.dead_letters = DeadLetterWriter(self.producer, DEAD_LETTERS.name(settings.topics), COMPONENT)
        self.graph_topic_name = IDENTITY_GRAPH.name(settings.topics)
        partitions = IDENTITY_GRAPH.partition_count(settings.topics)
        # bytes keys, written to the partition of their graph messages (see FaustTables).
        # msgpack values (store.FaustTables), kept as bytes: value_type=bytes is faust's raw serializer.
        # Fenced (bus.fenced_table): a late changelog write of a worker that lost the partition loses at restore.
        # A batch restored whole or not at all in the three tables (bus.batch_restore): they share the done markers.
        table = {"key_type": bytes, "value_type": bytes, "partitions": partitions, "use_partitioner": True,
                 "batches": DoneBatches()}
        self.nodes = fenced_table(self.app, "identity-nodes", settings.topics, **table)
        self.profiles = fenced_table(self.app, "identity-profiles", settings.topics, **table)
        # A customer's contact records (split_contacts.py), on its partition: the store derives it (partition_key).
        # On disk by default (identity.contacts_store): the largest part of the state, read only at merges and splits.
        self.contacts = fenced_table(self.app, CONTACTS_TABLE, settings.topics, partition_key=partition_key,
                                     **contacts_table(identity), **table)
        self.store = FaustTables(self.nodes, self.profiles, self.contacts, lambda: self.lifecycle.graph_partitions())
        progress = GraphProgress()
        self.publisher = Publisher(self.producer, announcer, self.graph_topic_name,
                                   lambda: self.lifecycle.graph_partitions(), progress, self.view)
        self.repair = assignment_repair(self, deserializer, lambda: self.lifecycle.graph_partitions())
        # Graph batches and repeat contacts applied at intake change the same tables (state_writes.py).
        writes = StateWrites()
        # A worker resumed after a pause past its session timeout has no lease: it publishes nothing (bus.group_lease).
        self.fence = AssignmentFence(lambda: self.app.consumer.assignment(), COMPONENT,
                                     lease=group_lease.install(self.app),
                                     confirm_within_s=float(self.app.conf.broker_heartbeat_interval))
        names = [spec.name(settings.topics) for spec in input_topics(self.book)]
        self.bulk = BulkIntake(self.app, names, self.fence, self.intake_batch, self._crash,
                               batch_size=identity.batch_size)
        self.lifecycle = Lifecycle(self.app, settings, self.producer, self.repair, self.fence,
                                   self.graph_topic_name, default_partitions=partitions, writes=writes)
        started, crash = self.lifecycle.ensure_started, self.lifecycle.crash
        generation = lambda: self.app.consumer_generation_id  # noqa: E731 - the changelog's fence version
        self.graph_agent = GraphAgent(identity, self.graph, self.store, self.publisher, self.producer,
                                      self.dead_letters, self.fence, progress, writes, generation, started, crash)
        self.graph_bulk = BulkIntake(self.app, [self.graph_topic_name], self.fence, self.graph_agent.records,
                                     self._crash, batch_size=identity.batch_size, name="graph", pause=False)
        here = ApplyHere(identity.fast_apply_at_intake, self.graph, self.store, self.publisher, self.producer,
                         self.fence, writes, self.graph_topic_name, self._owned_graph_partitions, generation,
                         lambda: not self.app.rebalancing)
        self.intake_agent = IntakeAgent(
            identity, self.intake, self.book, RecordDecoder(deserializer, self.dead_letters), self.dead_letters,
            self.load_event, placed_topics(settings.topics), here, self.publisher, progress,
            self._owned_graph_partitions, started, crash)
        self.app.agent(self.app.topic(self.graph_topic_name), name=f"{COMPONENT}.graph")(self.graph_agent.agent)
        # The agent makes faust subscribe to the inputs; with bulk_intake its stream stays empty and the
        # records reach self.bulk in batches straight from the fetch (bulk_intake.py).
        self.app.agent(self.app.topic(*names), name=f"{COMPONENT}.intake")(self.intake_agent.agent)
        if identity.bulk_intake:
            self.bulk.install()
        if identity.bulk_graph:
            self.graph_bulk.install()
        self.lifecycle.stages = (self.bulk, self.graph_bulk)  # stopped before the producer
        if web_port is not None:
            from processors.identity.web import register_views

            register_views(self)

    async def start(self) -> None:
        await self.lifecycle.ensure_started()
        await self.app.start()

    async def stop(self) -> None:
        await self.app.stop()
        await self.lifecycle.stop_producer()

    async def stop_producer(self) -> None:
        await self.lifecycle.stop_producer()

    async def intake_batch(self, messages: Sequence[Any], allowed: Callable[[], bool] = lambda: True) -> bool:
        """``intake_agent.IntakeAgent.batch``: start and publish one batch of input records."""
        return await self.intake_agent.batch(messages, allowed)

    async def graph_batch(self, events: Sequence[faust.EventT]) -> None:
        """``graph_agent.GraphAgent.batch``: handle one batch of graph records."""
        await self.graph_agent.batch(events)

    async def publish(self, outputs: Sequence[Output]) -> None:
        """``publish.Publisher.publish``: publish ``outputs`` and wait for Kafka's acknowledgements."""
        await self.publisher.publish(outputs)

    async def _crash(self, agent: str, exc: Exception) -> Any:
        await self.lifecycle.crash(agent, exc)

    def _owned_graph_partitions(self) -> set[int]:
        return {tp[1] for tp in self.app.consumer.assignment() if tp[0] == self.graph_topic_name}
