"""A worker starts each stream partition at its committed offset: faust seeks it before it resumes it (#9).

At the end of a rebalance of an app with tables, faust's table recovery hands the stream partitions back
to the consumer (``Recovery.on_recovery_completed``): it resumes them, *then* awaits
``Consumer.perform_seek`` (seek every partition to its committed offset, a round trip to the group
coordinator in the consumer's thread; ``bus.seek_uncommitted`` adds a second one for partitions never
committed). The flow is active by then (recovery resumed it to read the changelogs, or found nothing to
read), and the fetcher runs after the worker's first rebalance (or once a restore started it), so while the
seek is under way the fetch loop fetches the resumed partitions and hands their records on (to the agents,
or to ``bus.consume_bulk``'s handlers). The seek then moves the positions back to the committed offsets and
resets faust's read offsets, and everything handled in between is read and handled again: nothing is lost
(at-least-once holds), but each worker start did the same work twice — 1.01–1.33 re-keyed contacts per input
event in the identity profile runs of 20,000 events, up to a third of a short run's CPU
(``tests/bench/results/identity_profile.md``), and more after a restart with a backlog.

``install`` replaces the method with faust 0.15's own code with one change: the seek comes first, while the
stream partitions are still paused (faust then hands on no record of theirs), and they are resumed after it.
A record is then handled once from the committed offset on. Everything else (the signals, the generation
checks, the table callbacks, the flow and the fetcher) is faust's, in faust's order. An app without
tables ends its rebalance in ``Recovery._resume_streams``, which resumes the flow only after the seek (it
was stopped when the partitions were revoked): nothing is handed on in between, so it is left as it is.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def seek_then_resume(recovery: Any) -> None:
    """Seek every assigned partition to its committed offset, then resume the stream partitions (changelogs
    stay paused: recovery positions and resumes them itself)."""
    consumer = recovery.app.consumer
    assignment = consumer.assignment()
    if not assignment:
        return
    recovery.log.info("Seek stream partitions to committed offsets.")
    await recovery._wait(consumer.perform_seek(), timeout=recovery.app.conf.broker_request_timeout)  # noqa: SLF001
    consumer.resume_partitions({tp for tp in assignment if not recovery._is_changelog_tp(tp)})  # noqa: SLF001


async def on_recovery_completed(self: Any, generation_id: int = 0) -> None:
    """faust 0.15's ``Recovery.on_recovery_completed``, seeking before resuming (see the module's doc)."""
    consumer = self.app.consumer
    self.log.info("Restore complete!")
    await self.app.on_rebalance_complete.send()
    self._set_recovery_ended()
    callbacks = [asyncio.ensure_future(table.on_recovery_completed(self.actives_for_table[table],
                                                                   self.standbys_for_table[table]))
                 for table in self.tables.values()]
    if callbacks:
        await asyncio.wait(callbacks)
    if self.app.consumer_generation_id != generation_id:
        self.log.warning(f"Recovery rebalancing again app id {self.app.consumer_generation_id} "
                         f"param {generation_id}")
        return
    await seek_then_resume(self)
    self.completed.set()
    self.app.flow_control.resume()
    consumer.resume_flow()
    await self.app._fetcher.maybe_start()  # noqa: SLF001 - make sure the fetcher runs
    self.tables.on_actives_ready()
    if not self.app.assignor.assigned_standbys():
        self.tables.on_standbys_ready()
    self.app.on_rebalance_end()
    self.log.info("Worker ready")


def install() -> None:
    """Patch faust's ``Recovery`` once per process."""
    from faust.tables.recovery import Recovery

    if getattr(Recovery.on_recovery_completed, "omnibus_seek_before_resume", False):
        return
    on_recovery_completed.omnibus_seek_before_resume = True  # type: ignore[attr-defined]
    Recovery.on_recovery_completed = on_recovery_completed  # type: ignore[method-assign]
