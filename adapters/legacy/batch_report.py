"""What one file's import did (``ingress_batch.BatchImporter.import_file``), and the line ``import-batch`` prints."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from adapters.base.identifiers import DroppedTally, NobodyTally
from adapters.base.import_summary import duplicates_text, events_text, records_text
from adapters.base.import_target import ImportTarget
from adapters.legacy.dropped import UnknownStatuses, trait_tally, with_dropped
from adapters.legacy.snapshot import GoneTally

# what a file of a layout with a header that has none is said to be, by import-batch's summary and check-layout's
# How a file remembered as imported is published again (docs/legacy-batch.md, "A layout that changed"): said beside
# "already imported", and by the import that dropped identifiers for want of a setting (set since, the same command
# answered "already imported").
AGAIN = "import it under a new layout `name` (under this one it is imported already: docs/legacy-batch.md)"
NO_HEADER_LINE = "no header line (the file is empty, or its first line is blank: a failed export?)"


@dataclass
class BatchReport:
    checksum: str
    lines: int = 0  # records read (a record whose quoted field holds a line break spans several lines)
    physical_lines: int = 0  # the lines those records span (``lines`` when each is one line)
    published_events: int = 0
    event_kinds: Counter[str] = field(default_factory=Counter)  # the events published, by kind (``import_summary``)
    duplicates: int = 0
    changed: int = 0  # lines published as a newer fact: their key was published before with other content
    gone: GoneTally = field(default_factory=GoneTally)  # a snapshot's lines gone since the previous one (``snapshot``)
    rejected: dict[int, str] = field(default_factory=dict)  # line number -> reason
    already_imported: bool = False
    no_header: bool = False  # the file has no header line (empty, or its first line blank): nothing imported
    imported_to: ImportTarget | None = None  # where the file was imported before (``already_imported``), if known
    imported_at: datetime | None = None  # when that import ended
    rejected_then: int = 0  # lines the import of a file ``already_imported`` rejected
    # every line read was rejected, none published: the file is not remembered as imported
    not_remembered: bool = False
    dropped: DroppedTally = field(default_factory=DroppedTally)  # identifiers left off published lines
    # traits left off published lines (a birth date 31/02/1980: the line flows without it)
    traits: DroppedTally = field(default_factory=trait_tally)
    statuses: UnknownStatuses = field(default_factory=UnknownStatuses)  # card status words published as UNKNOWN
    nobody: NobodyTally = field(default_factory=NobodyTally)  # cases opened naming no identifier of the customer

    def summary(self, name: str) -> str:
        """The line ``import-batch`` prints for the file ``name``: ``bills.csv: already imported to cluster
        4L6g3nShT-eMCtK--X86sw, prefix omnibus on 2026-12-02T11:08:42+00:00 (sha256 9f86d081884c)``, or
        ``accounts.csv: 1 line, 2 events published (1 CustomerUpdated, 1 IdentifiersObserved), 0 duplicates, 1 changed,
        0 rejected, 2 identifiers dropped (EMAIL 1 malformed, PHONE 1 placeholder) on line 2, 1 trait dropped
        (birth_date 1) on line 3`` (``2 duplicate lines`` when some were, counted in lines or records as the file's are;
        what lines lost only of those published now; ``3 records (4 lines)`` when a quoted field holds a line break; the
        events' kinds when there are several, ``adapters.base.import_summary``; ``changed``: lines published as a newer
        fact of a key published before, only when some were; the last parts only when some were dropped: identifiers are
        on ``identity.observed.v1`` as ``rejected_identifiers``, in an ``IdentifiersObserved`` of their own; a trait
        that does not read as its layout type is left out of its line's events)."""
        if self.no_header:
            return (f"{name}: {NO_HEADER_LINE}: nothing imported, nothing published or closed; import the export "
                    "again once it is complete")
        if self.gone.older_than is not None:
            return (f"{name}: older than the last snapshot of its layout imported (exported "
                    f"{self.gone.older_than.isoformat(timespec='seconds')}): not imported, nothing published or "
                    "closed; import the newest export")
        if self.already_imported:
            where = f" to {self.imported_to.describe()}" if self.imported_to else ""
            when = f" on {self.imported_at.isoformat(timespec='seconds')}" if self.imported_at else ""
            then = (f"; {self.rejected_then} line{'s were' if self.rejected_then > 1 else ' was'} rejected then "
                    "(dead-lettered): import the corrected lines in a new file") if self.rejected_then else ""
            return (f"{name}: already imported{where}{when} (sha256 {self.checksum[:12]}){then}; to publish it again "
                    f"(a corrected layout, an identifier setting set since), {AGAIN}")
        changed = f"{self.changed} changed, " if self.changed else ""
        lines = self.physical_lines or self.lines
        text = (f"{name}: {records_text(self.lines, lines)}, {events_text(self.published_events, self.event_kinds)}, "
                f"{duplicates_text(self.duplicates, self.lines, lines)}, {changed}{len(self.rejected)} rejected")
        forgotten = ("every line rejected, nothing published: the file is not remembered as imported, import it again "
                     "once the layout or the export is fixed") if self.not_remembered else ""
        again = f"a setting was missing: once it is set, {AGAIN}" if self.dropped.for_want_of_a_setting else ""
        return with_dropped(text, self.dropped, self.traits, self.statuses.summary(), self.nobody.summary(),
                            *self.gone.summary(), forgotten, again)
