"""The graph topic's records: protocol messages as compact JSON, beside the Avro events.

The graph topic is internal to this processor (like a faust repartition topic): its messages change
with the protocol and no one else reads them, so they are plain JSON rather than a published Avro
contract. ``RoutingSerializer`` lets one ``EventProducer`` publish both kinds in one batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bus.partitioner import key_hash
from bus.serde import Event, SerdeContext, Serializer
from processors.identity.graph.outputs import Send

GRAPH_MESSAGE = "internal:omnibus.identity.graph"
ENCODED_GRAPH_MESSAGE = "internal:omnibus.identity.graph.encoded"  # value {"bytes": ...}, already JSON
BUNDLE = "bundle"
MAX_BUNDLE_BYTES = 256 * 1024


def graph_event(message: dict[str, Any]) -> Event:
    return Event(GRAPH_MESSAGE, message)


def encoded_graph_event(data: bytes) -> Event:
    return Event(ENCODED_GRAPH_MESSAGE, {"bytes": data})


def encode_message(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def decode_message(data: bytes | None) -> dict[str, Any]:
    """The message in ``data``; ``ValueError`` if it is not a protocol message."""
    if data is None:
        raise ValueError("graph record has no value")
    message = json.loads(data)
    if not isinstance(message, dict) or not isinstance(message.get("k"), str):
        raise ValueError("graph record is not a protocol message (a JSON object with a kind 'k')")
    return message


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
        encoded = encode_message(send.message)
        partition = partition_of(send.node, partitions)
        chunks = groups.setdefault(partition, [[]])
        size = len(encoded) + len(send.node) + 8  # the message, its node and the JSON around them
        if chunks[-1] and sizes[partition] + size > max_bytes:
            chunks.append([])
            sizes[partition] = 0
        chunks[-1].append((send.node, encoded))
        sizes[partition] = sizes.get(partition, 0) + size
    records = []
    for chunks in groups.values():
        for chunk in chunks:
            if len(chunk) == 1:
                records.append(chunk[0])
            else:
                inner = b",".join(b"[" + json.dumps(node).encode() + b"," + item + b"]" for node, item in chunk)
                records.append((chunk[0][0], b'{"k":"' + BUNDLE.encode() + b'","m":[' + inner + b"]}"))
    return records


def unbundle(key: str, message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if message["k"] != BUNDLE:
        return [(key, message)]
    return [(node, inner) for node, inner in message["m"]]


class RoutingSerializer:
    """Protocol messages to JSON, every other event to the Avro serializer it wraps."""

    def __init__(self, avro: Serializer) -> None:
        self._avro = avro

    def is_ready(self, event: Event, ctx: SerdeContext) -> bool:
        if event.schema in (GRAPH_MESSAGE, ENCODED_GRAPH_MESSAGE):
            return True
        is_ready = getattr(self._avro, "is_ready", None)
        return True if is_ready is None else bool(is_ready(event, ctx))

    def __call__(self, event: Event, ctx: SerdeContext) -> bytes:
        if event.schema == GRAPH_MESSAGE:
            return encode_message(event.value)
        if event.schema == ENCODED_GRAPH_MESSAGE:
            return bytes(event.value["bytes"])
        return self._avro(event, ctx)
