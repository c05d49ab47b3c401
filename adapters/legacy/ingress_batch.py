"""Importing nightly export files (CSV or fixed-width, described by a ``layout.Layout``).

Resumable: after each chunk of lines Kafka acknowledged, a checkpoint (byte offset, line number) is
saved for this exact file (its SHA-256 names the checkpoint). After a crash the import resumes at the
first unacknowledged chunk; re-read lines are dropped by the dedupe store. A file already imported in
full is recognised by its checksum and not read again; a copy under another name, or the same facts in
a later file when the layout declares a business ``key``, are duplicates the dedupe store drops. A line whose key
was published before with other content is changed, not a duplicate (``adapters.legacy.revisions``): a newer fact
published under an id of its own, or dead-lettered when the layout says so (``on_change``).
A line that cannot become an event is dead-lettered with its file and line number, and the import
goes on. All of this memory is of one cluster and topic prefix: the importer is given the state directory of its
target (``adapters.base.import_target``), so a file imported to one stack is imported in full to another.
The loop is ``adapters.base.resumable``; this module says what a line and a position are.
"""

from __future__ import annotations

import hashlib
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from adapters.base.checkpoint import Checkpoint
from adapters.base.errors import RejectedInput
from adapters.base.identifiers import DroppedTally
from adapters.base.import_target import ImportTarget
from adapters.base.ingest import ChunkOutcome, Item
from adapters.base.mapper import MappedRecord
from adapters.base.metrics import CHANGED
from adapters.base.publisher import AdapterPublisher
from adapters.base.resumable import Batch, ResumableSource, drain
from adapters.legacy.batch_lines import (
    EXPORTED_AT,
    ahead_of_clock,
    decoded,
    export_time,
    header_columns,
    line_id,
    line_time,
    written_line_id,
)
from adapters.legacy.dropped import UnknownStatuses, count_dropped, trait_tally, with_dropped
from adapters.legacy.errors import NoHeaderLine
from adapters.legacy.keys import key_spelling, spelled_fields
from adapters.legacy.layout import Layout
from adapters.legacy.mapper import COMPONENT, BusinessRecord, LegacyContext, map_business
from adapters.legacy.revisions import (
    REVISIONS_FILE,
    LineRevision,
    RevisionStore,
    content_digest,
    next_revision,
)
from adapters.legacy.snapshot import GONE_DIGEST, SNAPSHOTS_FILE, CloseLimit, GoneClosures, GoneTally, SnapshotLines
from adapters.legacy.tenant_change import HOLDERS_FILE, HolderLines, holder_of, with_closure
from bus.errors import RawRecord
from bus.identifiers.metrics import REJECTED_TRAITS
from bus.identifiers.traits import INVALID
from bus.logging import get_logger
from bus.publish_retry import Retry

log = get_logger(__name__)


@dataclass
class BatchReport:
    checksum: str
    lines: int = 0
    published_events: int = 0
    duplicates: int = 0
    changed: int = 0  # lines published as a newer fact: their key was published before with other content
    gone: GoneTally = field(default_factory=GoneTally)  # a snapshot's lines gone since the previous one (``snapshot``)
    rejected: dict[int, str] = field(default_factory=dict)  # line number -> reason
    already_imported: bool = False
    no_header: bool = False  # the file has no header line (empty, or its first line blank): nothing imported
    imported_to: ImportTarget | None = None  # where the file was imported before (``already_imported``), if known
    imported_at: datetime | None = None  # when that import ended
    rejected_then: int = 0  # lines the import of a file ``already_imported`` rejected
    # every line read was rejected, none published: the file is not remembered as imported (tester24 F15)
    not_remembered: bool = False
    dropped: DroppedTally = field(default_factory=DroppedTally)  # identifiers left off published lines
    # traits left off published lines (a birth date 31/02/1980: the line flows without it; tester15 F6)
    traits: DroppedTally = field(default_factory=trait_tally)
    statuses: UnknownStatuses = field(default_factory=UnknownStatuses)  # card status words published as UNKNOWN

    def summary(self, name: str) -> str:
        """The line ``import-batch`` prints for the file ``name``: ``bills.csv: already imported to cluster
        4L6g3nShT-eMCtK--X86sw, prefix omnibus on 2026-12-02T11:08:42+00:00 (sha256 9f86d081884c)``, or
        ``accounts.csv: 1 lines, 2 events published, 0 duplicates, 1 changed, 0 rejected, 2 identifiers dropped (EMAIL 1
        malformed, PHONE 1 placeholder) on line 2, 1 trait dropped (birth_date 1) on line 3`` (``changed``: lines
        published as a newer fact of a key published before, only when some were; the last parts only when some were
        dropped: identifiers are on ``identity.observed.v1`` as ``rejected_identifiers``; a trait that does not read as
        its layout type is left out of its line's events)."""
        if self.no_header:
            return (f"{name}: no header line (the file is empty, or its first line is blank: a failed export?): "
                    "nothing imported, nothing published or closed; import the export again once it is complete")
        if self.gone.older_than is not None:
            return (f"{name}: older than the last snapshot of its layout imported (exported "
                    f"{self.gone.older_than.isoformat(timespec='seconds')}): not imported, nothing published or "
                    "closed; import the newest export")
        if self.already_imported:
            where = f" to {self.imported_to.describe()}" if self.imported_to else ""
            when = f" on {self.imported_at.isoformat(timespec='seconds')}" if self.imported_at else ""
            then = (f"; {self.rejected_then} line{'s were' if self.rejected_then > 1 else ' was'} rejected then "
                    "(dead-lettered): import the corrected lines in a new file") if self.rejected_then else ""
            return f"{name}: already imported{where}{when} (sha256 {self.checksum[:12]}){then}"
        changed = f"{self.changed} changed, " if self.changed else ""
        text = (f"{name}: {self.lines} lines, {self.published_events} events published, {self.duplicates} duplicates, "
                f"{changed}{len(self.rejected)} rejected")
        forgotten = ("every line rejected, nothing published: the file is not remembered as imported, import it again "
                     "once the layout or the export is fixed") if self.not_remembered else ""
        return with_dropped(text, self.dropped, self.traits, self.statuses.summary(), *self.gone.summary(), forgotten)


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def has_batch_state(state_dir: Path) -> bool:
    """Whether ``state_dir`` holds what imports remembered there (a checkpoint or the revisions file under ``batch/``):
    at the top of the adapter's state directory, the state of an earlier version, which recorded no target."""
    folder = state_dir / "batch"
    return folder.is_dir() and any(path.suffix == ".json" or path.name == REVISIONS_FILE for path in folder.iterdir())


class BatchImporter:
    """``state_dir``: the memory of imports to ``target`` (``adapters.base.import_target.target_state_dir``); its
    publisher's dedupe store must be that target's too. ``target`` is named in the summary of a file imported before.
    ``retry``: how a chunk Kafka did not acknowledge is tried again (``adapters.base.resumable.drain``); once it
    gives up, ``import_file`` raises ``Unavailable`` and ``report`` holds what the file's run published so far.
    ``close_limit``: how many accounts one full snapshot may close (``adapters.legacy.snapshot.CloseLimit``; None:
    its defaults)."""

    def __init__(
        self, ctx: LegacyContext, publisher: AdapterPublisher, state_dir: Path, *, chunk_lines: int = 500,
        retry: Retry | None = None, target: ImportTarget | None = None, close_limit: CloseLimit | None = None,
    ) -> None:
        self._target = target
        self._close_limit = close_limit or CloseLimit()
        self._ctx = ctx
        self._publisher = publisher
        self._state_dir = state_dir
        self._chunk_lines = chunk_lines
        self._retry = retry
        self.report: BatchReport | None = None  # of the file imported last (or being imported)

    def checkpoint(self, layout: Layout, checksum: str) -> Checkpoint:
        return Checkpoint(self._state_dir / "batch" / f"{layout.name}-{checksum}.json")

    async def import_file(self, path: Path, layout: Layout) -> BatchReport:
        """Publish the lines of ``path`` not published yet; ``report.already_imported`` when this layout imported the
        whole file before. Raises ``LayoutError`` when ``layout`` does not describe the file (a column missing from
        its header; CLI exit 2; a file with no header line at all is ``report.no_header``, a failed export: CLI
        exit 3), also for a file imported before: a changed layout is never answered "already
        imported" (tester17 N7), and for a line with a byte not valid in the layout's encoding (``decoded``).
        ``Unavailable`` once ``retry`` gives up (``report`` says what was published). A snapshot layout's file is
        "already imported" only when it is the last snapshot the layout imported: an earlier one come back is read
        again as the whole list (``report.gone.read_again``; ``adapters.legacy.snapshot``), and one older (by its
        modification time) than the latest is not imported at all (``report.gone.older_than``). A snapshot whose
        closures are refused (empty, or beyond ``close_limit``: ``report.gone.refused``) publishes its lines but is
        neither the latest nor remembered as imported: imported again, it is read again (its lines duplicates).
        A file of which every line read was rejected and none published, in this run and the runs it resumes, is not
        remembered as imported (``report.not_remembered``): its checkpoint is removed, so the same file imported again
        once the layout is fixed is read in full, and nothing is published twice since nothing was (tester24 F15)."""
        checksum = file_checksum(path)
        report = self.report = BatchReport(checksum)
        checkpoint = self.checkpoint(layout, checksum)
        with open(path, "rb") as handle:
            try:
                columns = header_columns(handle, layout)
            except NoHeaderLine:  # a failed export, not a wrong layout: nothing read, nothing remembered
                report.no_header = True
                log.warning("a file without its header line: not imported (a failed export?)", file=path.name,
                            layout=layout.name)
                return report
            saved = checkpoint.load() or {}
            with (closing(RevisionStore(self._state_dir / "batch" / REVISIONS_FILE)) as revisions,
                  closing(SnapshotLines(self._state_dir / "batch" / SNAPSHOTS_FILE)) as listed,
                  closing(HolderLines(self._state_dir / "batch" / HOLDERS_FILE)) as holders):
                last = listed.latest(layout.name) if layout.snapshot else None
                modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)  # the undated records' time
                # a snapshot's export time, newest wins: as its records are stamped, never ahead of our clock (a file
                # dated tomorrow, remembered as latest, refused every export until then as older)
                taken_at = export_time(modified, {}, self._ctx) if layout.snapshot else None  # this file's own
                latest_at = last.taken_at if last is not None else None
                if latest_at is not None and ahead_of_clock(latest_at, self._ctx):  # remembered before that rule
                    log.warning("the latest snapshot remembered is dated ahead of our clock: not compared",
                                layout=layout.name, latest=latest_at.isoformat())
                    latest_at = None
                if latest_at and taken_at and last and last.checksum != checksum and taken_at < latest_at:
                    report.gone.older_than = latest_at  # a late earlier night: its list is no news (tester35 F2)
                    log.warning("a snapshot older than the last one imported: not imported", file=path.name,
                                layout=layout.name, taken_at=taken_at.isoformat(), latest=latest_at.isoformat())
                    return report
                if saved.get("complete"):
                    if not layout.snapshot or (last is not None and last.checksum == checksum):
                        report.already_imported = True
                        report.imported_to = self._target
                        report.imported_at = _completed_at(saved, checkpoint.path)
                        report.rejected_then = int(saved.get("rejected", 0))
                        return report
                    # an earlier snapshot come back is tonight's whole list: read again in full (tester34 F5)
                    report.gone.read_again, saved = True, {}
                exported = export_time(modified, saved, self._ctx)  # one instant for the file's undated records
                source = _FileImport(self, path, layout, handle, checkpoint, report, columns, revisions, listed,
                                     holders, exported)
                source.seek(saved)
                listed_before = listed.count(layout.name) if layout.snapshot else 0
                await drain(source, self._publisher, retry=self._retry)
                if taken_at is not None:  # a snapshot layout's file
                    closures = GoneClosures(layout.name, source.occurred_default, self._ctx, revisions, listed,
                                            path.name, undated=layout.occurred_at is None)
                    await closures.close(report.gone, checksum, source.tally["rejected"], self._publisher, self._retry,
                                         limit=self._close_limit, listed_before=listed_before)
                    if not report.gone.refused and (source.tally["accepted"] or not source.tally["rejected"]):
                        listed.imported(layout.name, checksum, exported)
        if report.gone.refused:  # its closures wait for the file imported again (once checked) or the next one
            checkpoint.path.unlink(missing_ok=True)
            return report
        if source.tally["rejected"] and not source.tally["accepted"]:
            checkpoint.path.unlink(missing_ok=True)
            report.not_remembered = True
            return report
        checkpoint.save({"file": path.name, "offset": path.stat().st_size, "line": source.number, "complete": True,
                         EXPORTED_AT: source.occurred_default.isoformat(),
                         "completed_at": datetime.now(UTC).isoformat(timespec="seconds"), **source.tally,
                         **(self._target.to_dict() if self._target else {})})
        return report


def _completed_at(saved: dict[str, Any], path: Path) -> datetime:
    """When the import a complete checkpoint records ended: ``completed_at``, or for a checkpoint of an earlier version
    (none recorded) the time the checkpoint was written last, which was then."""
    if "completed_at" in saved:
        return datetime.fromisoformat(saved["completed_at"])
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)


class _FileImport(ResumableSource[tuple[int, int]]):
    """One file being imported: the position is (byte offset, number of the last line read)."""

    def __init__(
        self, importer: BatchImporter, path: Path, layout: Layout, handle: BinaryIO, checkpoint: Checkpoint,
        report: BatchReport, columns: dict[str, int], revisions: RevisionStore, listed: SnapshotLines,
        holders: HolderLines | None = None, exported: datetime | None = None,
    ) -> None:
        self._importer, self._path, self._layout, self._handle = importer, path, layout, handle
        self._checkpoint, self._report = checkpoint, report
        # the file's records without a time of their own: ``batch_lines.export_time``
        self.occurred_default = exported or datetime.fromtimestamp(path.stat().st_mtime, UTC)
        self._listed, self._holders = listed, holders
        self._named: dict[int, tuple[str, str]] = {}  # line number -> (key, holder) (``current_holder``'s lines)
        self._accounts: dict[int, str] = {}  # line number -> its account number as spelled (a snapshot's lines)
        self._reopened: set[int] = set()  # lines of this chunk whose key's last revision was a snapshot's closure
        self._columns = columns
        self._left_out: dict[int, dict[str, str]] = {}  # line number -> traits left out (key -> reason), this chunk
        self._revisions = revisions
        # this chunk's lines of a keyed layout (a chunk tried again maps its lines again: the same revisions), and
        # the latest revision per key among them (a key twice in one chunk: the second line follows the first)
        self._lines: dict[int, LineRevision] = {}
        self._latest: dict[str, LineRevision] = {}
        self.number = 1 if layout.header else 0  # lines read so far (``header_columns`` read the header)
        # lines accepted (published or duplicates) and rejected so far, with the runs this one resumes
        self.tally = {"accepted": 0, "rejected": 0}

    def seek(self, saved: dict[str, Any]) -> None:
        """Go to the saved position, or past the banner lines after the header."""
        layout, handle = self._layout, self._handle
        if saved:
            handle.seek(int(saved["offset"]))
            self.number = int(saved["line"])
            # a checkpoint of an earlier version counts nothing: taken as accepted, the file is remembered as before
            self.tally = {"accepted": int(saved.get("accepted", 1)), "rejected": int(saved.get("rejected", 0))}
        else:
            for _ in range(layout.skip_lines):
                handle.readline()
                self.number += 1

    async def next_batch(self) -> Batch[tuple[int, int]] | None:
        layout, handle = self._layout, self._handle
        items: list[Item] = []
        pending, start, read_any = b"", self.number + 1, False
        while len(items) < self._importer._chunk_lines:
            line = handle.readline()
            if not line:
                break
            read_any = True
            self.number += 1
            pending += line
            if layout.format == "csv" and pending.count(layout.quotechar.encode()) % 2:
                continue  # a quoted field spans lines
            text = decoded(pending, layout.encoding, start).rstrip("\r\n")
            if not layout.skips(text):
                headers: tuple[tuple[str, bytes], ...] = (
                    ("file", self._path.name.encode()), ("file.line", str(start).encode()),
                    ("layout", layout.name.encode()),
                )
                items.append(Item((start, text), RawRecord(value=pending.rstrip(b"\r\n"), headers=headers)))
            pending, start = b"", self.number + 1
        if pending.strip():  # only at the end of the file: a record cut inside a quoted field
            headers = (("file", self._path.name.encode()), ("file.line", str(start).encode()))
            items.append(Item((start, ""), RawRecord(value=pending, headers=headers), RejectedInput(
                "the file ends inside a quoted field", code="truncated")))
        if not read_any:
            return None
        return Batch(items, (handle.tell(), self.number))

    def to_record(self, index: int, native: Any) -> MappedRecord | None:
        number, text = native
        layout = self._layout
        left_out: dict[str, str] = {}
        fields = layout.parse(text, self._columns, left_out)
        self._left_out[number] = left_out
        dedupe_id = line_id(layout, fields, self._report.checksum, number, self._importer._ctx.normaliser)
        revision = self._revision(number, dedupe_id, fields) if layout.key else None
        if revision is not None:
            dedupe_id = revision.revision.line_id
        occurred = line_time(fields, layout)
        record = BusinessRecord(layout.event, fields, dedupe_id, occurred or self.occurred_default,
                                undated=occurred is None)
        mapped = map_business(record, self._importer._ctx)
        if revision is not None:
            self._lines[number] = self._latest[revision.key] = revision
            holders = self._holders if layout.current_holder else None
            holder = holder_of(mapped) if holders is not None else None
            if holders is not None and holder is not None:  # a tenant change (adapters.legacy.tenant_change)
                self._named[number] = (revision.key, holder)
                previous = holders.previous(layout.name, revision.key, self._report.checksum)
                mapped = with_closure(mapped, fields["account_number"], holder, previous, occurred,
                                      self._importer._ctx)
        if layout.snapshot:
            self._accounts[number] = key_spelling("account_number", fields["account_number"],
                                                  self._importer._ctx.normaliser)
        return mapped

    def _revision(self, number: int, key: str, fields: dict[str, Any]) -> LineRevision:
        """Line ``number``'s revision of ``key``; ``RejectedInput`` (``changed_line``) for a changed line of a layout
        that dead-letters them (``on_change``)."""
        revision = self._lines.get(number)
        if revision is None:
            last = self._latest.get(key)
            # a key an earlier version published under its written id keeps that revision: the same content is a
            # duplicate the dedupe store knows, other content chains from it to an id of the new form
            # identifiers compared as spelled, so a re-spelled IBAN is no change; as written, by an earlier version
            spelled = content_digest(spelled_fields(fields, self._importer._ctx.normaliser))
            earlier = last.revision if last else (
                self._revisions.latest(key) or self._revisions.latest(written_line_id(self._layout, fields)))
            revision = next_revision(key, spelled, earlier, same=(content_digest(fields),))
            if earlier is not None and earlier.digest == GONE_DIGEST:
                self._reopened.add(number)
        if revision.changed and self._layout.on_change == "dead-letter":
            log.warning("a line's key was published before with other content: dead-lettered (on_change)",
                        file=self._path.name, line=number, layout=self._layout.name)
            raise RejectedInput("the line's key was published before with other content (the layout's on_change "
                                "is dead-letter)", code="changed_line")
        return revision

    def describe(self, batch: Batch[tuple[int, int]], index: int, error: RejectedInput) -> RejectedInput:
        number = batch.items[index].native[0]
        return RejectedInput(f"{self._path.name} line {number}: {error.reason}", code=error.code)

    async def commit(self, batch: Batch[tuple[int, int]], outcome: ChunkOutcome) -> None:
        offset, number = batch.position
        self.tally["accepted"] += len(outcome.accepted)
        self.tally["rejected"] += len(outcome.refused)
        self._checkpoint.save({"file": self._path.name, "offset": offset, "line": number, "complete": False,
                               EXPORTED_AT: self.occurred_default.isoformat(), **self.tally})
        report = self._report
        report.lines += len(batch.items)
        report.published_events += outcome.published_events
        report.duplicates += outcome.duplicates
        self._note_revisions(batch, outcome)
        for index, error in outcome.refused:
            report.rejected[batch.items[index].native[0]] = error.reason
        # counted once the line's events were acknowledged
        report.statuses.add(outcome.accepted, lambda index: batch.items[index].native[0])
        for trait in count_dropped(report.dropped, report.traits, outcome.accepted,
                                   lambda index: batch.items[index].native[0], self._left_out):
            REJECTED_TRAITS.labels(COMPONENT, trait, INVALID).inc()
        self._left_out.clear()

    def _note_revisions(self, batch: Batch[tuple[int, int]], outcome: ChunkOutcome) -> None:
        """Make the accepted lines' revisions their keys' latest; count the changed lines published now."""
        published = set(outcome.result.published_ids) if outcome.result else set()
        accepted, listed = [], []
        for index, record in outcome.accepted:
            number = batch.items[index].native[0]
            revision = self._lines.get(number)
            if revision is None:
                continue
            accepted.append(revision)
            if number in self._accounts:
                listed.append((revision.key, self._accounts[number]))
            if revision.changed and record.dedupe_id in published:
                if number in self._reopened:  # listed again after a snapshot closed it
                    self._report.gone.reopened += 1
                else:
                    self._report.changed += 1
                CHANGED.labels(adapter=self._importer._publisher.name).inc()
        self._revisions.save(accepted)
        if self._holders is not None:
            self._holders.save(self._layout.name, self._report.checksum,
                               [self._named[batch.items[index].native[0]] for index, _ in outcome.accepted
                                if batch.items[index].native[0] in self._named])
        self._named.clear()
        if self._layout.snapshot:
            self._listed.mark(self._layout.name, self._report.checksum, listed)
        self._accounts.clear()
        self._reopened.clear()
        self._lines.clear()
        self._latest.clear()
