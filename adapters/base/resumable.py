"""The one resumable ingest loop: read a chunk, map, split good/bad, publish, dead-letter, save the
position, report. Shaped like bytewax's ``StatefulSourcePartition`` (``pysrc/bytewax/inputs.py``:
``next_batch()`` and a ``snapshot()`` of the position to resume from).

A source (a file reader, a table poller, an outbox relay) supplies only what is its own:

- ``next_batch()``: the next chunk of ``Item``s after the saved position, with the position *after*
  them (``Batch.position``), or ``None`` when nothing more is available now;
- ``to_record(index, native)``: its mapper;
- ``commit(batch, outcome)``: make the position durable (a checkpoint file, rows stamped published);
  called only after Kafka acknowledged the chunk's events and dead letters, so a crash re-reads at most
  one chunk, whose records the dedupe store and deterministic event ids absorb.

``drain`` runs the loop until the source has nothing more; ``Unavailable`` (Kafka did not acknowledge)
propagates with the position unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from adapters.base.ingest import ChunkOutcome, Item, ingest
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher

PositionT = TypeVar("PositionT")


@dataclass(frozen=True)
class Batch(Generic[PositionT]):
    """A chunk of native records and the position just after its last one."""

    items: Sequence[Item]
    position: PositionT


class ResumableSource(ABC, Generic[PositionT]):
    """What a resumable ingress implements (see the module doc)."""

    @abstractmethod
    async def next_batch(self) -> Batch[PositionT] | None: ...

    @abstractmethod
    def to_record(self, index: int, native: Any) -> MappedRecord | None: ...

    @abstractmethod
    async def commit(self, batch: Batch[PositionT], outcome: ChunkOutcome) -> None: ...

    def describe(self, batch: Batch[PositionT], index: int, error: Any) -> Any:
        """How a refusal reads in its dead letter (e.g. prefixed with file and line); as is by default."""
        return error


async def drain(source: ResumableSource[Any], publisher: AdapterPublisher, *, retry_after_s: int = 5) -> int:
    """Ingest every batch the source has now; return how many batches were committed."""
    committed = 0
    while (batch := await source.next_batch()) is not None:
        outcome = await ingest(
            publisher, batch.items, source.to_record, retry_after_s=retry_after_s,
            describe=lambda index, error, current=batch: source.describe(current, index, error),
        )
        await source.commit(batch, outcome)
        committed += 1
    return committed
