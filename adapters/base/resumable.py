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

``drain`` runs the loop until the source has nothing more; ``Unavailable`` (Kafka or the schema registry down)
propagates with the position unchanged, at once, or, given a ``retry`` (a command importing files, which has no
sender to answer 503), once the retry gave up on the chunk (``bus.publish_retry``: backoff up to
``producer.give_up_after_s``); a chunk tried again is deduped (``adapters.base.publisher``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from adapters.base.ingest import ChunkOutcome, Item, ingest
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from bus.publish_retry import Retry

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


async def drain(
    source: ResumableSource[Any], publisher: AdapterPublisher, *, retry_after_s: int = 5, retry: Retry | None = None
) -> int:
    """Ingest every batch the source has now; return how many batches were committed. ``retry``: how a chunk
    Kafka did not acknowledge, or whose schemas the registry did not answer for (``Unavailable``), is tried again;
    None: ``Unavailable`` is raised at once."""
    committed = 0
    while (batch := await source.next_batch()) is not None:
        chunk = partial(ingest, publisher, batch.items, source.to_record, retry_after_s=retry_after_s,
                        describe=partial(source.describe, batch))
        outcome = await (chunk() if retry is None else retry.run(chunk, what="import"))
        await source.commit(batch, outcome)
        committed += 1
    return committed
