"""Clock ticks: how time reaches a processor's per-partition scans (handoff deadlines, KPI windows) through Kafka.

faust lets a table be written only while processing a record of the partition the key lives in, so a
scan runs on records: a tick topic is co-partitioned with the processor's inputs (same partition count)
and consumed by the same agent, and a tick on partition p scans the state of partition p. A tick
carries the instant to scan at, read from the worker's ``Clock``; ticks published while the worker is
down wait in the topic, so no deadline is skipped. The payload is a tiny JSON object, internal to the
processor (not part of the Avro contract). Used by ``processors.handoffs`` and ``processors.kpis``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import faust
from aiokafka.partitioner import murmur2

from bus.clock import Clock, to_micros
from bus.errors import OmnibusError, RawRecord
from bus.producer import LazyProducer
from bus.record_headers import is_utf8


class BadTick(OmnibusError, ValueError):
    """A tick record that is not ``{"now_us": <int>}``, or one implausibly far ahead of the clock."""


def encode_tick(now_us: int) -> bytes:
    return json.dumps({"now_us": now_us}).encode()


def decode_tick(record: RawRecord, *, not_after_us: int | None = None) -> int:
    """The instant (µs since the epoch) a tick scans at.

    ``not_after_us``: the latest plausible instant (the worker's clock plus a tolerance); a tick beyond
    it is refused, so one record such as ``{"now_us": 10**30}`` cannot fire every deadline at once (#13
    case 5: control inputs are checked for plausibility). None (replays of history): no bound.
    Raises ``BadTick``.
    """
    if not all(is_utf8(key) for key, _ in record.headers):
        raise BadTick("not a clock tick: a header key is not UTF-8")  # see bus.record_headers
    try:
        now_us = json.loads(record.value or b"")["now_us"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadTick(f"not a clock tick: {exc}") from exc
    if not isinstance(now_us, int):
        raise BadTick("not a clock tick: now_us must be an integer")
    if not_after_us is not None and now_us > not_after_us:
        raise BadTick(f"implausible clock tick: now_us {now_us} is later than {not_after_us}, the worker's clock "
                      "plus the tick tolerance")
    return now_us


@cache
def key_for_partition(partition: int, partitions: int) -> bytes:
    """A key the default (murmur2) partitioner sends to ``partition``: ticks need no custom partitioner."""
    for n in range(100_000):
        key = f"tick-{partition}-{n}".encode()
        if (murmur2(key) & 0x7FFFFFFF) % partitions == partition:
            return key
    raise ValueError(f"no key found for partition {partition} of {partitions}")


def tick_records(now_us: int, partitions: Iterable[int], partition_count: int) -> list[tuple[bytes, bytes]]:
    """(key, value) of one tick for each partition."""
    value = encode_tick(now_us)
    return [(key_for_partition(p, partition_count), value) for p in sorted(partitions)]


@dataclass(frozen=True)
class Ticker:
    """One processor's tick topic: the partitions this worker owns, a timer publishing their ticks, reading one.

    ``tolerance_s``: how far (seconds) a tick may lie ahead of the worker's clock before it is refused.
    """

    app: faust.App
    topic: str
    partition_count: int
    clock: Clock
    tolerance_s: float

    def owned_partitions(self) -> set[int]:
        """Partitions of the tick topic assigned to this worker (hence of the co-partitioned inputs)."""
        return {tp.partition for tp in self.app.consumer.assignment() if tp.topic == self.topic}

    def read(self, record: RawRecord) -> int:
        """The instant (µs since the epoch) a tick record scans at. Raises ``BadTick``."""
        return decode_tick(record, not_after_us=to_micros(self.clock.now()) + int(self.tolerance_s * 1_000_000))

    def publish_every(self, interval_s: float, producer: LazyProducer, name: str) -> None:
        """Register a faust timer publishing one tick per owned partition every ``interval_s`` (0: none)."""
        if interval_s <= 0:
            return

        @self.app.timer(interval_s, name=name)
        async def publish_ticks() -> None:
            ready = await producer.ready()
            for key, value in tick_records(to_micros(self.clock.now()), self.owned_partitions(), self.partition_count):
                await ready.send_raw(self.topic, key, value)
