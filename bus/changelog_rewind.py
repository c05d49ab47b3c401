"""Changelog records a fetch returned that faust will not hand on are fetched again, not lost (CI: a restore stall).

faust pauses and resumes partitions only in its own bookkeeping (``Consumer._active_partitions``); aiokafka keeps
fetching every assigned partition in the background, and a fetch moves aiokafka's position past the records it
returns. faust's ``Consumer.getmany`` drops the records of a partition that is not active (paused), and all of them
while its flow is stopped (a rebalance), and seeks back only stream partitions (``perform_seek``, to their committed
offsets). A changelog partition whose fetched records were dropped stays past them:

* an active restore that lost them before faust resumed the partition waits for records that will never come
  ("No event received for active tp ... since recovery start", the remainder never moves:
  ``tests/processors/identity/test_web.py`` in CI, 18 records left on ``identity-nodes-changelog[3]``);
* a standby partition lost them for good until the next rebalance; and ``bus.standby_apply``, which takes them
  from the fetch as they come, applied records fetched *after* faust had read the partition's highwater and
  before it compared it with the standby offset: faust's ``ConsistencyError`` "persisted offset 24 > highwater
  19" (faust-streaming #158 reports the same).

The fetch is no longer faust's own. faust 0.15's ``AIOKafkaConsumerThread._fetch_records`` handed aiokafka its live
active set, which aiokafka's ``Fetcher.fetched_records`` reads, when empty, as every assigned partition: pausing the
last active partition during the fetch's wait (a rebalance's ``pause_partitions(assignment)``, the end of a table
restore's ``pause_partitions(active_tps)``) returned the records of every paused partition. ``bus.fetch_active``
(installed by ``bus.app.create_app``) replaced it: it asks for nothing while the set is empty, never hands
aiokafka an empty view, and in the consumer's thread seeks back a partition faust paused during the wait. Two cases
stay for this module, which looks at the answer where faust's ``Consumer._wait_next_records`` returns it (wrapped by
``bus.standby_apply``), as ``getmany`` will: a fetch answered after faust stopped its flow (``fetch_active`` checks
the flow only before its wait), whose records ``getmany`` drops for every partition; and a partition faust paused
between the thread's answer and this look.

``undelivered`` takes the records of such changelog partitions out of a fetched map, and ``rewind`` seeks each
partition back to its first one, in the consumer's thread, unless something else (faust's recovery) has moved the
position since the fetch. The records come again once faust resumes the partition; the restore and the standby skip
what they already applied by offset, so nothing is applied twice. Stream partitions are left to the rebalance's
seeks (``bus.seek_before_resume``, ``bus.seek_uncommitted``) and to ``bus.fetch_active``.
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
