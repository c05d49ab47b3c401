"""The tracker following identity's customers: what the directory learnt since the last tick, applied to the handoffs
it concerns (placement, merges and splits, tiers, identifiers a customer no longer holds), and the same rules on a
replay of the announcements (``HandoffTracker``; the rules themselves: ``customers``)."""

from __future__ import annotations

import itertools

from bus.logging import get_logger
from bus.serde import Event
from processors.handoffs.customers import announced_view, follow, is_customer_cause
from processors.handoffs.notifications import received_notification
from processors.handoffs.outputs import STATUS_CHANGED, Output
from processors.handoffs.recalls import fallback_addresses, recalled
from processors.handoffs.state import HandoffState
from processors.handoffs.tracker_base import LOGGER, TrackerBase, record_us

log = get_logger(LOGGER)


class CustomerFollowing(TrackerBase):
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
            self._save(received_notification(self.emitter, state, record_us(event), None, self.policy)[0])  # held
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

