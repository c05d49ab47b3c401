"""faust's consumer, partition by partition, as ``bus.lag_watchdog`` reads it and puts a stalled partition back.

What it reads: the assigned input partitions (``input_partitions``), each one's position, committed offset and the
broker's log end offset (``faust_progress``, as ``PartitionProgress``), the partitions paused inside aiokafka
(``client_paused``) and whether a stream takes a partition's records now (``routed_by``). What it does: ``revive``
puts a partition back into faust's fetch set and seeks it to its committed offset. faust keeps no public view of
most of this: every read of its private state the lag watchdog needs is here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bus.topics import is_faust_internal


@dataclass(frozen=True, slots=True)
class PartitionProgress:
    """One partition: the consumer's position and committed offset (None: unknown / never committed) and the
    log end offset (the offset the next record will get)."""

    position: int | None
    committed: int | None
    end: int

    @property
    def lag(self) -> int:
        """Records not yet committed (the consumer lag, in records)."""
        return max(0, self.end - (self.committed or 0))


def input_partitions(consumer: Any) -> list[Any]:
    """The assigned partitions the group commits (table changelogs are read by recovery, the assignor's leader topic
    by no one: ``bus.topics.is_faust_internal``)."""
    return [tp for tp in consumer.assignment() if not is_faust_internal(tp.topic)]


async def faust_progress(consumer: Any, partitions: Iterable[Any]) -> dict[Any, PartitionProgress]:
    """Per partition: faust's consumer position and committed offset, and the broker's log end offset."""
    tps = list(partitions)
    if not tps:
        return {}
    ends = await consumer.highwaters(*tps)
    committed: Mapping[Any, int | None] = consumer._committed_offset  # noqa: SLF001 - what faust commits from
    found = {}
    for tp in tps:
        if tp in ends:
            found[tp] = PartitionProgress(await consumer.position(tp), committed.get(tp), int(ends[tp]))
    return found


def client_paused(consumer: Any) -> set[Any]:
    """The partitions paused inside faust's aiokafka consumer (``AIOKafkaConsumer.paused``), behind faust's back:
    no seek and nothing of faust resumes them. Empty when there is no aiokafka client (a stand-in consumer)."""
    try:
        return set(consumer._thread._ensure_consumer().paused())  # noqa: SLF001 - faust keeps no public view of it
    except AttributeError:
        return set()


async def revive(consumer: Any, tp: Any, committed: int | None, *, routed: bool = True) -> int:
    """Put ``tp`` back into faust's fetch set (unless faust paused it on purpose, or no stream takes its records
    now: ``routed`` False) and seek it to ``committed``, or to its log start when it was never committed;
    returns the offset sought to.

    ``routed``: the app's conductor has a callback for ``tp`` (``routed_by``). A record fetched for a partition
    without one ends faust's fetcher with ``KeyError(tp)`` in ``Conductor.on_message``: seen in CI's broker-down
    test, where the KPI agents were restarting (a transient ``PartitionsMismatch``) when the watchdog revived
    a partition, and the worker crashed."""
    if routed and tp not in consumer._paused_partitions:  # noqa: SLF001 - faust pauses for flow control of its own
        consumer._buffered_partitions.discard(tp)  # noqa: SLF001 - a buffer-full mark whose drop never came
        consumer._get_active_partitions().add(tp)  # noqa: SLF001
    offset = committed if committed else (await consumer.earliest_offsets(tp)).get(tp, 0)
    await consumer.seek(tp, offset)
    return offset


def routed_by(app: Any, tp: Any) -> bool:
    """Whether faust ``app``'s conductor routes records of ``tp`` to a stream now."""
    return tp in getattr(app.topics, "_tp_to_callback", {})  # noqa: SLF001 - faust keeps no public view of it
