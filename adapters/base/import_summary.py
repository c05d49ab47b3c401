"""The words a file import's summary counts in (``import-batch``, ``check-layout``, ``import-cdr``): records and the
physical lines they span, and the events published by kind.

A CSV record whose quoted field holds a line break (RFC 4180) spans several physical lines, so an export of 3
records may be 4 lines long: the summary says ``3 records (4 lines)`` then, and ``3 lines`` when every record is one
line (a CDR file always). A record may publish more than one event (a legacy line whose identifier was dropped adds
an ``IdentifiersObserved`` carrying the refusal; a CDR line is a contact, its caller's identifiers and the call), so
``4 events published`` names its kinds when there are several: ``(3 BillIssued, 1 IdentifiersObserved)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from adapters.base.ingest import ChunkOutcome


def records_text(records: int, lines: int) -> str:
    """``3 records (4 lines)`` for ``records`` spanning ``lines`` physical lines, ``3 lines`` when they are as many
    (every record on one line)."""
    if records == lines:
        return f"{records} lines"
    return f"{records} record{'' if records == 1 else 's'} ({lines} line{'' if lines == 1 else 's'})"


def events_text(events: int, kinds: Mapping[str, int], verb: str = "published") -> str:
    """``4 events published (3 BillIssued, 1 IdentifiersObserved)``: ``events`` and, when they are of several
    kinds, how many of each (``kinds``: short schema name -> events, most first, then by name); ``4 events
    published`` when they are of one kind or none."""
    text = f"{events} events {verb}"
    if len([kind for kind, count in kinds.items() if count]) < 2:
        return text
    ordered = sorted(((count, kind) for kind, count in kinds.items() if count), key=lambda item: (-item[0], item[1]))
    return f"{text} ({', '.join(f'{count} {kind}' for count, kind in ordered)})"


def event_kind(schema: str) -> str:
    """A schema's full name as a summary names it: ``omnibus.billing.BillIssued`` -> ``BillIssued``."""
    return schema.rsplit(".", 1)[-1]


def add_published_kinds(kinds: Counter[str], outcome: ChunkOutcome) -> None:
    """Count in ``kinds`` the events ``outcome`` published now, by ``event_kind`` (those of records that were
    duplicates published nothing); their sum is ``outcome.published_events``."""
    if outcome.result is None or not outcome.result.published_ids:
        return
    published = set(outcome.result.published_ids)
    for _, record in outcome.accepted:
        if record.dedupe_id in published:
            published.discard(record.dedupe_id)  # a record twice in one chunk published once
            kinds.update(event_kind(outgoing.event.schema) for outgoing in record.events)
