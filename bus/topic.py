"""Topics own their serialisation; the producer only sends bytes (as quix-streams' ``Topic`` does).

``Topics`` answers, per topic name, how an event becomes a ``KafkaRecord`` (key, value and headers as
bytes): by default with the deployment's Avro framing (``bus.serde.build_serde``), or with a serializer
given for that topic (an internal protocol topic, for instance). ``EventProducer`` asks it to serialize
and then sends bytes; it never looks inside an event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bus.serde.base import Event, SerdeContext, Serializer

Headers = Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """A record as Kafka takes it: topic, key, value and headers, all bytes (value None: a tombstone)."""

    topic: str
    key: bytes | None
    value: bytes | None  # None: a tombstone
    headers: tuple[tuple[str, bytes], ...] = field(default_factory=tuple)
    partition: int | None = None  # None: the producer's partitioner (murmur2 of the key) decides


class Topics:
    """Serialisation per topic: ``serializers[name]`` for the named topics, ``default`` for every other."""

    def __init__(self, default: Serializer, serializers: Mapping[str, Serializer] | None = None) -> None:
        self._default = default
        self._serializers = dict(serializers or {})
        self._contexts: dict[str, SerdeContext] = {}  # per topic, for records without headers (immutable)

    def _context(self, topic: str, headers: Headers) -> SerdeContext:
        if headers:
            return SerdeContext(topic=topic, headers=tuple(headers))
        context = self._contexts.get(topic)
        if context is None:
            context = self._contexts[topic] = SerdeContext(topic=topic)
        return context

    def serializer(self, topic: str) -> Serializer:
        return self._serializers.get(topic, self._default)

    def needs_io(self, topic: str, event: Event, headers: Headers = ()) -> bool:
        """True when serializing ``event`` would first ask the schema registry (run it off the event loop)."""
        is_ready = getattr(self.serializer(topic), "is_ready", None)
        return is_ready is not None and not is_ready(event, self._context(topic, headers))

    def serialize_now(self, topic: str, key: str | None, event: Event, headers: Headers = ()) -> KafkaRecord | None:
        """``serialize`` when it needs no registry round trip, else None (``needs_io``): the topic's serializer and
        context looked up once for both, on the adapters' hot path. Raises as ``serialize`` does."""
        serializer = self._serializers.get(topic, self._default)
        context = self._context(topic, headers)
        is_ready = getattr(serializer, "is_ready", None)
        if is_ready is not None and not is_ready(event, context):
            return None
        return KafkaRecord(topic, key.encode() if key is not None else None, serializer(event, context), tuple(headers))

    def serialize(self, topic: str, key: str | None, event: Event, headers: Headers = ()) -> KafkaRecord:
        """Raises ``SerializationError`` for an event its schema refuses, ``SchemaRegistryError`` on an outage."""
        value = self.serializer(topic)(event, self._context(topic, headers))
        return KafkaRecord(topic, key.encode() if key is not None else None, value, tuple(headers))
