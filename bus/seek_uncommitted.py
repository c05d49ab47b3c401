"""Records fetched during a rebalance are read again on a partition that was never committed.

faust drops what the consumer fetched while its flow is suspended (a rebalance or a table recovery:
``Consumer.getmany`` then calls ``perform_seek`` instead of handing the records on) and relies on seeking
every partition back to its committed offset to read them again. aiokafka's ``seek_to_committed`` skips a
partition whose committed offset is ``None`` or ``0`` (``if offset and offset > 0``: aio-libs/aiokafka
#1003, open; faust-streaming #216 and #221 are the same family of skipped records after a rebalance). So
on a partition that never had a commit — a new deployment, a new partition, a quiet partition — the
records that arrived while the flow was suspended are skipped: the consumer's position is already past
them. If nothing more arrives there the partition never gets a committed offset (seen with two identity
workers: the group Stable, 112 of 200 contacts announced, ``contact.events`` partitions 2 and 3 never
committed, in 14 of 47 attempts; none in 39 attempts with this patch, 8 of which were seen hitting the
window); if more arrives, faust processes and commits it, and the skipped records are lost without a trace.

The patch (``install``): ``perform_seek`` also seeks such partitions to their beginning, which is what
``auto_offset_reset="earliest"`` (every Omnibus app, ``bus.app.create_app``) means for a partition with
no commit. Changelog partitions keep faust's rule: table recovery positions them itself. On the topics
``bus.commit_gap`` holds to its exact rules, that log start offset also becomes the partition's committed
offset in faust's bookkeeping: ``bus.commit_gap`` commits nothing on a partition whose committed offset is
unknown, and tells records skipped at the head by it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bus import commit_gap
from bus.logging import get_logger

log = get_logger(__name__)


def uncommitted(committed: Mapping[Any, int | None], changelogs: Iterable[str]) -> list[Any]:
    """The partitions of ``committed`` (``{TopicPartition: committed offset or None}``, as aiokafka's
    ``seek_to_committed`` returns it) that it left where they were: no commit, or a commit of offset 0,
    outside the ``changelogs`` topics."""
    skip = set(changelogs)
    return sorted((tp for tp, offset in committed.items() if not offset and tp.topic not in skip),
                  key=lambda tp: (tp.topic, tp.partition))


def install() -> None:
    """Patch faust's ``Consumer.perform_seek`` once per process (see the module's docstring)."""
    from faust.transport.consumer import Consumer, ensure_TP

    if getattr(Consumer.perform_seek, "omnibus_seek_uncommitted", False):
        return

    async def perform_seek(self: Any) -> None:
        generation = self.app.consumer_generation_id
        committed = await self.seek_to_committed()
        starts: dict[Any, int] = {}
        if self.app.conf.consumer_auto_offset_reset == "earliest":
            starts = await _seek_to_beginning(self, uncommitted(committed, self.app.tables.changelog_topics))
        # faust's own bookkeeping after the seek (faust.transport.consumer.Consumer.perform_seek, 0.15)
        self._read_offset.update(
            {tp: offset if offset is not None and offset >= 0 else None for tp, offset in committed.items()}
        )
        self._committed_offset.update(
            {ensure_TP(tp): offset if offset else None for tp, offset in committed.items() if offset is not None}
        )
        self._committed_offset.update(baselines(starts))
        commit_gap.sought(self, generation)  # bus.commit_gap commits again from here

    perform_seek.omnibus_seek_uncommitted = True  # type: ignore[attr-defined]
    Consumer.perform_seek = perform_seek  # type: ignore[method-assign]


def baselines(starts: Mapping[Any, int]) -> dict[Any, int]:
    """The committed offsets to record for partitions never committed, sought to ``starts`` (their log start
    offsets): on ``bus.commit_gap``'s strict topics only (on a compacted topic the first record may sit
    past the log start, and faust's own head check would then block its commits)."""
    from faust.transport.consumer import ensure_TP

    return {ensure_TP(tp): offset for tp, offset in starts.items() if commit_gap.is_strict(tp.topic)}


async def _seek_to_beginning(consumer: Any, partitions: list[Any]) -> dict[Any, int]:
    """Seek ``partitions`` (those still assigned) to their log start offsets; returns those offsets."""
    assigned = consumer.assignment()
    partitions = [tp for tp in partitions if tp in assigned]  # the assignment may have moved on meanwhile
    if not partitions:
        return {}
    log.debug("partitions without a committed offset sought to their beginning",
              partitions=[f"{tp.topic}:{tp.partition}" for tp in partitions])
    thread = consumer._thread  # noqa: SLF001 - faust's consumer runs aiokafka's in a thread of its own
    starts: dict[Any, int] = await thread.call_thread(_rewind, thread._ensure_consumer(), partitions)  # noqa: SLF001
    return starts


async def _rewind(consumer: Any, partitions: list[Any]) -> dict[Any, int]:
    """Seek (aiokafka's consumer, in its thread) to the log start offsets, and return them. Not
    ``seek_to_beginning``: its offset reset waits for the fetcher, which waits for prefetched records nobody
    takes while faust's flow is suspended."""
    starts: dict[Any, int] = await consumer.beginning_offsets(partitions)
    for tp, offset in starts.items():
        consumer.seek(tp, offset)
    return starts
