"""The tracker: applies lifecycle records and clock ticks to the table, publishes, dead-letters.

Independent of faust: the store is any mutable mapping (a faust Table in the worker, a dict in tests
and benchmarks) and the publisher anything with ``publish_many``. For each record or due handoff it
(1) computes the transition, (2) publishes its outputs and waits for Kafka's acknowledgement, then
(3) writes the new state. A crash between (2) and (3) re-publishes the same deterministic ids; a crash
after (3) finds the event id or the fired marker in the state and does nothing: at-least-once with
idempotent effects.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bus.clock import to_micros
from bus.errors import RawRecord
from bus.logging import get_logger
from bus.metrics import TICK_SCANS
from bus.producer import Outgoing
from bus.serde import Event
from bus.tick_gate import MAX_DEFER_S, Outcome, TickGate
from bus.ticks import Tick
from processors.handoffs.config import HandoffPolicy
from processors.handoffs.customer_index import CustomerIndex
from processors.handoffs.customers import AnnouncedCreations, announced_view, follow, is_customer_cause
from processors.handoffs.deadlines import fire_due
from processors.handoffs.directory import CustomerDirectory
from processors.handoffs.due_index import DueIndex
from processors.handoffs.metrics import HandoffMetrics
from processors.handoffs.notifications import held_delivery, readdressed, received_notification
from processors.handoffs.outputs import (
    ACKNOWLEDGED,
    CREATED,
    LIFECYCLE,
    STATUS_CHANGED,
    Emitter,
    Output,
    named_by_held,
)
from processors.handoffs.recalls import fallback_addresses, recalled, remembered
from processors.handoffs.retention import Pruner, Retention, is_tombstone
from processors.handoffs.revisions import KEPT_FIELDS, OLDER_VERSION
from processors.handoffs.state import HandoffState
from processors.handoffs.transitions import Context, IllegalTransition, apply

log = get_logger(__name__)
COMPONENT = "handoffs"
REFUSED_AS = "IllegalTransition:"  # a dead letter's error type: this, then ``IllegalTransition.code``


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


class HandoffTracker:
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

    # --- lifecycle records ------------------------------------------------------------------------

    async def handle(self, event: Event, record: RawRecord) -> str:
        """Apply one decoded record; returns what happened (applied, duplicate, own-output, illegal)."""
        envelope = event.value.get("envelope") or {}
        if envelope.get("source_system") == self.emitter.source_system:
            return "own-output"  # applied to the state when it was emitted
        if event.schema not in LIFECYCLE or not event.value.get("handoff_id"):
            await self._refuse(record, event, IllegalTransition(f"{event.schema} is not a handoff lifecycle event",
                                                                "not_lifecycle"))
            return "illegal"
        handoff_id = event.value["handoff_id"]
        if self.pruner is not None and (outcome := await self._retention(event, record)) is not None:
            return outcome
        state = self._load(handoff_id)
        views = self.directory if self.directory is not None else self.announced
        ctx = Context(self.policy, self.emitter, record.partition, views)
        try:
            transition = apply(state, event, ctx)
        except IllegalTransition as error:
            await self._refuse(record, event, error)
            return "illegal"
        except Exception as error:  # a record the rules cannot handle must not stall the partition
            log.exception("lifecycle event could not be applied", handoff_id=handoff_id, schema=event.schema)
            await self._refuse(record, event, IllegalTransition(f"{type(error).__name__}: {error}", "error"))
            return "illegal"
        if not transition.changed:
            return "duplicate"
        new_state, outputs = transition.state, transition.outputs
        # What the directory learnt since the last tick is followed at once, after the record as a replay applies
        # it: its customer notification goes out under the customer identity placed the case on (tester25 F1).
        # A RECEIVED still names no customer identity has not placed the case on (``transitions._create``).
        if (followed := self._follow(new_state, record_us(event))) is not None:
            new_state, extra = followed
            if new_state.customer_placed or event.schema != CREATED:
                outputs = readdressed(outputs, new_state, self.policy.notifications)
            outputs = [*outputs, *extra]
        if new_state.relinquished:  # the record's own events too: never the number its customer no longer holds
            outputs = held_delivery(named_by_held(outputs, new_state), new_state, self.policy.notifications)
        new_state = remembered(new_state, outputs)
        await self._publish(outputs)
        self._save(new_state)
        self.metrics.applied(event.schema, transition.state.team, transition.effects)
        for effect, team in transition.effects:
            if effect == "unknown_team":  # the event id, not the handoff id: a legacy handoff id is free text
                log.warning("handoff transferred to a team the policy does not name; it gets the default team's "
                            "calendar and escalation chain", team=team, event_id=envelope.get("event_id"))
            elif effect == "revised" and team in KEPT_FIELDS:  # counted by omnibus_handoff_revisions_total
                log.warning("a later version of the case's source record changed what the tracker cannot change on a "
                            "case; the case keeps its own (corrected contact identifiers re-address its notices: "
                            "docs/handoffs.md)", field=team,
                            event_id=envelope.get("event_id"))
            elif effect == "revised" and team == OLDER_VERSION:  # counted likewise
                log.warning("an older version of the case's source record arrived after a newer one (a refused row "
                            "re-driven after the source updated it); the case keeps the newer",
                            event_id=envelope.get("event_id"))
            elif effect == "names_nobody":  # counted by omnibus_handoff_needing_contact while it is open
                log.warning("handoff created naming no identifier and no customer: its notifications reach nobody "
                            "and no screen pop shows it (needs_contact)", team=team, event_id=envelope.get("event_id"),
                            origin_channel=event.value.get("origin_channel"))
        return "applied"

    async def _refuse(self, record: RawRecord, event: Event, error: IllegalTransition) -> None:
        correlation = (event.value.get("envelope") or {}).get("correlation_id")
        await self.dead_letters.write(record, reason=error.reason, error_type=f"{REFUSED_AS}{error.code}",
                                      correlation_id=correlation)
        self.metrics.illegal(error.code, orphan_ack=event.schema == ACKNOWLEDGED and error.code == "unknown_handoff")

    async def _retention(self, event: Event, record: RawRecord) -> str | None:
        """The event-time retention of closed cases (``retention``): sweep the record's partition when its clock
        enters a new interval; then a record for a pruned case is a duplicate (it occurred before the close) or
        refused, and a creation older than any tombstone kept is refused. None: apply the record as usual."""
        assert self.pruner is not None
        partition, at_us = record.partition, record_us(event)
        if (sweep_at := self.pruner.read(partition, at_us)) is not None:
            self._sweep(partition, sweep_at)
        row = self.store.get(event.value["handoff_id"])
        if is_tombstone(row):
            if at_us <= row["closed_at_us"]:
                return "duplicate"
            error = IllegalTransition("the handoff was closed and its state pruned after the retention of closed "
                                      "cases; it cannot change any more", "pruned")
        elif row is None and event.schema == CREATED and self.pruner.too_late(partition, at_us):
            error = IllegalTransition("HandoffCreated older than the tombstones of pruned handoffs are kept: it may "
                                      "re-create a case long closed", "late_creation")
        else:
            return None
        await self._refuse(record, event, error)
        return "illegal"

    def _sweep(self, partition: int | None, at_us: int) -> None:
        assert self.pruner is not None
        sweep = self.pruner.sweep(list(self.store.items()), partition, at_us)
        for key, row in sweep.write.items():
            self.store[key] = row
            self.customer_index.update(key, {} if is_tombstone(row) else row)
        for key in sweep.delete:
            del self.store[key]
            self.customer_index.update(key, {})
        self.metrics.pruned(sweep.closed, sweep.expired)

    # --- clock ticks ------------------------------------------------------------------------------

    async def on_tick(self, partition: int, tick: Tick) -> int:
        """A tick record of ``partition``: scan once every handoff event of the partition published before the tick
        was read (``bus.tick_gate``: else the scan is deferred to the record that completes it, at most
        ``max_defer_s``); returns how many handoffs fired now. A scan ahead of unread records would resend a work
        order they acknowledge or breach a case they resolve, and no replay of the log would agree."""
        admission = self.gate.admit(partition, tick)
        TICK_SCANS.labels(component=COMPONENT, outcome=admission.outcome.value).inc()
        if admission.outcome is Outcome.FORCED:
            log.warning("deadline scan forced with handoff events published before its tick still unread",
                        partition=partition, unread=self.gate.unread(partition, tick.ends))
        return await self.tick(partition, admission.scan_at_us) if admission.scan_at_us is not None else 0

    async def input_read(self, record: RawRecord) -> int:
        """A handoff event record was processed (applied, refused or dead-lettered alike): run the deferred scan it
        completes, if any; returns how many handoffs fired."""
        partition = record.partition or 0
        at_us = self.gate.read(record.topic or "", partition, record.offset or 0)
        if at_us is None:
            return 0
        TICK_SCANS.labels(component=COMPONENT, outcome=Outcome.CAUGHT_UP.value).inc()
        return await self.tick(partition, at_us)

    async def tick(self, partition: int, now_us: int) -> int:
        """Follow the customers' changes, then fire everything due in ``partition`` at ``now_us``; returns how
        many handoffs fired."""
        await self.follow_customers(partition, now_us)
        if not self.index.is_built(partition):
            entries = self.index.rebuild(self.store.items(), [partition, *self.owned_partitions()])
            log.info("due index rebuilt from the table", partition=partition, entries=entries)
        fired_total = 0
        while due_ids := self.index.pop_due(partition, now_us, limit=self.batch_size):
            try:
                fired_total += await self._fire_batch(due_ids, now_us)
            except BaseException:
                self.index.invalidate()  # popped entries not saved: rebuild from the table next tick
                raise
        return fired_total

    async def _fire_batch(self, handoff_ids: list[str], now_us: int) -> int:
        results, outputs = [], []
        for handoff_id in handoff_ids:
            state = self._load(handoff_id)
            if state is None:
                continue
            try:
                fired = fire_due(self.policy, self.emitter, state, now_us)
            except Exception:  # one broken handoff must not stop the scan of its partition
                log.exception("deadline scan failed for a handoff", handoff_id=handoff_id)
                self.metrics.scan_error()
                continue
            if fired.kinds:  # otherwise a stale entry: the state's real due instant has its own entry
                fired.state = remembered(fired.state, fired.outputs)
                results.append(fired)
                outputs.extend(fired.outputs)
        await self._publish(outputs)
        for fired in results:
            self._save(fired.state)
            self.metrics.fired(fired.state.team, [(k.value, s) for k, s in fired.kinds], fired.escalations,
                               fired.resends)
        return len(results)

    # --- customers --------------------------------------------------------------------------------

    async def follow_customers(self, partition: int, now_us: int) -> int:
        """Apply what the directory learnt since the last tick to the handoffs it concerns, whatever their status
        (customer placed by identity, resolved or moved by a merge or split, tier known or upgraded: ``customers``
        says what a resolved or closed one follows), at most
        ``batch_size`` of them per tick (the rest wait for the next: a full re-check after a start never
        blocks the partition for long); returns how many changed."""
        directory = self.directory
        if directory is None or not directory.ready:
            return 0
        if not self.customer_index.is_built(partition):
            count = self.customer_index.rebuild(self.store.items(), [partition, *self.owned_partitions()])
            log.info("customer index rebuilt from the table", partition=partition, entries=count)
            self._directory_seen.clear()
            self._customer_checks.clear()
            self._customer_backlog.clear()
        version = directory.version
        seen = self._directory_seen.get(partition)
        urgent = self._customer_checks.setdefault(partition, {})  # what changes concern: checked first
        backlog = self._customer_backlog.setdefault(partition, {})  # a full re-check, spread over several ticks
        if seen is None or seen < version:
            changes = directory.changes_since(seen) if seen is not None else None
            (urgent if changes is not None else backlog).update(
                dict.fromkeys(self.customer_index.affected(partition, changes)))
        self._directory_seen[partition] = version
        batch = list(itertools.islice(itertools.chain(urgent, backlog), self.batch_size))
        for handoff_id in batch:
            urgent.pop(handoff_id, None)
            backlog.pop(handoff_id, None)
        changed, outputs = [], []
        for handoff_id in batch:
            state = self._load(handoff_id)
            if state is None or (followed := self._follow(state, now_us)) is None:
                continue
            changed.append(followed[0])
            outputs.extend(followed[1])
        try:
            await self._publish(outputs)
        except BaseException:
            urgent.update(dict.fromkeys(batch))  # checked again at the next tick
            raise
        for state in changed:
            self._save(state)
        return len(changed)

    def replay_announcement(self, event: Event, partition: int | None = None) -> bool:
        """Rebuilding state from ``handoff.events.v1`` (``omnibus replay``): apply a customer update this tracker
        announced (a HandoffStatusChanged caused by identity or a business event) as if the directory had
        said it then; returns whether ``event`` was one. The same rules give the same state."""
        value = event.value
        if event.schema != STATUS_CHANGED or not is_customer_cause(value.get("cause", "")):
            return False
        state = self._load(value["handoff_id"])
        if state is None:
            return True
        view = announced_view(value, state)
        followed = follow(self.policy, state, view, record_us(event))
        if followed is not None:  # the recalls it published went to the notifications topic: ``sent`` forgets them
            state = recalled(self.emitter, followed.state.evolve(), 0, None)[0]
            self._save(received_notification(self.emitter, state, 0, None, self.policy)[0])  # and any held RECEIVED
        return True

    def _follow(self, state: HandoffState, at_us: int) -> tuple[HandoffState, list[Output]] | None:
        if self.directory is None:
            return None
        try:
            kept = state.customer_placed or not state.is_open  # a finished case never takes an identifier's owner
            view = self.directory.view(state.handoff_id, state.customer_identifiers, self.policy,
                                       state.customer_id if kept else None,
                                       by_identifier=state.is_open and not state.received_held,
                                       relinquished=state.relinquished)
            followed = follow(self.policy, state, view, at_us)
        except Exception:  # one broken handoff must not stop the others
            log.exception("customer update failed for a handoff", handoff_id=state.handoff_id)
            self.metrics.scan_error()
            return None
        if followed is None:
            return None
        # the notifications a gateway may still hold for an address the customer no longer holds: recalled
        new = followed.state
        also_lost = (self.directory.no_longer_held(new.customer_id, fallback_addresses(new))
                     if new.customer_id is not None and new.sent else ())
        new, recalls = recalled(self.emitter, new, at_us, followed.causation_id, also_lost)
        if not followed.announce:
            new, received = received_notification(self.emitter, new, at_us, followed.causation_id, self.policy)
            return new, [*recalls, *received]
        new = new.evolve()
        seed = f"customer:v{new.version}:{new.customer_id}:{new.service_tier}:{new.deadline_us}"
        self.metrics.customer_update(state, new, followed.retimed)
        announced = self.emitter.status_changed(new, followed.cause, at_us, followed.causation_id, seed=seed)
        new, received = received_notification(self.emitter, new, at_us, followed.causation_id, self.policy)
        return new, [announced, *recalls, *received]

    # --- state and publishing ---------------------------------------------------------------------

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
