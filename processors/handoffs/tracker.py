"""The tracker: applies lifecycle records and clock ticks to the table, publishes, dead-letters.

Independent of faust: the store is any mutable mapping (a faust Table in the worker, a dict in tests
and benchmarks) and the publisher anything with ``publish_many``. For each record or due handoff it
(1) computes the transition, (2) publishes its outputs and waits for Kafka's acknowledgement, then
(3) writes the new state. A crash between (2) and (3) re-publishes the same deterministic ids; a crash
after (3) finds the event id or the fired marker in the state and does nothing: at-least-once with
idempotent effects.

Lifecycle records here; the table and publishing in ``tracker_base``, the deadline scans in ``deadline_scan``, the
customers' changes in ``following`` (each a layer of ``HandoffTracker``).
"""

from __future__ import annotations

from bus.errors import RawRecord
from bus.logging import get_logger
from bus.serde import Event
from processors.handoffs.deadline_scan import DeadlineScans
from processors.handoffs.notifications import held_delivery, readdressed
from processors.handoffs.outputs import ACKNOWLEDGED, CREATED, LIFECYCLE, named_by_held
from processors.handoffs.recalls import remembered
from processors.handoffs.retention import is_tombstone
from processors.handoffs.revisions import KEPT_FIELDS, OLDER_VERSION
from processors.handoffs.tracker_base import COMPONENT, DeadLetters, Destinations, Publisher, record_us
from processors.handoffs.transitions import Context, IllegalTransition, apply

__all__ = ["COMPONENT", "REFUSED_AS", "DeadLetters", "Destinations", "HandoffTracker", "Publisher", "record_us"]

log = get_logger(__name__)
REFUSED_AS = "IllegalTransition:"  # a dead letter's error type: this, then ``IllegalTransition.code``


class HandoffTracker(DeadlineScans):
    """The tracker (``TrackerBase`` for its constructor): lifecycle records here, deadline scans
    (``deadline_scan``), the customers' changes (``following``)."""

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

