"""What a mapper produces: the events of one native record, and the source's own id for dedupe."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from bus.producer import Outgoing
from bus.topic import KafkaRecord

NativeT = TypeVar("NativeT", contravariant=True)


@dataclass(slots=True)  # not frozen: two are built per record on the hot path (object.__setattr__ costs)
class MappedRecord:
    """``dedupe_id`` is the source's own id (Segment messageId, Connect ContactId, outbox id, ...);
    ``encoded``: the events' wire bytes once ``AdapterPublisher.encode`` checked them against their
    schemas (empty until then), so nothing is Avro-encoded twice; ``dropped_traits``: the person's traits left off
    (standard key -> reason, never the value; ``bus.identifiers.traits.standard_traits``), for the sender's answer."""

    dedupe_id: str
    events: tuple[Outgoing, ...]
    encoded: tuple[KafkaRecord, ...] = ()
    dropped_traits: Mapping[str, str] | None = None


class Mapper(Protocol, Generic[NativeT]):
    """A pure function from one native record to its events; raises ``RejectedInput`` for bad input."""

    def __call__(self, native: NativeT) -> MappedRecord: ...
