"""Importing (and following) an Asterisk ``Master.csv`` file, for servers that cannot POST their CDRs.

The reader keeps a checkpoint (byte offset, inode) that advances only after Kafka acknowledged every
line before it, so a crash resumes at the first unacknowledged chunk; re-read lines are duplicates the
dedupe store drops. Only complete lines are read (cdr_csv appends a record at a time), one record each, but a record
whose quoted field holds a line break (a ``userfield`` set with one: cdr_csv writes it inside the quotes), read whole
(``adapters.base.csv_lines.closing_lines``, as ``import-batch`` reads an export's); a line cut inside a quoted field is
dead-lettered alone (``unclosed quote``), never joined to the lines after it. A last line without its newline, and a
record still inside its quoted field at the end of the file (its field's line break written, not the rest yet), are
left unread (the checkpoint stays before them), by a one-shot import as while following: Asterisk may still be writing
them; the summary says so, and a later run reads the record whole once its end is there (or refuses a cut line alone
once a whole CDR follows it).
A file rotated since the last read (replaced by a new one, truncated, or truncated and written again past the offset:
``rotation``) is read from its start, the log and the summary saying so; CDRs read again are duplicates. Replaced
(logrotate ``create``), the rest of the file moved away (found beside it by its inode) is read first.
A line that is not a CDR is dead-lettered with its file, line number (and byte offset), the reason
prefixed ``Master.csv line 51:`` as ``import-batch`` does, and reading goes on.
The loop itself is ``adapters.base.resumable``; this module says what a position and a record are.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from adapters.base import csv_lines
from adapters.base.checkpoint import Checkpoint
from adapters.base.errors import RejectedInput
from adapters.base.identifiers import DroppedTally
from adapters.base.import_summary import add_published_kinds, duplicates_text, events_text, records_text
from adapters.base.ingest import ChunkOutcome, Item
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from adapters.base.resumable import Batch, ResumableSource, drain
from adapters.call_center import mapper_asterisk, rotation
from adapters.call_center.mapper import MapContext
from bus.errors import RawRecord
from bus.logging import get_logger
from bus.publish_retry import Retry

log = get_logger(__name__)


@dataclass
class ImportReport:
    lines: int = 0  # CDRs read (one whose quoted field holds a line break spans several lines)
    physical_lines: int = 0  # the lines those CDRs span (``lines`` when each is one line)
    published_events: int = 0
    event_kinds: Counter[str] = field(default_factory=Counter)  # the events published, by kind (``import_summary``)
    duplicates: int = 0
    rejected: int = 0
    dropped: DroppedTally = field(default_factory=DroppedTally)  # identifiers left off published CDRs (no line numbers)
    unended: int = 0  # the line number of a last line (or record) left unread for want of its end (0: none)
    unended_open: bool = False  # that record is still inside a quoted field (else: its last line has no newline)
    restarted: Counter[str] = field(default_factory=Counter)  # how often the file was read from its start, by cause
    moved_rest: list[str] = field(default_factory=list)  # files moved away whose rest was read first (``rotation``)
    moved_lost: int = 0  # times the file moved away was not found beside it: its rest (after the last read) unread

    def summary(self, name: str) -> str:
        """The line ``import-cdr`` prints for the file ``name``, as ``import-batch`` does: ``Master.csv: 3 lines,
        9 events published (3 A, 3 B, 3 C), 0 duplicates, 0 rejected[, 1 identifier dropped (PHONE 1 malformed)][,
        read from its start (truncated since the last read)][, 1 line not ended yet (line 4, no newline), left for
        the next run][, 1 record not ended yet (line 4, inside a quoted field), left for the next run]`` (the events'
        kinds when there are several, ``adapters.base.import_summary``; the causes of a read from the start:
        ``rotation``): a left line or record is neither counted nor rejected."""
        lines = self.physical_lines or self.lines
        text = f"{name}: {records_text(self.lines, lines)}, {events_text(self.published_events, self.event_kinds)}, " \
               f"{duplicates_text(self.duplicates, self.lines, lines)}, {self.rejected} rejected"
        dropped = self.dropped.summary()
        text = f"{text}, {dropped}" if dropped else text
        if self.restarted:
            causes = ", ".join(cause if times == 1 else f"{cause} {times} times"
                               for cause, times in self.restarted.items())
            text += f", read from its start ({causes} since the last read)"
        if self.moved_rest:
            text += f", the rest of the file moved away read first ({', '.join(dict.fromkeys(self.moved_rest))})"
        if self.moved_lost:
            text += (", the file moved away not found beside it: CDRs written to it after the last read are not "
                     "imported (import it by name)")
        if self.unended and self.unended_open:
            text += f", 1 record not ended yet (line {self.unended}, inside a quoted field), left for the next run"
        elif self.unended:
            text += f", 1 line not ended yet (line {self.unended}, no newline), left for the next run"
        return text


class CdrFileReader(ResumableSource[tuple[int, int]]):
    """A ``ResumableSource`` whose position is (byte offset, lines before it) in one file (and the file's inode)."""

    def __init__(
        self, path: Path, ctx: MapContext, publisher: AdapterPublisher, checkpoint: Checkpoint,
        *, chunk_lines: int = 500, retry: Retry | None = None,
    ) -> None:
        self._path = path
        self._ctx = ctx
        self._publisher = publisher
        self._checkpoint = checkpoint
        self._chunk_lines = chunk_lines
        self._handle: BinaryIO | None = None
        self._reading = path  # the file read now: ``path``, or the file a rotation moved it to (``rotation``)
        self._position = (0, 0)
        self._report = ImportReport()
        self._spans: dict[int, int] = {}  # first line number of a record read -> the lines it spans
        self._retry = retry  # how a chunk Kafka did not acknowledge is tried again (adapters.base.resumable.drain)

    def _start(self, handle: BinaryIO) -> tuple[int, int]:
        """The position to read ``handle`` from (``rotation.resume``); a file rotated since the last read is read
        from its start, said once in the log and in the summary, its checkpoint reset at once (a follow polling an
        emptied file says it once)."""
        where = rotation.resume(self._checkpoint.load(), handle)
        if where.restarted:
            self._report.restarted[where.restarted] += 1
            log.warning("the file was rotated since the last read: reading it from its start", file=self._path.name,
                        cause=where.restarted)
            self._save(handle, 0, 0)
        return where.offset, where.line

    def _save(self, handle: BinaryIO, offset: int, line: int) -> None:
        self._checkpoint.save({"path": str(self._path), "inode": os.fstat(handle.fileno()).st_ino, "offset": offset,
                               "line": line, "fingerprint": rotation.fingerprint(handle, offset)})

    @property
    def report(self) -> ImportReport:
        """What the current (or last) read published so far."""
        return self._report

    async def read_available(self) -> ImportReport:
        """Publish every complete record from the checkpoint to the end of the file as it is now.

        A last line without a newline, or a record still inside its quoted field at the end of the file, may still be
        being written by Asterisk: it is left for the next read (the checkpoint stays before it) and the report's
        ``unended`` names it (``unended_open``: the record's field is open), a one-shot import's as a follow's.
        """
        self._report = ImportReport()
        saved = self._checkpoint.load()
        if (moved := rotation.moved_away(saved, self._path)) is not None:
            await self._read_rest_of(moved, saved or {})
        elif saved and saved.get("inode") is not None and self._path.stat().st_ino != saved["inode"]:
            self._report.moved_lost += 1
            log.warning("the file was replaced and the one moved away is not beside it: CDRs written to it after the "
                        "last read are not imported; import it by name", file=self._path.name,
                        after_line=saved.get("line"))
        with open(self._path, "rb") as handle:
            self._position = self._start(handle)
            await self._drain(handle, self._path)
        return self._report

    async def _read_rest_of(self, moved: Path, saved: dict[str, Any]) -> None:
        """Publish the records of ``moved`` (this file moved away by a rotation) after the checkpoint ``saved``."""
        if moved.stat().st_size <= int(saved.get("offset", 0)):
            return  # read to its end before it moved: nothing of it waits
        log.warning("the file was replaced since the last read: reading the rest of the one moved away first",
                    file=self._path.name, moved_to=moved.name)
        self._report.moved_rest.append(moved.name)
        with open(moved, "rb") as handle:
            self._position = (int(saved.get("offset", 0)), int(saved.get("line", 0)))
            await self._drain(handle, moved)

    async def _drain(self, handle: BinaryIO, path: Path) -> None:
        self._handle, self._reading = handle, path
        try:
            await drain(self, self._publisher, retry=self._retry)
        finally:
            self._handle, self._reading = None, self._path

    async def follow(self, stop: asyncio.Event, poll_s: float = 1.0) -> ImportReport:
        """Keep reading as Asterisk appends, until ``stop`` is set. A poll that finds no file at the path (logrotate's
        ``create`` between its rename and its create) reads the rest of the file moved away and waits for the path to
        come back, as ``tail -F`` does."""
        total = ImportReport()
        waiting = False
        while not stop.is_set():
            try:
                report = await self.read_available()
            except FileNotFoundError:  # between a rotation's rename and its create: wait for the name, as tail -F
                report = self._report  # the rest of the file moved away, read before the path was missed
                if not waiting:
                    log.info("the file is not there (a rotation between its rename and its create?): waiting for it",
                             file=self._path.name)
            waiting = not self._path.exists()
            for name in ("lines", "physical_lines", "published_events", "duplicates", "rejected"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.event_kinds.update(report.event_kinds)
            total.restarted.update(report.restarted)
            total.moved_rest.extend(report.moved_rest)
            total.moved_lost += report.moved_lost
            total.unended = report.unended  # the last read's: a line (or record) still not ended when stopped
            total.unended_open = report.unended_open
            try:
                await asyncio.wait_for(stop.wait(), poll_s)
            except TimeoutError:
                pass
        return total

    async def next_batch(self) -> Batch[tuple[int, int]] | None:
        """Up to ``chunk_lines`` complete records after the position, one line each but a record whose quoted field
        holds a line break, read whole up to its closing quote (``adapters.base.csv_lines.closing_lines``); a line
        left inside a quoted field otherwise was cut mid-write and is refused alone; the lines after it are records of
        their own. A record still inside its field at the end of the file ends the batch, left for the next read."""
        assert self._handle is not None
        handle, (position, number) = self._handle, self._position
        handle.seek(position)
        items: list[Item] = []
        columns = self._ctx.settings.asterisk_columns
        while len(items) < self._chunk_lines:
            line = handle.readline()
            if not line.endswith(b"\n"):
                self._report.unended = number + 1 if line.strip() else 0  # blanks are no record to wait for
                self._report.unended_open = False
                break  # the end, or a line still being written: left for the next read
            spans, error = 1, None
            if csv_lines.quote_open(line):
                after_first = handle.tell()
                closing = csv_lines.closing_lines(line, iter(handle.readline, b""),
                                                  lambda raw: mapper_asterisk.whole_cdr(raw, columns), growing=True,
                                                  is_shaped=lambda raw: mapper_asterisk.cdr_shaped(raw, columns),
                                                  starts_record=mapper_asterisk.starts_cdr)
                if closing.waiting:  # its field is still open at the file's end: the record is left for the next read
                    self._report.unended, self._report.unended_open = number + 1, True
                    break
                if closing.raw is None:
                    error = csv_lines.unclosed_quote(closing.closed)
                    handle.seek(after_first)  # the line was cut: the lines after it are read again, on their own
                else:
                    line, spans = closing.raw, closing.lines
                    handle.seek(position + len(line))  # the lines looked at past the record are read again
            if line.strip():
                raw = line.rstrip(b"\r\n")
                headers = (("file", str(self._reading).encode()), ("file.line", str(number + 1).encode()),
                           ("file.offset", str(position).encode()))
                items.append(Item((number + 1, raw.decode("utf-8", errors="replace")),
                                  RawRecord(value=raw, headers=headers, line=mapper_asterisk.CDR_LINE), error))
                self._spans[number + 1] = spans
            position += len(line)
            number += spans
        if position == self._position[0]:
            return None
        return Batch(items, (position, number))

    def to_record(self, index: int, native: Any) -> MappedRecord | None:
        return mapper_asterisk.map_cdr(native[1], self._ctx)

    def describe(self, batch: Batch[tuple[int, int]], index: int, error: RejectedInput) -> RejectedInput:
        # the mapper's reasons name the format (``Master.csv: ...``, as a POSTed body's do); here the file is named
        reason = error.reason.removeprefix(f"{mapper_asterisk.SOURCE}: ")
        return RejectedInput(f"{self._reading.name} line {batch.items[index].native[0]}: {reason}", code=error.code)

    async def commit(self, batch: Batch[tuple[int, int]], outcome: ChunkOutcome) -> None:
        assert self._handle is not None
        self._save(self._handle, *batch.position)
        self._position = batch.position
        for index, error in outcome.refused:
            log.warning("refused a CDR line", file=self._reading.name, line=batch.items[index].native[0],
                        reason=error.reason)
        self._report.lines += len(batch.items)
        self._report.physical_lines += sum(self._spans.pop(item.native[0], 1) for item in batch.items)
        self._report.published_events += outcome.published_events
        add_published_kinds(self._report.event_kinds, outcome)
        self._report.duplicates += outcome.duplicates
        self._report.rejected += len(outcome.refused)
        self._report.dropped.add(outcome.published_now, lambda index: batch.items[index].native[0])


CHECKPOINT_SUFFIX = ".checkpoint.json"


def checkpoint_for(path: Path, state_dir: Path) -> Checkpoint:
    """The checkpoint file of ``path`` (one per absolute path) under ``state_dir`` (that of the Kafka cluster and
    topic prefix imported to: ``adapters.base.import_target``)."""
    name = str(path.resolve()).strip(os.sep).replace(os.sep, "__")
    return Checkpoint(state_dir / f"{name}{CHECKPOINT_SUFFIX}")


def has_checkpoints(state_dir: Path) -> bool:
    """Whether ``state_dir`` holds a file's checkpoint: at the top of the import state directory, the state of an
    earlier version, which recorded no cluster."""
    return state_dir.is_dir() and any(path.name.endswith(CHECKPOINT_SUFFIX) for path in state_dir.iterdir())
