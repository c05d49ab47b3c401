"""The graph agent: the identity protocol run on this worker's graph partitions (``graph/engine.py``).

The graph topic is keyed by node (an identifier or a customer); each record bundles the protocol messages
for the nodes of one partition (``wire.decode_record``). A batch of records is handled against an overlay
of the node tables (``store.Overlay``), then, in this order, so that a crash anywhere replays the batch on
the old state and loses nothing:

1. the fence (``bus.fencing.AssignmentFence``) is checked: a rebalance took the partitions → nothing is
   published, the records stay uncommitted for their new owner;
2. every output is published and acknowledged (``publish.Publisher``);
3. the fence is checked again (a worker paused past its session timeout);
4. the new states are written and their changelog records acknowledged, versioned by the worker's consumer
   generation at that moment (``bus.fencing``);
5. the records are acknowledged, so faust may commit their offsets.

The records come in bulk from faust's fetch (``bulk_intake.BulkIntake``, past faust's per-record path),
or through the faust agent when ``IdentitySettings.bulk_graph`` is off.

The handlers drop what they already did (dedupe on event ids), so the replay is harmless.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust
from aiokafka.structs import ConsumerRecord

from bus.consume import hold_back, raw_record
from bus.dead_letter import DeadLetterWriter
from bus.errors import RawRecord, SchemaRegistryError
from bus.fencing import AssignmentFence
from bus.logging import get_logger
from bus.producer import EventProducer
from bus.registry_outage import is_outage, lookups_off_loop, until_registry_answers
from bus.take_batches import take_events
from processors.identity.config import IdentitySettings
from processors.identity.graph.engine import IdentityGraph
from processors.identity.graph.messages import AnyMessage, kind
from processors.identity.graph.outputs import Output, Send
from processors.identity.graph_progress import GraphProgress
from processors.identity.publish import Publisher
from processors.identity.state_writes import StateWrites, done_sender
from processors.identity.store import FaustTables, Overlay
from processors.identity.wire import decode_record, encode_record, partition_of

log = get_logger(__name__, component="identity")


class GraphAgent:
    """``records(records, allowed)`` handles one chunk taken in bulk from the fetch (the default,
    ``bulk_intake.BulkIntake``); ``agent(stream)`` is the faust agent of the graph topic, whose stream then
    stays empty (``batch(events)`` handles its batches when ``IdentitySettings.bulk_graph`` is off). Every batch
    runs under the state lock (shared with repeat contacts applied at intake, ``state_writes.py``).
    ``generation()``: the consumer group generation (the changelog's fence version)."""

    def __init__(self, identity: IdentitySettings, graph: IdentityGraph, store: FaustTables, publisher: Publisher,
                 producer: EventProducer, dead_letters: DeadLetterWriter, fence: AssignmentFence,
                 progress: GraphProgress, writes: StateWrites, generation: Callable[[], int],
                 started: Callable[[], Awaitable[None]], crash: Callable[[str, Exception], Awaitable[Any]]) -> None:
        self.identity, self.graph, self.store, self.publisher = identity, graph, store, publisher
        self.producer, self.dead_letters, self.fence, self.progress = producer, dead_letters, fence, progress
        self.writes, self.generation, self._started, self._crash = writes, generation, started, crash

    async def agent(self, stream: faust.StreamT) -> None:
        batches = take_events(stream, self.identity.batch_size, self.identity.batch_within_s)  # no idle timer
        async for events in batches:
            try:
                await self.batch(events)
            except asyncio.CancelledError:
                hold_back(events)  # stopped mid-batch (SIGTERM, rebalance): never committed past (#13 build 5)
                raise
            except Exception as exc:
                hold_back(events)
                await self._crash("graph", exc)

    async def batch(self, events: Sequence[faust.EventT]) -> None:
        """One batch of faust events (the agent's path, ``IdentitySettings.bulk_graph=false``)."""
        await self._started()
        messages = [event.message for event in events]
        async with self.writes.lock:
            written = await self._batch(messages, lambda: True)
            if written is not None:
                await written
        if written is None:
            hold_back(events)

    async def records(self, records: Sequence[ConsumerRecord], allowed: Callable[[], bool]) -> Awaitable[None] | None:
        """One chunk taken in bulk from the fetch (``bulk_intake.BulkIntake``). None when fenced off: nothing
        written, the caller does not acknowledge the records. Else the chunk is published and its states
        written in memory, and the state lock released: the next chunk may run while this one's changelog is
        on its way; the returned awaitable completes once the changelog is acknowledged, and only then may
        the caller acknowledge the records (in chunk order: ``BulkIntake`` waits for the one before).
        A chunk that reads a state whose changelog is still in flight publishes before it writes like any
        other, and its records are acknowledged after that changelog: a crash replays both on the old state.
        ``allowed()``: the chunk's partitions are still ours since its fetch. Changelog version: the worker's
        consumer generation when it writes (see ``_batch``)."""
        await self._started()
        async with self.writes.lock:
            return await self._batch(records, allowed)

    async def _batch(self, records: Sequence[Any], allowed: Callable[[], bool]) -> Awaitable[None] | None:
        """``records``: faust ``Message``s or aiokafka ``ConsumerRecord``s of the graph topic, per partition in
        offset order. None, nothing written, when fenced off; else published, written in memory, the changelog
        handed to the producer, and an awaitable that completes once the changelog is acknowledged."""
        stamp = self.fence.stamp()
        batch = Overlay(self.store)
        outputs: list[Output] = []
        kinds: Counter[str] = Counter()  # protocol messages handled, by kind: counted once per batch
        partitions_total = self.publisher.graph_partitions()
        for message in records:
            try:
                if message.key is None:
                    raise ValueError("the record has no key")
                messages = decode_record(message.value, message.key.decode())
            except (AttributeError, KeyError, TypeError, UnicodeDecodeError, ValueError) as exc:
                await self.dead_letters.write(raw_record(message), reason=f"not a graph protocol message: {exc}",
                                              error_type="InvalidGraphMessage")
                continue
            for node, body in messages:
                if partition_of(node, partitions_total) != message.partition:
                    outputs.append(Send(node, body))  # not this partition's node (topic resized?): send it home
                    continue
                await self._handle(batch, outputs, kinds, message, node, body)
        partitions = {(message.topic, message.partition) for message in records}
        await self.fence.confirm()
        if not allowed() or not self.fence.allows(stamp, partitions):
            # Decided on state another worker now owns: publish nothing, keep the records uncommitted
            # for the new owner (bus.fencing; readers also ignore stale rows by version).
            log.warning("partitions lost during a graph batch; its outputs are not published", records=len(records))
            return None
        await self.publisher.publish(outputs)
        await self.fence.confirm()
        if not allowed() or not self.fence.allows(stamp, partitions):
            # Lost while the outputs were in flight (a worker paused past the session timeout): the new owner
            # replays these records. The states stay as they were, in memory and in the changelog: a later
            # restore must not start from this worker's stale states, nor a replay here skip them as done.
            log.warning("partitions lost while a graph batch published; its states are not written",
                        records=len(records))
            return None
        batch.commit()
        # The new states are acknowledged before the batch's offsets may be committed (the caller acknowledges
        # the records once the returned awaitable completes); a crash before that replays the batch on the old state.
        # The worker's generation now, not the one the records were fetched in: a batch taken from faust's buffer
        # right after a rebalance holds records of the generation before, and written under it, after records
        # the worker already wrote in this one (repeat contacts applied at intake), a restore would skip it as
        # a fenced-out worker's late write. A worker fenced out has not joined the new generation: its
        # generation is the old one, below the new owner's marker (bus.fencing).
        written = self.store.drain_changelog(self.generation())
        changelog = await self.producer.hand_over(written)
        settled = self.writes.settled(changelog, done_sender(self.producer, self.store.done_markers(written)))
        return self._written(records, settled, outputs, kinds)

    async def _written(self, records: Sequence[Any], settled: Awaitable[None], outputs: list[Output],
                       kinds: Counter[str]) -> None:
        await settled
        for message in records:
            self.progress.handled(message.partition, message.offset)
        self.publisher.after(outputs, kinds)

    async def _handle(
        self, batch: Overlay, outputs: list[Output], kinds: Counter[str], record: Any, node: str, body: AnyMessage,
    ) -> None:
        def attempt() -> tuple[Overlay, list[Output]]:  # on a copy: run again whole after a registry outage
            transaction = Overlay(batch)
            return transaction, self.graph.handle(transaction, node, body)

        try:
            try:
                with lookups_off_loop():  # a schema not cached yet is fetched in a thread: the loop never waits
                    transaction, produced = attempt()
            except SchemaRegistryError as error:  # a stored event decoded again (``intake.RefLoader``)
                if not is_outage(error):
                    raise
                transaction, produced = await until_registry_answers(attempt)  # waits: never dead-lettered
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
