"""Repeat contacts applied at intake, with no graph round trip (#9 build 2).

Intake turns a repeat contact (every identifier already assigned to one live customer in the fast path's
view) into a ``Fast`` message for the customer's root. When that root lives on a graph partition this worker
owns, the message is handled here, on the local tables, exactly as the graph agent would handle it
(``graph_agent.py``): the root checks the claim (``graph/fast_node.py``), a claim that does not hold sends
the saga the slow way from here. The order is the graph batch's: fence checked, outputs published and
acknowledged, fence checked again, states written and their changelog handed over (the lock released), their
changelog and every earlier one acknowledged (``state_writes.py``); then the caller acknowledges the input
records. The state lock is shared with the graph agent. A handler error leaves the message to the graph
topic, whose agent dead-letters it if it fails again.

Nothing is applied here while the worker rebalances (``settled()`` false, from faust's rebalance start to its
"Worker ready", the tables' restore included): a partition's tables may still be restoring, and a state
read from them then is no state at all. The repeat contacts of such a moment go the slow way, by the graph
topic, whose records reach the graph stage only once faust resumed its partitions after the restore.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from bus.fencing import AssignmentFence
from bus.logging import get_logger
from bus.producer import EventProducer
from bus.registry_outage import is_outage, lookups_off_loop
from processors.identity.graph.engine import IdentityGraph
from processors.identity.graph.messages import kind
from processors.identity.graph.messages.steps import Fast
from processors.identity.graph.outputs import Output, Send
from processors.identity.publish import Publisher
from processors.identity.state_writes import StateWrites, done_sender
from processors.identity.store import FaustTables, Overlay
from processors.identity.wire import partition_of

log = get_logger(__name__, component="identity")


class ApplyHere:
    """``select(outputs)`` picks the ``Fast`` sends whose root is on an owned graph partition (``owned()``:
    the graph partitions assigned to this worker); ``apply(here, outputs, allowed)`` handles them and publishes
    all ``outputs`` (False, states not written, when ``allowed()`` or the fence says the partitions were lost).
    ``generation()`` is the consumer generation, written with the changelog (``bus.fencing``)."""

    def __init__(self, enabled: bool, graph: IdentityGraph, store: FaustTables, publisher: Publisher,
                 producer: EventProducer, fence: AssignmentFence, writes: StateWrites, graph_topic: str,
                 owned: Callable[[], set[int]], generation: Callable[[], int],
                 settled: Callable[[], bool] = lambda: True) -> None:
        self.enabled, self.graph, self.store, self.publisher = enabled, graph, store, publisher
        self.producer, self.fence, self.writes, self.graph_topic = producer, fence, writes, graph_topic
        self.owned, self.generation, self.settled = owned, generation, settled

    def select(self, outputs: list[Output]) -> list[Send]:
        if not self.enabled or not self.settled() or not any(
                isinstance(output, Send) and isinstance(output.message, Fast) for output in outputs):
            return []
        owned, partitions = self.owned(), self.publisher.graph_partitions()
        return [output for output in outputs if isinstance(output, Send) and isinstance(output.message, Fast)
                and partition_of(output.node, partitions) in owned]

    async def apply(self, here: list[Send], outputs: list[Output], allowed: Callable[[], bool]) -> bool:
        async with self.writes.lock:
            if not self.settled():  # a rebalance began while this waited for the lock: all by the graph topic
                here = []
            stamp = self.fence.stamp()
            partitions = self.publisher.graph_partitions()
            owned = {(self.graph_topic, partition_of(send.node, partitions)) for send in here}
            batch = Overlay(self.store)
            local = set(map(id, here))
            published = [output for output in outputs if id(output) not in local]
            kinds: Counter[str] = Counter()
            for send in here:
                transaction = Overlay(batch)
                try:  # a schema not cached yet is not fetched here, on the loop: the graph agent fetches it off it
                    with lookups_off_loop():
                        produced = self.graph.handle(transaction, send.node, send.message)
                except Exception as error:  # the graph agent handles it (and waits for a registry that does not answer)
                    if not is_outage(error):
                        log.exception("graph handler failed at intake; sent to the graph topic",
                                      kind=kind(send.message))
                    published.append(send)
                    continue
                transaction.commit()
                published.extend(produced)
                kinds[kind(send.message)] += 1
            await self.fence.confirm()
            if not allowed() or not self.fence.allows(stamp, owned):
                return False
            await self.publisher.publish(published)
            await self.fence.confirm()
            if not allowed() or not self.fence.allows(stamp, owned):
                return False  # published, states not written, inputs not acknowledged: the next owner replays
            batch.commit()
            written = self.store.drain_changelog(self.generation())
            changelog = await self.producer.hand_over(written)
            done = self.writes.settled(changelog, done_sender(self.producer, self.store.done_markers(written)))
        await done  # outside the lock: the next batch runs meanwhile (state_writes.py)
        self.publisher.after(published, kinds)
        return True
