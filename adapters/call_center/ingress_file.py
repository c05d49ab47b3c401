"""Importing (and following) an Asterisk ``Master.csv`` file, for servers that cannot POST their CDRs.

The reader keeps a checkpoint (byte offset, inode) that advances only after Kafka acknowledged every
line before it, so a crash resumes at the first unacknowledged chunk; re-read lines are duplicates the
dedupe store drops. Only complete lines are read (cdr_csv appends a line at a time, and a quoted field
may span lines). A rotated or truncated file (new inode, or shorter than the offset) is read from the
start. A line that is not a CDR is dead-lettered with its file and byte offset, and reading goes on.
The loop itself is ``adapters.base.resumable``; this module says what a position and a record are.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from adapters.base.checkpoint import Checkpoint
from adapters.base.identifiers import DroppedTally
from adapters.base.ingest import ChunkOutcome, Item
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from adapters.base.resumable import Batch, ResumableSource, drain
from adapters.call_center import mapper_asterisk
from adapters.call_center.mapper import MapContext
from bus.errors import RawRecord
from bus.logging import get_logger
from bus.publish_retry import Retry

log = get_logger(__name__)


@dataclass
class ImportReport:
    lines: int = 0
    published_events: int = 0
    duplicates: int = 0
    rejected: int = 0
    dropped: DroppedTally = field(default_factory=DroppedTally)  # identifiers left off published CDRs (no line numbers)

    def summary(self) -> str:
        """``3 lines, 9 events published, 0 duplicates, 0 rejected[, 1 identifier dropped (PHONE 1)]``."""
        text = f"{self.lines} lines, {self.published_events} events published, {self.duplicates} duplicates, " \
               f"{self.rejected} rejected"
        dropped = self.dropped.summary()
        return f"{text}, {dropped}" if dropped else text


class CdrFileReader(ResumableSource[int]):
    """A ``ResumableSource`` whose position is a byte offset in one file (and the file's inode)."""

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
        self._position = 0
        self._inode = 0
        self._to_end = False
        self._report = ImportReport()
        self._retry = retry  # how a chunk Kafka did not acknowledge is tried again (adapters.base.resumable.drain)

    def _start_offset(self) -> int:
        saved = self._checkpoint.load() or {}
        stat = self._path.stat()
        if saved.get("inode") != stat.st_ino or int(saved.get("offset", 0)) > stat.st_size:
            return 0  # a new or truncated file
        return int(saved.get("offset", 0))

    @property
    def report(self) -> ImportReport:
        """What the current (or last) read published so far."""
        return self._report

    async def read_available(self, *, to_end: bool = False) -> ImportReport:
        """Publish every complete record from the checkpoint to the end of the file as it is now.

        A last line without a newline is still being written by Asterisk and is left for the next
        read, unless ``to_end`` (a one-off import of a finished file): then it is a record too.
        """
        self._report, self._to_end = ImportReport(), to_end
        self._position, self._inode = self._start_offset(), self._path.stat().st_ino
        with open(self._path, "rb") as handle:
            self._handle = handle
            try:
                await drain(self, self._publisher, retry=self._retry)
            finally:
                self._handle = None
        return self._report

    async def follow(self, stop: asyncio.Event, poll_s: float = 1.0) -> ImportReport:
        """Keep reading as Asterisk appends, until ``stop`` is set."""
        total = ImportReport()
        while not stop.is_set():
            report = await self.read_available()
            for name in ("lines", "published_events", "duplicates", "rejected"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            try:
                await asyncio.wait_for(stop.wait(), poll_s)
            except TimeoutError:
                pass
        return total

    async def next_batch(self) -> Batch[int] | None:
        """Up to ``chunk_lines`` complete records after the position (a quoted field may span lines)."""
        assert self._handle is not None
        handle, position = self._handle, self._position
        handle.seek(position)
        items: list[Item] = []
        pending = b""
        while len(items) < self._chunk_lines:
            line = handle.readline()
            if not line or (not line.endswith(b"\n") and not self._to_end):
                break  # the end, or a line still being written
            pending += line
            if pending.count(b'"') % 2 and line.endswith(b"\n"):
                continue  # a quoted field spans lines
            if pending.strip():
                start = position
                raw = pending.rstrip(b"\r\n")
                headers = (("file", str(self._path).encode()), ("file.offset", str(start).encode()))
                items.append(Item(raw.decode("utf-8", errors="replace"), RawRecord(value=raw, headers=headers)))
            position += len(pending)
            pending = b""
        if position == self._position:
            return None
        return Batch(items, position)

    def to_record(self, index: int, native: Any) -> MappedRecord | None:
        return mapper_asterisk.map_cdr(native, self._ctx)

    async def commit(self, batch: Batch[int], outcome: ChunkOutcome) -> None:
        self._checkpoint.save({"path": str(self._path), "inode": self._inode, "offset": batch.position})
        self._position = batch.position
        for index, error in outcome.refused:
            offset = (dict(batch.items[index].dead_letter().headers)["file.offset"] or b"").decode()
            log.warning("refused a CDR line", file=self._path.name, offset=offset, reason=error.reason)
        self._report.lines += len(batch.items)
        self._report.published_events += outcome.published_events
        self._report.duplicates += outcome.duplicates
        self._report.rejected += len(outcome.refused)
        self._report.dropped.add(outcome.accepted, lambda index: None)  # a CDR file's position is a byte offset


def checkpoint_for(path: Path, state_dir: Path) -> Checkpoint:
    """The checkpoint file of ``path`` (one per absolute path) under ``state_dir``."""
    name = str(path.resolve()).strip(os.sep).replace(os.sep, "__")
    return Checkpoint(state_dir / f"{name}.checkpoint.json")
