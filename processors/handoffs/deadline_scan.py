"""The tracker's deadline scans: a tick record of a partition, admitted in order with the handoff events
(``bus.tick_gate``), fires every timer due (``deadlines.fire_due``) after following the customers' changes."""

from __future__ import annotations

from bus.errors import RawRecord
from bus.logging import get_logger
from bus.metrics import TICK_SCANS
from bus.tick_gate import Outcome
from bus.ticks import Tick
from processors.handoffs.deadlines import fire_due
from processors.handoffs.following import CustomerFollowing
from processors.handoffs.recalls import remembered
from processors.handoffs.tracker_base import COMPONENT, LOGGER

log = get_logger(LOGGER)


class DeadlineScans(CustomerFollowing):
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

