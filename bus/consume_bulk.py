"""Taking the records of some topics from a faust consumer in bulk, past faust's per-record path (#9 build 3).

faust hands every consumed record to its agents one at a time: ``Consumer._drain_messages`` awaits a
``wait_first(callback(message), suspend_flow.wait())`` per record (two tasks and an ``asyncio.wait``),
then ``Conductor.on_message`` builds an ``Event``, puts it on the agent's stream queue and the stream
acknowledges it. For a stateless stage that handles a batch at once (the identity intake) this is most
of its CPU: the bench's bare faust pass-through takes ~200 µs per record where a bare aiokafka loop
takes ~15 (``tests/bench/results/identity.md``).

``take(app, topics, handler)`` (once per stage: stages of one app each take their own topics) keeps
everything else of faust — the consumer group, its assignor and rebalances, table recovery, the commit loop
with its ``bus.commit_gap`` and ``bus.changelog_first`` rules, the agents' subscriptions — and only changes
where the records of ``topics`` go: right after each fetch (``Consumer._wait_next_records``) they are taken
out of the fetched map, per partition in offset order, and awaited as one batch by ``handler`` inside the
fetch loop (so the fetcher applies back pressure, as a full stream buffer does). The handler acknowledges
what it finished with ``acknowledge``: faust commits those offsets like any acknowledged record. What is not
acknowledged (a failed or cancelled batch, one fenced off by a rebalance, ``bus.fencing``) is never
committed, and the partition's next owner — or this worker after the rebalance, faust seeks to the committed
offsets — takes it again.

The records keep faust's duplicate filter (``_read_offset``) and its end-offset tracking per partition.
A stateful stage (the identity graph) may be taken too: at a rebalance faust pauses every assigned partition
and resumes the stream partitions only once their tables are recovered (``Recovery._resume_streams``), and
``split`` leaves paused partitions to faust, so no record reaches the handler before its table is restored
(the handler must not resume partitions itself).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from time import monotonic
from typing import Any

from aiokafka.structs import ConsumerRecord

from bus.errors import ConfigError

Taken = Mapping[Any, Sequence[ConsumerRecord]]  # faust TP -> its records, in offset order
Handler = Callable[[Taken], Awaitable[None]]
_ATTRIBUTE = "_omnibus_bulk_take"


@dataclass(frozen=True)
class BulkTake:
    topics: frozenset[str]
    handler: Handler


def take(app: Any, topics: Iterable[str], handler: Handler) -> None:
    """From now on the records ``app``'s consumer fetches from ``topics`` go to ``handler`` in batches.

    The faust agents subscribed to ``topics`` stay (they make faust subscribe and assign them) but
    receive nothing. ``handler`` must call ``acknowledge`` for what it finished; it runs in the consumer's
    fetch loop: an exception it raises stops that loop (stop the worker before raising). Raises
    ``ConfigError`` when one of ``topics`` is taken already.
    """
    install()
    takes: tuple[BulkTake, ...] = getattr(app, _ATTRIBUTE, ())
    wanted = frozenset(topics)
    if any(wanted & other.topics for other in takes):
        twice = wanted & frozenset().union(*(other.topics for other in takes))
        raise ConfigError(f"topics taken in bulk twice: {sorted(twice)}")
    setattr(app, _ATTRIBUTE, (*takes, BulkTake(wanted, handler)))


def acknowledge(app: Any, taken: Taken) -> None:
    """Mark every record of ``taken`` processed: faust commits up to it (``Consumer.ack``'s bookkeeping,
    once per record offset, without a ``Message``). Call only while the partitions are still assigned
    (``bus.fencing.AssignmentFence.allows``), with no ``await`` in between."""
    from faust.transport.consumer import ack_lock
    from mode.utils.futures import notify

    consumer = app.consumer
    with ack_lock:
        for tp, records in taken.items():
            committed = consumer._committed_offset[tp]
            index, acked = consumer._acked_index[tp], consumer._acked[tp]
            for record in records:
                offset = record.offset
                if (committed is None or offset >= committed) and offset not in index:
                    index.add(offset)
                    acked.append(offset)
                    consumer._n_acked += 1
    notify(consumer._waiting_for_ack)


def split(consumer: Any, records: Any, active: set[Any] | None,
          topics: frozenset[str]) -> dict[Any, list[ConsumerRecord]]:
    """Take the records of ``topics`` out of ``records`` (a fetched ``RecordMap``, a dict): only partitions faust
    would deliver now (active or buffered), without records below faust's read offset (already delivered),
    whose read offset moves to the last one taken, as ``_drain_messages`` does per record.

    Each partition taken is stamped in faust's ``Monitor.stream_inbound_time`` (``time.monotonic``), as a stream
    stamps each event it starts: faust's consumer thread (``AIOKafkaConsumerThread.verify_event_path``) logs at
    ERROR "Stream has not started processing TP(...) ... 3) The agent processing the stream is hanging" for a
    partition with records past its fetch position and no stamp after ``stream_processing_timeout`` (300 s), so
    every partition taken here read as hanging while identity worked normally (faust-streaming #166
    shows the same line). Stamped here, the check keeps its meaning: a stage that stops taking records (its queue
    full, its partitions paused) leaves the stamp to age, and faust reports "Stream stopped processing"."""
    taken: dict[Any, list[ConsumerRecord]] = {}
    read_offset = consumer._read_offset
    for tp in [tp for tp in records if tp.topic in topics]:
        if active is not None and tp not in active and tp not in consumer._buffered_partitions:
            continue  # faust skips these (paused): leave them to it
        fetched = records.pop(tp)
        first = read_offset[tp]
        fresh = fetched if first is None else [record for record in fetched if record.offset >= first]
        if fresh:
            taken[tp] = fresh
            read_offset[tp] = fresh[-1].offset
            monitor = consumer.app.monitor
            monitor.track_tp_end_offset(tp, consumer.highwater(tp))
            monitor.stream_inbound_time[tp] = monotonic()  # what a stream's ``on_stream_event_in`` records
    return taken


def install() -> None:
    """Patch faust's ``Consumer._wait_next_records`` once per process (apps without ``take`` are unchanged)."""
    from faust.transport.consumer import Consumer

    if getattr(Consumer._wait_next_records, "omnibus_bulk", False):
        return
    async def _wait_next_records(self: Any, timeout: float) -> Any:
        records, active = await _wait_next_records.__wrapped__(self, timeout)  # type: ignore[attr-defined]
        for bulk in getattr(self.app, _ATTRIBUTE, ()):
            if records and self.flow_active and not self.should_stop:
                taken = split(self, records, active, bulk.topics)
                if taken:
                    await bulk.handler(taken)
        return records, active

    _wait_next_records.__wrapped__ = Consumer._wait_next_records  # type: ignore[attr-defined]
    _wait_next_records.omnibus_bulk = True  # type: ignore[attr-defined]
    Consumer._wait_next_records = _wait_next_records  # type: ignore[method-assign]
