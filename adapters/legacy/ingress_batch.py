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
The loop is ``adapters.base.resumable``; ``batch_file`` says what a line and a position are, ``batch_report``
what an import did.
"""

from __future__ import annotations

import hashlib
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.base.checkpoint import Checkpoint
from adapters.base.import_target import ImportTarget
from adapters.base.publisher import AdapterPublisher
from adapters.base.resumable import drain
from adapters.legacy.batch_file import FileImport
from adapters.legacy.batch_lines import EXPORTED_AT, ahead_of_clock, export_time, header_columns
from adapters.legacy.batch_report import BatchReport
from adapters.legacy.errors import NoHeaderLine
from adapters.legacy.layout import Layout
from adapters.legacy.mapper import LegacyContext
from adapters.legacy.revisions import REVISIONS_FILE, RevisionStore
from adapters.legacy.snapshot import SNAPSHOTS_FILE, CloseLimit, GoneClosures, SnapshotLines
from adapters.legacy.tenant_change import HOLDERS_FILE, HolderLines
from bus.logging import get_logger
from bus.publish_retry import Retry

__all__ = ["BatchImporter", "BatchReport", "file_checksum", "has_batch_state"]

log = get_logger(__name__)


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
        imported", and for a line with a byte not valid in the layout's encoding (``decoded``).
        ``Unavailable`` once ``retry`` gives up (``report`` says what was published). A snapshot layout's file is
        "already imported" only when it is the last snapshot the layout imported: an earlier one come back is read
        again as the whole list (``report.gone.read_again``; ``adapters.legacy.snapshot``), and one older (by its
        modification time) than the latest is not imported at all (``report.gone.older_than``). A snapshot whose
        closures are refused (empty, or beyond ``close_limit``: ``report.gone.refused``) publishes its lines but is
        neither the latest nor remembered as imported: imported again, it is read again (its lines duplicates).
        A file of which every line read was rejected and none published, in this run and the runs it resumes, is not
        remembered as imported (``report.not_remembered``): its checkpoint is removed, so the same file imported again
        once the layout is fixed is read in full, and nothing is published twice since nothing was."""
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
                    report.gone.older_than = latest_at  # a late earlier night: its list is no news
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
                    # an earlier snapshot come back is tonight's whole list: read again in full
                    report.gone.read_again, saved = True, {}
                exported = export_time(modified, saved, self._ctx)  # one instant for the file's undated records
                if exported < modified:  # said, not only counted: import-batch serves no metrics
                    log.warning("an export file dated ahead of our clock: its records without a time of their own take "
                                "the import's start (check the export host's clock)", file=path.name,
                                layout=layout.name, ahead_s=round((modified - exported).total_seconds()))
                source = FileImport(self._ctx, path, layout, handle, checkpoint, report, columns, revisions, listed,
                                    holders, exported, chunk_lines=self._chunk_lines, adapter=self._publisher.name)
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
