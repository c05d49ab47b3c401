"""Changelog records fetched while their partition is paused are fetched again, not lost (CI: a restore stall).

faust pauses and resumes partitions only in its own bookkeeping (``Consumer._active_partitions``); aiokafka keeps
fetching every assigned partition in the background. faust's fetch (``Consumer._wait_next_records``) hands that
set *object* to the consumer's thread, where ``Fetcher.fetched_records(partitions)`` waits up to a second for data
and filters with ``if partitions and tp not in partitions``. When faust pauses the last active partition during
that wait (a rebalance: ``pause_partitions(assignment)``; the end of a table restore: ``pause_partitions(active_tps)``),
the set is empty and the fetch returns the buffered records of *every* assigned partition, with aiokafka's position
moved past them. faust then drops the records of partitions that are paused (``Consumer.getmany``: ``tp in
active_partitions``), or all of them while its flow is stopped, and seeks back only stream partitions
(``perform_seek``, to their committed offsets). A changelog partition stays past the dropped records:

* an active restore that lost them before faust resumed the partition waits for records that will never come
  ("No event received for active tp ... since recovery start", the remainder never moves:
  ``tests/processors/identity/test_web.py`` in CI, 18 records left on ``identity-nodes-changelog[3]``);
* a standby partition lost them for good until the next rebalance; and ``bus.standby_apply``, which took them
  from the fetch as they came, applied records fetched *after* faust had read the partition's highwater and
  before it compared it with the standby offset: faust's ``ConsistencyError`` "persisted offset 24 > highwater
  19" (faust-streaming #158 reports the same).

``undelivered`` takes such records out of a fetched map, and ``rewind`` seeks each partition back to its first
one, in the consumer's thread, unless something else (faust's recovery) has moved the position since the fetch.
The records come again once faust resumes the partition; the restore and the standby skip what they already
applied by offset, so nothing is applied twice.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.errors import IllegalStateError
from aiokafka.structs import ConsumerRecord

from bus.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Fetched:
    """Offsets of one partition's records taken out of a fetch: ``first`` and ``after`` (the last one + 1, where
    the fetch left aiokafka's position)."""

    first: int
    after: int


def delivered(consumer: Any, tp: Any, active: set[Any] | None) -> bool:
    """True when faust's ``Consumer.getmany`` hands the records of ``tp`` on now: its flow runs and the partition
    is active (``active``, the set the fetch was made with; None: every partition) or buffered."""
    if not consumer.flow_active:
        return False
    return active is None or tp in active or tp in consumer._buffered_partitions  # noqa: SLF001


def undelivered(consumer: Any, records: MutableMapping[Any, Sequence[ConsumerRecord]],
                active: set[Any] | None) -> dict[Any, Fetched]:
    """Remove from ``records`` (a fetched map, TP -> records in offset order) the records of changelog partitions
    that faust would drop (``delivered`` is false); returns their offsets per partition."""
    changelogs = consumer.app.tables.changelog_topics
    taken: dict[Any, Fetched] = {}
    for tp in [tp for tp in records if tp.topic in changelogs and not delivered(consumer, tp, active)]:
        fetched = records.pop(tp)
        if fetched:
            taken[tp] = Fetched(fetched[0].offset, fetched[-1].offset + 1)
    return taken


async def rewind(consumer: Any, taken: Mapping[Any, Fetched]) -> list[Any]:
    """Seek the partitions of ``taken`` back to their first record (see the module); returns those sought."""
    if not taken:
        return []
    thread = consumer._thread  # noqa: SLF001 - faust's consumer runs aiokafka's in a thread of its own
    sought: list[Any] = await thread.call_thread(seek_back, thread._ensure_consumer(), dict(taken))  # noqa: SLF001
    if sought:
        log.info("changelog records fetched while their partition was paused; fetched again",
                 partitions=[f"{tp.topic}[{tp.partition}]:{taken[tp].first}-{taken[tp].after - 1}" for tp in sought],
                 generation=consumer.app.consumer_generation_id)
    return sought


async def seek_back(kafka: Any, taken: Mapping[Any, Fetched]) -> list[Any]:
    """In the thread of aiokafka's consumer ``kafka``: seek each partition still where the fetch left it
    (position == ``after``) to ``first``. A partition sought meanwhile, unassigned, or without a position is left."""
    sought = []
    for tp, fetched in taken.items():
        try:
            state = kafka._subscription._assigned_state(tp)  # noqa: SLF001
        except (IllegalStateError, AssertionError):
            continue  # no longer assigned: its next owner reads it
        if state.has_valid_position and state.position == fetched.after:
            kafka.seek(tp, fetched.first)
            sought.append(tp)
    return sought
