"""The units of ``import-batch`` and ``check-layout`` summaries: records (or lines) and events are told apart.

A re-import counted "2 events published" beside "4 duplicates" (records), and reported again the identifier dropped
from a duplicate line that published nothing now; ``check-layout``'s "4 would be published" counted records where
``import-batch`` counts events.
"""

from __future__ import annotations

from pathlib import Path

from adapters.base.mapper import MappedRecord
from adapters.base.publisher import SubmitResult
from adapters.legacy.ingress_batch import BatchImporter
from adapters.legacy.layout import load_layout
from adapters.legacy.layout_check import check_lines
from adapters.legacy.mapper import LegacyContext
from bus.config import TopicSettings
from bus.topics import IDENTIFIERS_OBSERVED
from tests.adapters.legacy.support import legacy_context
from tests.adapters.legacy.test_batch_report import HEADER, SAMPLES, account
from tests.adapters.web.support import StandInPublisher

LAYOUT = load_layout(SAMPLES / "accounts_layout.yaml")


def _context() -> LegacyContext:
    """The tests' context, publishing identifiers (an identifier dropped adds an ``IdentifiersObserved``)."""
    base = legacy_context()
    return LegacyContext(base.source_system, base.topic, base.default_currency,
                         identity_topic=IDENTIFIERS_OBSERVED.name(TopicSettings()))


class DedupingPublisher(StandInPublisher):
    """Publishes a record once: a re-submitted dedupe id is a duplicate, as the real publisher's store says."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    async def submit(self, records: list[MappedRecord], *, received_at: float | None = None,
                     digests: object = None) -> SubmitResult:
        fresh = [record for record in records if record.dedupe_id not in self.seen]
        self.seen.update(record.dedupe_id for record in fresh)
        self.submitted.extend(fresh)
        return SubmitResult(published_events=sum(len(record.events) for record in fresh),
                            duplicate_records=len(records) - len(fresh),
                            published_ids=tuple(record.dedupe_id for record in fresh))


def _file(tmp_path: Path, name: str, *records: str) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(records))
    return path


async def test_a_reimport_counts_duplicates_in_lines_and_reports_nothing_dropped_from_them(tmp_path: Path) -> None:
    publisher = DedupingPublisher()
    importer = BatchImporter(_context(), publisher, tmp_path / "state")  # type: ignore[arg-type]
    bad_mail = account(1).replace("a1@x.fr", "broken@")
    first = await importer.import_file(_file(tmp_path, "a1.csv", bad_mail, account(2)), LAYOUT)
    assert first.summary("a1.csv") == (
        "a1.csv: 2 lines, 4 events published (2 AccountOpened, 2 IdentifiersObserved), 0 duplicates, 0 rejected, "
        "1 identifier dropped (EMAIL 1 malformed) on line 2")
    again = await importer.import_file(_file(tmp_path, "a2.csv", bad_mail, account(2), account(3)), LAYOUT)
    # lines 2 and 3 published nothing now: not counted as losing their e-mail again
    assert again.summary("a2.csv") == (
        "a2.csv: 3 lines, 2 events published (1 AccountOpened, 1 IdentifiersObserved), 2 duplicate lines, 0 rejected")


async def test_duplicate_records_spanning_lines_are_called_records(tmp_path: Path) -> None:
    publisher = DedupingPublisher()
    importer = BatchImporter(_context(), publisher, tmp_path / "state")  # type: ignore[arg-type]
    two_lines = account(1, '"1 rue X\nBât. B"')
    await importer.import_file(_file(tmp_path, "a1.csv", two_lines), LAYOUT)
    again = await importer.import_file(_file(tmp_path, "a2.csv", two_lines, account(2)), LAYOUT)
    assert again.summary("a2.csv") == (
        "a2.csv: 2 records (3 lines), 2 events published (1 AccountOpened, 1 IdentifiersObserved), 1 duplicate record, "
        "0 rejected")


def test_check_layout_says_the_events_the_records_would_publish(tmp_path: Path) -> None:
    """As ``import-batch`` counts them (here every line's traits add an ``IdentifiersObserved``)."""
    path = _file(tmp_path, "a.csv", account(1).replace("a1@x.fr", "broken@"), account(2, '"2 rue Y\nBât. B"'))
    assert check_lines(path, LAYOUT, _context()).summary("a.csv") == (
        "a.csv: 2 records (3 lines) checked, 2 would be published as 4 events (2 AccountOpened, "
        "2 IdentifiersObserved), 0 rejected, 1 identifier dropped (EMAIL 1 malformed) on line 2")
    one_kind = _file(tmp_path, "b.csv", account(1))
    assert check_lines(one_kind, LAYOUT, _context()).summary("b.csv") == (
        "b.csv: 1 line checked, 1 would be published as 2 events (1 AccountOpened, 1 IdentifiersObserved), "
        "0 rejected")
