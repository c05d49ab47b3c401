"""A worker's fetch takes records of the partitions faust hands on, and only those: none is skipped (fetch47).

faust asks its consumer thread for the records of its *active* partitions (assigned, neither paused nor taken
out by a full stream buffer) and hands that thread its own live set (``Consumer._get_active_partitions``), which
the worker's loop keeps changing while the thread waits up to a second for records (``getmany(timeout=1.0)``).
aiokafka's ``Fetcher.fetched_records(partitions)`` reads an *empty* ``partitions`` as "every assigned partition".
So a fetch asked while the set held only the changelogs of a table restore, which recovery then paused, returned
the records of every stream partition, paused or not; aiokafka moved their fetch positions past them, and faust's
``Consumer.getmany`` silently drops the records of a partition that is not active. Every worker start with
tables did this once or more (a probe on aiokafka's fetcher saw it in every start of the demo's middleware). The
seek at the end of the rebalance (``bus.seek_before_resume``, ``bus.seek_uncommitted``) usually moves the
positions back, but in some starts the positions stayed after records never handed on (which fetch of the
start did it was not pinned down), and the partition's first records waited for ``bus.lag_watchdog``'s seek a
minute later (the demo's offer step that gave up; in 1 of 29 starts of the demo's middleware, every input
partition of the KPI worker at 81 s, each fetched but never handed on: position at the log end, faust's read
offset unset, nothing committed; ``tests/bench/first_record.py``).

``install`` replaces faust 0.15's ``AIOKafkaConsumerThread._fetch_records`` (run in the consumer's thread) with one
that fetches nothing while the set is empty, hands aiokafka a view of the live set that is never "empty"
(``LiveView``: a partition faust resumes during the wait is still returned at once, one it pauses no longer), and
gives back what the worker's loop paused between aiokafka's last look and the answer: a partition of the answer no
longer active (nor buffered) is sought back to its first record returned, and left out, so it is fetched again
once faust resumes it. ``bus.changelog_rewind`` found the same empty set for changelog partitions and takes their
records back after the fetch (still needed for a fetch answered while faust's flow stops); stream partitions were
left to the rebalance's seek, which in some starts did not cover them.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from bus.logging import get_logger

log = get_logger(__name__)


class LiveView:
    """faust's live active-partition set as aiokafka's ``Fetcher.fetched_records`` reads it (``if partitions and tp
    not in partitions``): membership as the set has it at each look, and never falsy, which aiokafka would read as
    every assigned partition."""

    __slots__ = ("partitions",)

    def __init__(self, partitions: Set[Any]) -> None:
        self.partitions = partitions

    def __bool__(self) -> bool:
        return True

    def __contains__(self, tp: object) -> bool:
        return tp in self.partitions


def taken_back(records: Mapping[Any, list[Any]], active: Set[Any], buffered: Set[Any]) -> dict[Any, int]:
    """``{partition: offset}``: the partitions of ``records`` (a fetched ``{TopicPartition: [ConsumerRecord, ...]}``)
    faust would not hand on now (neither in ``active`` nor in ``buffered``), each with its first record's offset,
    where its fetch must start again."""
    return {tp: batch[0].offset for tp, batch in records.items()
            if batch and tp not in active and tp not in buffered}


async def fetch_records(thread: Any, consumer: Any, active_partitions: Set[Any] | None,
                        timeout: float | None = None, max_records: int | None = None) -> dict[Any, list[Any]]:
    """faust's ``AIOKafkaConsumerThread._fetch_records`` (faust-streaming 0.15) for the live set
    ``active_partitions`` (None: a client-only app, every partition): the records of the partitions active when
    it runs and still active when aiokafka answers. Raises ``ConsumerStoppedError`` as faust's does."""
    from aiokafka.errors import ConsumerStoppedError

    faust_consumer = thread.consumer
    if not faust_consumer.flow_active:
        return {}
    fetcher = consumer._fetcher  # noqa: SLF001 - faust reads aiokafka's fetcher directly too
    if consumer._closed or fetcher._closed:  # noqa: SLF001
        raise ConsumerStoppedError()
    if active_partitions is not None and not active_partitions:
        return {}  # nothing faust hands on now; aiokafka would read the empty set as every partition
    asked = None if active_partitions is None else LiveView(active_partitions)
    with fetcher._subscriptions.fetch_context():  # noqa: SLF001
        records: dict[Any, list[Any]] = await fetcher.fetched_records(asked, timeout=timeout,
                                                                      max_records=max_records)
    if active_partitions is None or not records:
        return records
    back = taken_back(records, active_partitions, faust_consumer._buffered_partitions)  # noqa: SLF001
    for tp, offset in back.items():
        consumer.seek(tp, offset)  # this thread owns aiokafka's consumer: fetched again once resumed
        del records[tp]
    if back:
        log.debug("records of partitions paused during a fetch sought back",
                  partitions=[f"{tp.topic}:{tp.partition}" for tp in sorted(back)])
    return records


def install() -> None:
    """Patch faust's aiokafka consumer thread once per process (see the module's doc)."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    if getattr(AIOKafkaConsumerThread._fetch_records, "omnibus_fetch_active", False):  # noqa: SLF001
        return

    async def _fetch_records(self: Any, consumer: Any, active_partitions: Set[Any] | None,
                             timeout: float | None = None, max_records: int | None = None) -> dict[Any, list[Any]]:
        return await fetch_records(self, consumer, active_partitions, timeout, max_records)

    _fetch_records.omnibus_fetch_active = True  # type: ignore[attr-defined]
    _fetch_records.__wrapped__ = AIOKafkaConsumerThread._fetch_records  # type: ignore[attr-defined]  # noqa: SLF001
    AIOKafkaConsumerThread._fetch_records = _fetch_records  # type: ignore[method-assign]  # noqa: SLF001
