"""Clock ticks: how time reaches a processor's per-partition scans (handoff deadlines, KPI windows) through Kafka.

faust lets a table be written only while processing a record of the partition the key lives in, so a
scan runs on records: a tick topic is co-partitioned with the processor's inputs (same partition count)
and consumed by the same agent, and a tick on partition p scans the state of partition p. A tick
carries the instant to scan at, read from the worker's ``Clock``; ticks published while the worker is
down wait in the topic, so no deadline is skipped. It also carries the log end offset of each co-partitioned
input partition when it was published (``ends``), so the scan waits for the inputs published before it
(``bus.tick_gate``). The payload is a tiny JSON object, internal to the processor (not part of the Avro
contract): ``{"now_us": <int>, "ends": {"<input topic>": <int>, ...}}``, ``ends`` optional. Used by
``processors.handoffs`` and ``processors.kpis``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

import faust
from aiokafka.partitioner import murmur2
from faust.types import TP

from bus.clock import Clock, to_micros
from bus.errors import OmnibusError, PublishError, RawRecord
from bus.logging import get_logger
from bus.producer import LazyProducer
from bus.record_headers import is_utf8

log = get_logger(__name__)


class BadTick(OmnibusError, ValueError):
    """A tick record that is not ``{"now_us": <int>, "ends": {<str>: <int>}}``, or one implausibly far ahead of
    the clock."""


@dataclass(frozen=True)
class Tick:
    """``now_us``: the instant to scan at (µs since the epoch). ``ends``: input topic -> its log end offset in
    the tick's partition when the tick was published (empty: a tick that waits for nothing, as before)."""

    now_us: int
    ends: Mapping[str, int] = field(default_factory=dict)


def encode_tick(now_us: int, ends: Mapping[str, int] | None = None) -> bytes:
    return json.dumps({"now_us": now_us, "ends": dict(ends)} if ends else {"now_us": now_us}).encode()


def decode_tick(record: RawRecord, *, not_after_us: int | None = None) -> int:
    """The instant (µs since the epoch) a tick scans at (``read_tick``'s ``now_us``). Raises ``BadTick``."""
    return read_tick(record, not_after_us=not_after_us).now_us


def read_tick(record: RawRecord, *, not_after_us: int | None = None) -> Tick:
    """The tick a record carries.

    ``not_after_us``: the latest plausible instant (the worker's clock plus a tolerance); a tick beyond
    it is refused, so one record such as ``{"now_us": 10**30}`` cannot fire every deadline at once (#13
    case 5: control inputs are checked for plausibility). None (replays of history): no bound.
    Raises ``BadTick``.
    """
    if not all(is_utf8(key) for key, _ in record.headers):
        raise BadTick("not a clock tick: a header key is not UTF-8")  # see bus.record_headers
    try:
        payload = json.loads(record.value or b"")
        now_us, ends = payload["now_us"], payload.get("ends") or {}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadTick(f"not a clock tick: {exc}") from exc
    if not isinstance(now_us, int) or isinstance(now_us, bool):
        raise BadTick("not a clock tick: now_us must be an integer")
    if not isinstance(ends, dict) or not all(
            isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0 for offset in ends.values()):
        raise BadTick("not a clock tick: ends must map topics to offsets (integers >= 0)")
    if not_after_us is not None and now_us > not_after_us:
        raise BadTick(f"implausible clock tick: now_us {now_us} is later than {not_after_us}, the worker's clock "
                      "plus the tick tolerance")
    return Tick(now_us, ends)


@cache
def key_for_partition(partition: int, partitions: int) -> bytes:
    """A key the default (murmur2) partitioner sends to ``partition``: ticks need no custom partitioner."""
    for n in range(100_000):
        key = f"tick-{partition}-{n}".encode()
        if (murmur2(key) & 0x7FFFFFFF) % partitions == partition:
            return key
    raise ValueError(f"no key found for partition {partition} of {partitions}")


def tick_records(
    now_us: int, partitions: Iterable[int], partition_count: int, ends: Mapping[int, Mapping[str, int]] | None = None,
) -> list[tuple[bytes, bytes]]:
    """(key, value) of one tick for each partition; ``ends``: partition -> input topic -> log end offset."""
    ends = ends or {}
    return [(key_for_partition(p, partition_count), encode_tick(now_us, ends.get(p))) for p in sorted(partitions)]


@dataclass(frozen=True)
class Ticker:
    """One processor's tick topic: the partitions this worker owns, a timer publishing their ticks, reading one.

    ``tolerance_s``: how far (seconds) a tick may lie ahead of the worker's clock before it is refused.
    ``inputs``: the co-partitioned input topics whose log end offsets each tick carries (``bus.tick_gate``).
    """

    app: faust.App
    topic: str
    partition_count: int
    clock: Clock
    tolerance_s: float
    inputs: tuple[str, ...] = ()

    def owned_partitions(self) -> set[int]:
        """Partitions of the tick topic assigned to this worker (hence of the co-partitioned inputs)."""
        return {tp.partition for tp in self.app.consumer.assignment() if tp.topic == self.topic}

    def read(self, record: RawRecord) -> Tick:
        """The tick a record carries. Raises ``BadTick``."""
        return read_tick(record, not_after_us=to_micros(self.clock.now()) + int(self.tolerance_s * 1_000_000))

    def committed(self, topic: str, partition: int) -> int | None:
        """The next offset of ``topic``/``partition`` to read after faust's last commit or seek (None: unknown)."""
        committed = getattr(self.app.consumer, "_committed_offset", {})  # faust keeps no public view of it
        return committed.get(TP(topic, partition))

    async def input_ends(self, partitions: Iterable[int]) -> dict[int, dict[str, int]]:
        """Partition -> input topic -> its log end offset now (the broker's, through faust's consumer:
        the last stable offset in exactly-once mode)."""
        tps = [TP(topic, p) for p in partitions for topic in self.inputs]
        if not tps:
            return {}
        found: dict[int, dict[str, int]] = {}
        for tp, end in (await self.app.consumer.highwaters(*tps)).items():
            if end is not None:
                found.setdefault(tp.partition, {})[tp.topic] = int(end)
        return found

    def publish_every(self, interval_s: float, producer: LazyProducer, name: str) -> None:
        """Register a faust timer publishing one tick per owned partition every ``interval_s`` (0: none)."""
        if interval_s <= 0:
            return

        @self.app.timer(interval_s, name=name)
        async def publish_ticks() -> None:
            await self.publish_round(producer)

    async def publish_round(self, producer: LazyProducer) -> int:
        """Publish one tick per owned partition; returns how many were sent. A round that meets the worker's stop
        (its producer closed under it, faust's timers still running) ends quietly: a tick is only a clock, the next
        start publishes the next one (a fresh tester read ``Crashed reason=PublishError(... ProducerClosed())`` and a
        traceback at the end of every demo). Raises ``PublishError`` while the worker runs."""
        if self.app.should_stop:  # and never start a new producer after the worker stopped its own
            return 0
        ready = await producer.ready()
        partitions = self.owned_partitions()
        try:  # read before the tick is sent: every input record published before the read lies below its end
            ends = await self.input_ends(partitions)
        except Exception as error:  # a tick without its ends could scan ahead of unread inputs: none this round
            log.warning("no tick this round: the inputs' end offsets could not be read", topic=self.topic,
                        error=f"{type(error).__name__}: {error}")
            return 0
        sent = 0
        try:
            for key, value in tick_records(to_micros(self.clock.now()), partitions, self.partition_count, ends):
                await ready.send_raw(self.topic, key, value)
                sent += 1
        except PublishError:
            if not self.app.should_stop:
                raise
            log.info("ticks not sent: the worker is stopping", topic=self.topic, unsent=len(partitions) - sent)
        return sent
