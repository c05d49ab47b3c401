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
5. faust may commit the records' offsets (it acknowledges them when the batch returns).

The handlers drop what they already did (dedupe on event ids), so the replay is harmless.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust

from bus.consume import hold_back, raw_record
from bus.dead_letter import DeadLetterWriter
from bus.errors import RawRecord
from bus.fencing import AssignmentFence
from bus.logging import get_logger
from bus.producer import EventProducer
from bus.take_batches import take_events
from processors.identity.config import IdentitySettings
from processors.identity.graph.engine import IdentityGraph
from processors.identity.graph.messages import AnyMessage, kind
from processors.identity.graph.outputs import Output, Send
from processors.identity.graph_progress import GraphProgress
from processors.identity.publish import Publisher
from processors.identity.store import FaustTables, Overlay
from processors.identity.wire import decode_record, encode_record, partition_of

log = get_logger(__name__, component="identity")


class GraphAgent:
    """``agent(stream)`` is the faust agent of the graph topic; ``batch(events)`` handles one batch of faust
    events under ``state_lock`` (shared with repeat contacts applied at intake, ``apply_here.py``)."""

    def __init__(self, identity: IdentitySettings, graph: IdentityGraph, store: FaustTables, publisher: Publisher,
                 producer: EventProducer, dead_letters: DeadLetterWriter, fence: AssignmentFence,
                 progress: GraphProgress, state_lock: asyncio.Lock, started: Callable[[], Awaitable[None]],
                 crash: Callable[[str, Exception], Awaitable[Any]], generation: Callable[[], int]) -> None:
        self.identity, self.graph, self.store, self.publisher = identity, graph, store, publisher
        self.producer, self.dead_letters, self.fence, self.progress = producer, dead_letters, fence, progress
        self.state_lock, self._started, self._crash, self.generation = state_lock, started, crash, generation

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
        await self._started()
        async with self.state_lock:
            await self._batch(events)

    async def _batch(self, events: Sequence[faust.EventT]) -> None:
        stamp = self.fence.stamp()
        batch = Overlay(self.store)
        outputs: list[Output] = []
        kinds: Counter[str] = Counter()  # protocol messages handled, by kind: counted once per batch
        partitions_total = self.publisher.graph_partitions()
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
                if partition_of(node, partitions_total) != message.partition:
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
        await self.publisher.publish(outputs)
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
        # The worker's generation now, not the one the records were fetched in: a batch taken from faust's buffer
        # right after a rebalance holds records of the generation before, and written under it, after records
        # the worker already wrote in this one (repeat contacts applied at intake), a restore would skip it as
        # a fenced-out worker's late write. A worker fenced out has not joined the new generation: its
        # generation is the old one, below the new owner's marker (bus.fencing).
        version = self.generation()
        await self.producer.send_batched(self.store.drain_changelog(version))
        for event in events:
            self.progress.handled(event.message.partition, event.message.offset)
        self.publisher.after(outputs, kinds)

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
