"""``omnibus replay``: rebuild a processor's state from the topics, and the topic reading it is built on.

Reading whole topics from offset 0 to the end offsets seen at the start, with progress (report, replay).

The generalisation of ``bus/replay.py``: several topics at once, the record's key and
position kept, undecodable records counted (not fatal), and a progress callback ``(done, total)`` after
each batch so commands can draw a bar with a rate.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from bus import undecodable
from bus.config import OmnibusSettings
from bus.consume import start_or_close
from bus.errors import DeserializationError
from bus.fencing import ChangelogFence
from bus.kafka_client import connection_options
from bus.serde import Event, SerdeContext, build_serde
from bus.topics import TopicSpec

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Replayed:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    event: Event | None  # None: a tombstone, or the value did not decode (or was not decoded: ``raw=True``)
    value: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()  # the record's Kafka headers (changelog fencing versions)
    timestamp_ms: int | None = None  # the record's Kafka timestamp, ms since the epoch
    unframed: bool = False  # the value is in no framing Omnibus writes: a poison record (``bus.undecodable``)

    @property
    def tombstone(self) -> bool:
        """A record without a value: on a compacted topic, "this key has no value any more" (the identifier no
        longer assigned on ``customer.identifiers.v1``), not a record that failed to decode."""
        return self.value is None and self.event is None


def fenced(records: Iterable[Replayed]) -> Iterator[Replayed]:
    """A table changelog's entries as a restore applies them (``bus.fencing.ChangelogFence``): late writes of a
    worker that had lost the partition and the fence markers are left out. ``records`` in offset order per partition."""
    return ChangelogFence().filter(records, lambda r: ((r.topic, r.partition), r.offset, r.headers, r.key))


@dataclass
class TopicsReplay:
    records: list[Replayed] = field(default_factory=list)  # per topic, per partition, in offset order
    undecodable: int = 0
    earlier: int = 0  # offsets before those read (``last``): records left unread (fewer on a compacted topic)


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic) or set()
    return [TopicPartition(topic, p) for p in sorted(partitions)]


async def read_topics(
    settings: OmnibusSettings, specs: Sequence[TopicSpec], *, progress: Progress | None = None,
    raw: Sequence[TopicSpec] = (), timeout_s: float = 30.0, last: int | None = None,
) -> TopicsReplay:
    """Every record on ``specs`` now; topics in ``raw`` are returned undecoded (JSON internal topics).
    ``last``: only the records of each partition from ``last`` offsets before its end offset (fewer on a
    compacted topic, whose offsets have gaps); the offsets left before them are counted in ``earlier``. Records
    that do not decode are counted and noted (``bus.undecodable``); a tombstone (no value) is returned as such, not
    counted."""
    names = [spec.name(settings.topics) for spec in specs]
    raw_names = {spec.name(settings.topics) for spec in raw}
    _, deserializer = build_serde(settings.registry)
    client_id = f"{settings.kafka.client_id}-replay-{uuid.uuid4().hex[:6]}"
    options = {**connection_options(settings.kafka), "client_id": client_id}
    consumer = AIOKafkaConsumer(**options, enable_auto_commit=False, group_id=None)
    await start_or_close(consumer)
    fetched: dict[TopicPartition, list] = {}
    earlier = 0
    try:
        tps = [tp for name in names for tp in await _partitions(consumer, name)]
        if tps:
            consumer.assign(tps)
            ends, starts = await consumer.end_offsets(tps), await consumer.beginning_offsets(tps)
            if last is not None:
                window = {tp: max(starts[tp], ends[tp] - last) for tp in tps}
                earlier = sum(window[tp] - starts[tp] for tp in tps)
                starts = window
            for tp in tps:
                consumer.seek(tp, starts[tp])
            total = sum(ends[tp] - starts[tp] for tp in tps)
            done = 0
            fetched = {tp: [] for tp in tps}
            remaining = {tp for tp in tps if ends[tp] > starts[tp]}
            if progress:
                progress(0, total)
            while remaining:
                batch = await consumer.getmany(*remaining, timeout_ms=int(timeout_s * 1000))
                if not batch:
                    raise TimeoutError(f"topics did not deliver up to their end offsets within {timeout_s} s")
                for tp, messages in batch.items():
                    kept = [m for m in messages if m.offset < ends[tp]]
                    fetched[tp].extend(kept)
                    done += len(kept)
                    if messages and messages[-1].offset + 1 >= ends[tp]:
                        remaining.discard(tp)
                if progress:
                    progress(done, total)
                await asyncio.sleep(0)
    finally:
        await consumer.stop()
    replay = TopicsReplay(earlier=earlier)
    for tp in sorted(fetched, key=lambda t: (names.index(t.topic), t.partition)):
        for message in fetched[tp]:
            event, unframed = None, False
            if tp.topic not in raw_names and message.value is not None:
                ctx = SerdeContext(topic=tp.topic, key=message.key, partition=tp.partition, offset=message.offset)
                try:
                    event = deserializer(message.value, ctx)
                except DeserializationError as exc:
                    replay.undecodable += 1
                    unframed = exc.unframed
                    undecodable.note_error(exc, settings.registry.url)
            replay.records.append(Replayed(tp.topic, tp.partition, message.offset, message.key, event, message.value,
                                          tuple(message.headers or ()), message.timestamp, unframed))
    return replay
