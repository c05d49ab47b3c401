"""One step every ingress takes with a chunk of native records: map, split good/bad, publish, dead-letter.

An ingress cuts its input (a request body, lines of a file, rows of a table) into ``Item``s and hands
them to ``ingest``; what stays its own is how it reads, what a position is and how it answers.

A bad record costs only itself: each item is mapped on its own, and its events are checked against
their Avro schemas before anything is published, so a value the schema refuses (an ``Agent.Username``
of 42) is refused with its record instead of failing the whole chunk at serialisation. A mapper is a
pure function of the input, so any error it raises on an item is about that input: an unexpected one
(a ``TypeError`` deep in a library) is refused as ``unmappable`` and logged as a bug to fix, never
answered 500.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.base.errors import RejectedInput
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher, SubmitResult
from bus.errors import RawRecord, SerializationError
from bus.logging import get_logger
from bus.serde.avro_body import encode_body
from schemas.catalog import default_catalog

log = get_logger(__name__)

# What a pure mapper can raise on odd input besides RejectedInput; anything else (OSError, sqlite3
# errors from a state store) is a fault of this host and propagates.
INPUT_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError, RecursionError)


@dataclass(slots=True)  # not frozen: built per record on the hot path, where object.__setattr__ costs
class Item:
    """One native record: what the mapper reads, the bytes a dead letter keeps, or a refusal found
    while cutting the input (then ``native`` is unused)."""

    native: Any
    raw: RawRecord | Callable[[], RawRecord]  # a callable is built only if the record is refused
    error: RejectedInput | None = None

    def dead_letter(self) -> RawRecord:
        """The bytes a dead letter keeps (``raw``, built now if it was given as a callable)."""
        return self.raw() if callable(self.raw) else self.raw


@dataclass
class ChunkOutcome:
    """``accepted``: (index, record) published or already published; ``skipped``: indexes the mapper
    judged stale (``None``); ``refused``: (index, error), each dead-lettered."""

    accepted: list[tuple[int, MappedRecord]] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    refused: list[tuple[int, RejectedInput]] = field(default_factory=list)
    result: SubmitResult | None = None

    @property
    def published_events(self) -> int:
        return self.result.published_events if self.result else 0

    @property
    def duplicates(self) -> int:
        return self.result.duplicate_records if self.result else 0

    @property
    def published_now(self) -> list[tuple[int, MappedRecord]]:
        """The (index, record) pairs of ``accepted`` published now: not the duplicates, which published nothing (an
        import counts what its published records lost among these only)."""
        if self.result is None or not self.result.published_ids:
            return []
        published = set(self.result.published_ids)
        return [(index, record) for index, record in self.accepted if record.dedupe_id in published]


def partly_rejected(rejected: int, accepted: int, noun: str, details: str) -> str:
    """The sentence a sender reads when some items of one request were refused: ``2 of 5 events rejected (the
    other 3 were accepted): <details>``, or ``1 of 1 events rejected: <details>`` when none was accepted."""
    accepted_part = "" if not accepted else f" (the other {accepted} {'was' if accepted == 1 else 'were'} accepted)"
    return f"{rejected} of {rejected + accepted} {noun} rejected{accepted_part}: {details}"


def conforms(record: MappedRecord) -> MappedRecord:
    """``record`` if every event serialises with its schema; else ``RejectedInput`` (``unmappable``)."""
    catalog = default_catalog()
    for outgoing in record.events:
        try:
            event = outgoing.event
            encode_body(catalog.get(event.schema).parsed, event.value, event.schema)
        except SerializationError as exc:
            raise RejectedInput(f"input maps to an invalid event: {exc}"[:500], code="unmappable") from exc
    return record


def map_item(to_record: Callable[[Any], MappedRecord | None], native: Any) -> MappedRecord | None:
    """Map one native record and check it against its schemas; any input error becomes ``RejectedInput``
    (see the module doc)."""
    record = _map(to_record, native)
    return None if record is None else conforms(record)


def _map(to_record: Callable[[Any], MappedRecord | None], native: Any) -> MappedRecord | None:
    try:
        return to_record(native)
    except RejectedInput:
        raise
    except INPUT_ERRORS as exc:
        raise _unmappable(exc) from exc


def _map_at(to_record: Callable[[int, Any], MappedRecord | None], index: int, native: Any) -> MappedRecord | None:
    """``_map`` of the item at ``index`` (without a partial per item)."""
    try:
        return to_record(index, native)
    except RejectedInput:
        raise
    except INPUT_ERRORS as exc:
        raise _unmappable(exc) from exc


def _unmappable(exc: BaseException) -> RejectedInput:
    log.error("a mapper failed on input it should have refused", error_type=type(exc).__name__)
    return RejectedInput(f"the record cannot be read ({type(exc).__name__})", code="unmappable")


async def ingest(
    publisher: AdapterPublisher,
    items: Sequence[Item],
    to_record: Callable[[int, Any], MappedRecord | None],
    *,
    received_at: float | None = None,
    retry_after_s: int = 5,
    describe: Callable[[int, RejectedInput], RejectedInput] | None = None,
) -> ChunkOutcome:
    """Map every item, publish the good ones (``submit``: 2xx-safe once it returns), then dead-letter
    each bad one with its reason. ``describe`` may reword a refusal (e.g. prefix a file and line).
    Raise ``Unavailable`` if Kafka acknowledged neither the events nor a dead letter: nothing of the
    chunk then counts as done, and a retry is deduped."""
    started = received_at or time.perf_counter()
    outcome = ChunkOutcome()
    for index, item in enumerate(items):
        try:
            if item.error is not None:
                raise item.error
            record = _map_at(to_record, index, item.native)
            if record is not None:  # checked against its schemas by encoding it, once, for Kafka
                record = publisher.encode_now(record) or await publisher.encode(record)
        except RejectedInput as error:
            outcome.refused.append((index, describe(index, error) if describe else error))
            continue
        if record is None:
            outcome.skipped.append(index)
        else:
            outcome.accepted.append((index, record))
    if outcome.accepted:
        outcome.result = await publisher.submit([record for _, record in outcome.accepted], received_at=started)
        _refuse_conflicts(outcome, describe)
    for index, refusal in outcome.refused:
        await publisher.reject(items[index].dead_letter(), refusal)  # ``Unavailable`` if not acknowledged
    for index, record in outcome.accepted:
        for dropped in record.dropped_parts:  # published without a part it carried
            await publisher.reject_part(items[index].dead_letter(), dropped)
    return outcome


def id_conflict(dedupe_id: str) -> RejectedInput:
    """The refusal of a record whose id was published with other content (``AdapterPublisher.submit``)."""
    return RejectedInput(f"id {dedupe_id!r} was already published with other content (in this request or an earlier "
                         "one): a re-send must repeat a record unchanged, another record needs an id of its own",
                         code="id_conflict")


def _refuse_conflicts(outcome: ChunkOutcome, describe: Callable[[int, RejectedInput], RejectedInput] | None) -> None:
    """Move the accepted items ``submit`` found in conflict to the refused ones (in item order)."""
    conflicts = outcome.result.conflicts if outcome.result else ()
    if not conflicts:
        return
    on_claims = outcome.result.claim_conflicts if outcome.result else {}
    found = [(position, outcome.accepted[position]) for position in conflicts]
    for position, (index, record) in found:
        claim = on_claims.get(position)
        error = claim.refusal() if claim is not None else id_conflict(record.dedupe_id)
        outcome.refused.append((index, describe(index, error) if describe else error))
    outcome.refused.sort(key=lambda pair: pair[0])
    taken = {index for _, (index, _) in found}
    outcome.accepted = [pair for pair in outcome.accepted if pair[0] not in taken]
