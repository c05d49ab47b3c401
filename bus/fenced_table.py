"""A faust table whose changelog records carry a fencing version, and whose restore honours it (#13).

``fenced_table(app, name, ...)`` is ``app.Table(name, ...)`` with two changes (the rule: ``bus.fencing``):

* every change faust writes to the changelog (``table[key] = value``, ``del table[key]``) carries the
  header ``omnibus-fence`` = the consumer-group generation in which the event being processed was
  fetched (``event.message.generation_id``, faust's ``current_event()``); a processor that writes the
  changelog records itself (identity's ``FaustTables``) adds the same header (``bus.fencing.fence_headers``);
* a worker that takes over a changelog partition first writes a fence marker of its generation into it
  (``on_rebalance``, before faust's restore reads the partition);
* restore and standby replicas apply a changelog batch through ``ChangelogFence``: a record below the
  highest version already read in its partition was written late by a worker that had lost the
  partition, and is skipped (``omnibus_changelog_fenced_total``) instead of overwriting the new owner's state;
  markers are left out of the table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import faust
from faust.streams import current_event
from faust.types import TP, EventT, FutureMessage

from bus.fencing import UNVERSIONED, ChangelogFence, batch_version, fence_headers, fence_marker
from bus.metrics import CHANGELOG_FENCED


class FencedTable(faust.Table):
    """``faust.Table`` with fenced changelog records (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fence = ChangelogFence()
        self._active: set[int] = set()  # changelog partitions this worker owned in generation ``_generation``
        self._generation = UNVERSIONED

    async def on_rebalance(self, assigned: set[TP], revoked: set[TP], newly_assigned: set[TP],
                           generation_id: int = 0) -> None:
        """faust calls this before the restore starts: mark every changelog partition taken over in this
        generation (``bus.fencing.fence_marker``) and wait for Kafka's acknowledgement, so the restore reads
        up to the marker and every late write of the previous owner lands after it."""
        await super().on_rebalance(assigned, revoked, newly_assigned, generation_id)
        name = self.changelog_topic_name
        active = {tp.partition for tp in self.app.assignor.assigned_actives() if tp.topic == name}
        kept = self._active if generation_id == self._generation + 1 else set()  # a generation missed: all taken
        self._active, self._generation = active, generation_id
        if active - kept and generation_id >= 0:
            key, value, headers = fence_marker(generation_id)
            sent = [await self.changelog_topic.send(key=key, value=value, partition=partition, headers=list(headers),
                                                    key_serializer="raw", value_serializer="raw", force=True)
                    for partition in sorted(active - kept)]
            await asyncio.gather(*sent)

    def apply_changelog_batch(self, batch: Iterable[EventT]) -> None:
        before = self.fence.skipped
        admitted = list(self.fence.filter(
            batch, lambda e: (e.message.partition, e.message.offset, e.message.headers, e.message.key)))
        if self.fence.skipped > before:
            CHANGELOG_FENCED.labels(table=self.name).inc(self.fence.skipped - before)
        super().apply_changelog_batch(admitted)

    def send_changelog(self, partition: int | None, key: Any, value: Any, key_serializer: Any = None,
                       value_serializer: Any = None) -> FutureMessage:
        """faust's ``send_changelog`` with the fencing header: the generation the current event was fetched
        in (outside an event, the worker's current generation)."""
        event = current_event()
        generation = event.message.generation_id if event is not None else self.app.consumer_generation_id
        return self.changelog_topic.send_soon(
            key=key, value=value, partition=partition,
            key_serializer=key_serializer or self.key_serializer,
            value_serializer=value_serializer or self.value_serializer,
            headers=list(fence_headers(batch_version([generation]))),
            callback=self._on_changelog_sent, eager_partitioning=True,
        )


def fenced_table(app: faust.App, name: str, **kwargs: Any) -> FencedTable:
    """Define a ``FencedTable`` on ``app`` (the arguments of ``app.Table``; no windowed tables)."""
    table = FencedTable(app, name=name, beacon=app.tables.beacon, **kwargs)
    app.tables.add(table)
    return table
