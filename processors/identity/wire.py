"""The graph topic's records: protocol messages as msgpack, beside the Avro events.

The graph topic is internal to this processor (like a faust repartition topic): its messages change
with the protocol and no one else reads them, so they are msgpack-encoded Structs
(``graph/messages/``) rather than a published Avro contract. A record's value is a msgpack array of
``[node key, message]`` pairs, all for nodes of the record's partition (``bundle``); the record key is
the first pair's node. ``RoutingSerializer`` lets one ``EventProducer`` publish both kinds in one batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import msgspec

from bus.config import OmnibusSettings, WireFormat
from bus.partitioner import key_hash
from bus.serde import Event, SerdeContext, Serializer
from bus.serde.framing import SINGLE_OBJECT_HEADER_SIZE, SINGLE_OBJECT_MAGIC, single_object_framed
from processors.identity.graph import legacy
from processors.identity.graph.messages import AnyMessage
from processors.identity.graph.messages.base import EventRef
from processors.identity.graph.outputs import Send
from schemas.catalog import SchemaCatalog, default_catalog

ENCODED_GRAPH_MESSAGE = "internal:omnibus.identity.graph.encoded"  # value {"bytes": ...}: an encoded record
ENCODED_AS_IS = "internal:omnibus.identity.encoded"  # value {"bytes": ...}: an input record re-published as it is
MAX_BUNDLE_BYTES = 256 * 1024

Addressed = tuple[str, AnyMessage]  # (node key, message)

_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(list[Addressed])


def encoded_graph_event(data: bytes) -> Event:
    return Event(ENCODED_GRAPH_MESSAGE, {"bytes": data})


def as_is(record: bytes) -> Event:
    """An event whose record is published byte for byte (``RoutingSerializer``)."""
    return Event(ENCODED_AS_IS, {"bytes": record})


def current_single_object(record: bytes, schema: str, catalog: SchemaCatalog) -> bool:
    """True when ``record`` is single-object encoded with the contract's current writer schema of ``schema``:
    decoding and encoding it again gives the same bytes (Avro's binary encoding of one value under one
    schema is unique), so it can be re-published as it is (#9: the re-keyed contact, ~2 × 20 µs saved)."""
    if not single_object_framed(record) or schema not in catalog:
        return False
    return record[len(SINGLE_OBJECT_MAGIC):SINGLE_OBJECT_HEADER_SIZE] == catalog.get(schema).fingerprint


def reusable_records(settings: OmnibusSettings) -> Callable[[EventRef], bool]:
    """Whether a referenced input record can be re-published byte for byte: single-object encoded with the
    current writer schema (with a registry, records are encoded again under the output topic's subject)."""
    if settings.registry.wire_format is not WireFormat.SINGLE_OBJECT:
        return lambda ref: False
    catalog = default_catalog()
    return lambda ref: current_single_object(ref.record, ref.schema, catalog)


def encode_message(node: str, message: AnyMessage) -> bytes:
    """One ``[node, message]`` pair (a record of one message is ``encode_record`` of one pair)."""
    return _ENCODER.encode((node, message))


def encode_record(messages: Sequence[Addressed]) -> bytes:
    return _ENCODER.encode(list(messages))


def decode_record(data: bytes | None, key: str = "") -> list[Addressed]:
    """The ``(node, message)`` pairs in a graph record; ``ValueError`` if it is not one.

    A JSON record of the protocol before msgpack (still on the topic after an upgrade) is converted
    (``graph/legacy.py``); ``key`` is its node.
    """
    if data is None:
        raise ValueError("graph record has no value")
    try:
        if data[:1] == b"{":
            return legacy.record(key, json.loads(data))
        return _DECODER.decode(data)
    except (msgspec.DecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"graph record is not a list of [node, protocol message] pairs: {exc!r}") from None


def partition_of(node: str, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as the producer and the tables use) gives ``node``."""
    return key_hash(node.encode()) % partitions  # murmur2, remembered for recent keys (bus.partitioner)


def bundle(sends: Sequence[Send], partitions: int, max_bytes: int = MAX_BUNDLE_BYTES) -> list[tuple[str, bytes]]:
    """``(record key, encoded record)`` pairs: messages bound for one partition travel as one record.

    Fewer, larger records: each record costs faust and Kafka far more than the handling of a message.
    The record key is the first message's node, so the record lands on the partition of all of them;
    order is kept within a bundle, and bundles of one partition are published in order, hence per node.
    A bundle stays under ``max_bytes`` (Kafka refuses requests over 1 MiB by default).
    """
    groups: dict[int, list[list[tuple[str, bytes]]]] = {}
    sizes: dict[int, int] = {}
    for send in sends:
        encoded = send.encoded or encode_message(send.node, send.message)
        partition = partition_of(send.node, partitions)
        chunks = groups.setdefault(partition, [[]])
        size = len(encoded)
        if chunks[-1] and sizes[partition] + size + 5 > max_bytes:  # 5: the array header at most
            chunks.append([])
            sizes[partition] = 0
        chunks[-1].append((send.node, encoded))
        sizes[partition] = sizes.get(partition, 0) + size
    return [(chunk[0][0], _ENCODER.encode([msgspec.Raw(item) for _, item in chunk]))
            for chunks in groups.values() for chunk in chunks]


_AS_THEY_ARE = frozenset({ENCODED_GRAPH_MESSAGE, ENCODED_AS_IS})


class RoutingSerializer:
    """Encoded graph records and records re-published as they are (``as_is``) pass unchanged, every other
    event goes to the Avro serializer it wraps."""

    def __init__(self, avro: Serializer) -> None:
        self._avro = avro

    def is_ready(self, event: Event, ctx: SerdeContext) -> bool:
        if event.schema in _AS_THEY_ARE:
            return True
        is_ready = getattr(self._avro, "is_ready", None)
        return True if is_ready is None else bool(is_ready(event, ctx))

    def __call__(self, event: Event, ctx: SerdeContext) -> bytes:
        if event.schema in _AS_THEY_ARE:
            return bytes(event.value["bytes"])
        return self._avro(event, ctx)
