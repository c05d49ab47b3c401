"""The words a file import's summary counts in: records and the lines they span, events by kind."""

from __future__ import annotations

from collections import Counter

from adapters.base.import_summary import (
    add_published_kinds,
    as_events_text,
    duplicates_text,
    event_kind,
    events_text,
    records_text,
)
from adapters.base.ingest import ChunkOutcome
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import SubmitResult
from bus.producer import Outgoing
from bus.serde import Event


def test_records_spanning_more_lines_than_they_are_say_both() -> None:
    """tester48 F9: a record whose quoted field holds a line break (RFC 4180) made ``3 lines`` of 4 lines."""
    assert records_text(3, 4) == "3 records (4 lines)"
    assert records_text(1, 2) == "1 record (2 lines)"
    assert records_text(3, 3) == "3 lines"  # every record on one line: the words of before
    assert records_text(0, 0) == "0 lines"
    assert records_text(1, 1) == "1 line"


def test_a_count_of_one_is_said_in_the_singular_in_every_part() -> None:
    """New-user sample: ``import-cdr`` of a file of one CDR printed ``Master.csv: 1 lines, 3 events published``; the
    other parts of the summaries had the same fault (``as 1 events``, ``1 events published``)."""
    assert records_text(1, 1) == "1 line" and records_text(2, 1) == "2 records (1 line)"
    assert events_text(1, {"BillIssued": 1}) == "1 event published" and as_events_text(1, {}) == "as 1 event"
    assert duplicates_text(1, 3, 3) == "1 duplicate line" and duplicates_text(1, 2, 3) == "1 duplicate record"


def test_events_of_several_kinds_are_named_most_first() -> None:
    """tester48 F9: ``3 lines, 4 events`` did not say the fourth was an ``IdentifiersObserved``."""
    assert events_text(4, {"IdentifiersObserved": 1, "BillIssued": 3}) == (
        "4 events published (3 BillIssued, 1 IdentifiersObserved)")
    assert events_text(6, {"B": 2, "A": 2, "C": 2}) == "6 events published (2 A, 2 B, 2 C)"
    assert events_text(3, {"BillIssued": 3}) == "3 events published"  # one kind: nothing to tell apart
    assert events_text(3, {"BillIssued": 3, "IdentifiersObserved": 0}) == "3 events published"
    assert events_text(0, {}) == "0 events published"
    assert event_kind("omnibus.billing.BillIssued") == "BillIssued"


def _record(dedupe_id: str, *schemas: str) -> MappedRecord:
    return MappedRecord(dedupe_id=dedupe_id, events=tuple(
        Outgoing("t", "k", Event(schema, {})) for schema in schemas))


def test_only_the_events_published_now_are_counted_by_kind() -> None:
    """A duplicate published nothing; a record twice in one chunk was published once."""
    first = _record("a", "omnibus.billing.BillIssued", "omnibus.contact.IdentifiersObserved")
    again = _record("a", "omnibus.billing.BillIssued", "omnibus.contact.IdentifiersObserved")
    duplicate = _record("b", "omnibus.billing.BillIssued")
    outcome = ChunkOutcome(accepted=[(0, first), (1, again), (2, duplicate)],
                           result=SubmitResult(published_events=2, duplicate_records=2, published_ids=("a",)))
    kinds: Counter[str] = Counter()
    add_published_kinds(kinds, outcome)
    assert kinds == {"BillIssued": 1, "IdentifiersObserved": 1} and sum(kinds.values()) == outcome.published_events
    add_published_kinds(kinds, ChunkOutcome())  # nothing published (Kafka not reached, every line refused)
    assert kinds == {"BillIssued": 1, "IdentifiersObserved": 1}
