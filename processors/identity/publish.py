"""What every identity batch does with its outputs: publish them, and what follows once its states are written.

A batch (graph records, or repeat contacts applied at intake) yields ``graph.outputs.Output``s: ``Send``s
(protocol messages for other nodes) go to the graph topic bundled per destination partition
(``wire.bundle``), every other output becomes records of the output topics (``announcements.Announcer``).
All of them go out as one Kafka batch per partition and are acknowledged together
(``EventProducer.publish_many(batched=True)``); the caller writes its states only after that.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence

from bus.errors import SchemaRegistryError
from bus.logging import get_logger
from bus.producer import EventProducer, Outgoing, Tombstone
from bus.registry_outage import is_outage, lookups_off_loop, until_registry_answers
from processors.identity import metrics
from processors.identity.announcements import Announcer
from processors.identity.fastpath import AssignmentView
from processors.identity.graph.outputs import Output, Send, SharedMarked
from processors.identity.graph_progress import GraphProgress
from processors.identity.rules import kind_of
from processors.identity.wire import bundle, encoded_graph_event

log = get_logger(__name__, component="identity")


class Publisher:
    """``publish(outputs)`` sends and waits for Kafka's acknowledgements; ``after(outputs, kinds)`` runs once the
    batch's states are written (``kinds``: protocol messages handled, by kind). ``graph_partitions()`` is the
    graph topic's partition count; ``progress`` learns the graph records produced (``graph_progress.py``)."""

    def __init__(self, producer: EventProducer, announcer: Announcer, graph_topic: str,
                 graph_partitions: Callable[[], int], progress: GraphProgress, view: AssignmentView | None) -> None:
        self.producer, self.announcer, self.graph_topic = producer, announcer, graph_topic
        self.graph_partitions, self.progress, self.view = graph_partitions, progress, view

    async def publish(self, outputs: Sequence[Output]) -> None:
        items: list[Outgoing | Tombstone] = []
        sends = [output for output in outputs if isinstance(output, Send)]
        for key, record in bundle(sends, self.graph_partitions()):
            items.append(Outgoing(self.graph_topic, key, encoded_graph_event(record)))
        for output in outputs:
            if not isinstance(output, Send):
                try:
                    with lookups_off_loop():  # a schema not cached yet is fetched in a thread (bus.registry_outage)
                        items.extend(self.announcer.outgoing(output))
                except SchemaRegistryError as error:
                    if not is_outage(error):
                        raise
                    items.extend(await self._outgoing_when_registry_answers(output))
        if items:  # one Kafka batch per partition, not one send per record (EventProducer.send_batched)
            graph_records = sum(1 for item in items if item.topic == self.graph_topic)
            acknowledged = await self.producer.publish_many(items, batched=True)
            for meta in acknowledged[:graph_records]:  # the graph's records come first
                self.progress.produced(meta.partition, meta.offset)

    async def _outgoing_when_registry_answers(self, output: Output) -> list[Outgoing | Tombstone]:
        """The announcer's records of ``output`` once the stored event it decodes again (``intake.RefLoader``) could
        be read: the schema registry did not answer, so the batch waits (``bus.registry_outage``), unpublished."""
        return await until_registry_answers(lambda: self.announcer.outgoing(output))

    def after(self, outputs: list[Output], kinds: Counter[str]) -> None:
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
