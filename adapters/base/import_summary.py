"""The words a file import's summary counts in (``import-batch``, ``check-layout``, ``import-cdr``): records and the
physical lines they span, and the events published by kind.

A CSV record whose quoted field holds a line break (RFC 4180) spans several physical lines, so an export of 3
records may be 4 lines long: the summary says ``3 records (4 lines)`` then, and ``3 lines`` when every record is one
line (a CDR file always). A record may publish more than one event (a legacy line whose identifier was dropped adds
an ``IdentifiersObserved`` carrying the refusal; a CDR line is a contact, its caller's identifiers and the call), so
``4 events published`` names its kinds when there are several: ``(3 BillIssued, 1 IdentifiersObserved)``. The
duplicates beside them are records (``2 duplicate lines``), and what a record lost (``1 identifier dropped``) is
counted only for the records published now: a duplicate published nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from adapters.base.ingest import ChunkOutcome
from bus.plural import counted


def records_text(records: int, lines: int) -> str:
    """``3 records (4 lines)`` for ``records`` spanning ``lines`` physical lines, ``3 lines`` (``1 line``) when they
    are as many (every record on one line)."""
    if records == lines:
        return counted(records, "line")
    return f"{counted(records, 'record')} ({counted(lines, 'line')})"


def events_text(events: int, kinds: Mapping[str, int], verb: str = "published") -> str:
    """``4 events published (3 BillIssued, 1 IdentifiersObserved)``: ``events`` and, when they are of several
    kinds, how many of each (``kinds``: short schema name -> events, most first, then by name); ``4 events
    published`` when they are of one kind or none (``1 event published``)."""
    return f"{counted(events, 'event')} {verb}{kinds_text(kinds, ' ')}"


def as_events_text(events: int, kinds: Mapping[str, int]) -> str:
    """``as 4 events (3 BillIssued, 1 IdentifiersObserved)``: what records would be published as (``check-layout``
    says ``2 would be published as 4 events``), their kinds named as ``events_text`` names them."""
    return f"as {counted(events, 'event')}{kinds_text(kinds, ' ')}"


def kinds_text(kinds: Mapping[str, int], before: str = "") -> str:
    """``(3 BillIssued, 1 IdentifiersObserved)`` after ``before`` when ``kinds`` holds events of several kinds, else
    ``""``."""
    if len([kind for kind, count in kinds.items() if count]) < 2:
        return ""
    ordered = sorted(((count, kind) for kind, count in kinds.items() if count), key=lambda item: (-item[0], item[1]))
    return f"{before}({', '.join(f'{count} {kind}' for count, kind in ordered)})"


def duplicates_text(duplicates: int, records: int, lines: int) -> str:
    """``2 duplicate lines`` (``2 duplicate records`` when the file's ``records`` span more ``lines``, as
    ``records_text`` says them): records published before, which published nothing now; ``0 duplicates`` when none.
    The unit is said because the events beside it are events (``3 events published``), and a duplicate is a record
    whatever events it would have published."""
    if not duplicates:
        return "0 duplicates"
    return counted(duplicates, "duplicate line" if records == lines else "duplicate record")


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
