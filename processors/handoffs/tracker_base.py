"""The tracker's table and its publishing: what every part of the tracker (``tracker``, ``following``,
``deadline_scan``) stands on.

The store is any mutable mapping (a faust Table in the worker, a dict in tests and benchmarks) and the publisher
anything with ``publish_many``. A state is saved only after Kafka acknowledged what it published.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bus.clock import to_micros
from bus.errors import RawRecord
from bus.producer import Outgoing
from bus.serde import Event
from bus.tick_gate import MAX_DEFER_S, TickGate
from processors.handoffs.config import HandoffPolicy
from processors.handoffs.customer_index import CustomerIndex
from processors.handoffs.customers import AnnouncedCreations
from processors.handoffs.directory import CustomerDirectory
from processors.handoffs.due_index import DueIndex
from processors.handoffs.metrics import HandoffMetrics
from processors.handoffs.outputs import Emitter, Output
from processors.handoffs.retention import Pruner, Retention, is_tombstone
from processors.handoffs.state import HandoffState

COMPONENT = "handoffs"
LOGGER = "processors.handoffs.tracker"  # every part of the tracker logs as the tracker (log filters keyed on it)


def record_us(event: Event) -> int:
    return to_micros(event.value["envelope"]["occurred_at"])


class Publisher(Protocol):
    async def publish_many(self, items: Sequence[Outgoing]) -> Any: ...


class DeadLetters(Protocol):
    async def write(
        self, record: RawRecord, *, reason: str, error_type: str, correlation_id: str | None = None
    ) -> None: ...


@dataclass(frozen=True)
class Destinations:
    events: str
    notifications: str


class TrackerBase:
    """The tracker's collaborators and its table: load, save (with the due and customer indexes), publish."""

    def __init__(
        self, policy: HandoffPolicy, emitter: Emitter, store: MutableMapping[str, Any], publisher: Publisher,
        dead_letters: DeadLetters, destinations: Destinations, *, index: DueIndex | None = None,
        metrics: HandoffMetrics | None = None, batch_size: int = 500,
        owned_partitions: Callable[[], Iterable[int]] = tuple, directory: CustomerDirectory | None = None,
        gate: TickGate | None = None, announced: AnnouncedCreations | None = None, retention: Retention | None = None,
    ) -> None:
        self.policy, self.emitter, self.store = policy, emitter, store
        self.publisher, self.dead_letters, self.destinations = publisher, dead_letters, destinations
        self.index = index if index is not None else DueIndex()
        self.metrics = metrics or HandoffMetrics(policy)
        self.batch_size = batch_size
        self.owned_partitions = owned_partitions  # rebuilt together in one pass over the table
        self.directory = directory  # None: customers are not followed (tier from the event only)
        self.announced = announced  # a rebuild without a directory: the customer views announced at creation
        self.customer_index = CustomerIndex()
        self.pruner = Pruner(retention) if retention is not None else None  # None: closed cases are kept for ever
        self.gate = gate if gate is not None else TickGate(MAX_DEFER_S)  # the order of ticks and records
        self._directory_seen: dict[int, int] = {}  # partition -> directory version followed
        self._customer_checks: dict[int, dict[str, None]] = {}  # partition -> handoff ids still to check
        self._customer_backlog: dict[int, dict[str, None]] = {}


    def _load(self, handoff_id: str) -> HandoffState | None:
        raw = self.store.get(handoff_id)
        return HandoffState.from_dict(raw) if raw and not is_tombstone(raw) else None

    def _save(self, state: HandoffState) -> None:
        data = state.to_dict()
        self.store[state.handoff_id] = data
        self.index.schedule(state.partition, state.handoff_id, data["next_due_us"])
        self.customer_index.update(state.handoff_id, data)

    def _outgoing(self, output: Output) -> Outgoing:
        topic = self.destinations.events if output.destination == "events" else self.destinations.notifications
        return Outgoing(topic, output.key, output.event)

    async def _publish(self, outputs: list[Output]) -> None:
        """Publish ``outputs`` and wait for Kafka's acknowledgements. The producer already retries a transient
        failure with backoff for up to ``producer.give_up_after_s`` seconds (``bus.publish_retry``); the
        ``PublishError`` it raises after that is the worker's to stop on, so nothing is saved for these outputs."""
        if outputs:
            await self.publisher.publish_many([self._outgoing(o) for o in outputs])
            self.metrics.notified(outputs)

    def refresh_metrics(self, now_us: int) -> None:
        """Recount the open-handoff gauges over the partitions this worker owns (standby copies excluded)."""
        owned = set(self.owned_partitions())
        states: Iterable[Any] = self.store.values()
        if owned:
            states = [s for s in states if s and s.get("partition") in owned]
        self.metrics.refresh_open(states, now_us)

