"""Importing (and following) an Asterisk ``Master.csv`` file, for servers that cannot POST their CDRs.

The reader keeps a checkpoint (byte offset, inode) that advances only after Kafka acknowledged every
line before it, so a crash resumes at the first unacknowledged chunk; re-read lines are duplicates the
dedupe store drops. Only complete lines are read (cdr_csv appends a line at a time, and a quoted field
may span lines). A rotated or truncated file (new inode, or shorter than the offset) is read from the
start. A line that is not a CDR is dead-lettered with its file and byte offset, and reading goes on.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path

from adapters.base.checkpoint import Checkpoint
from adapters.base.errors import RejectedInput
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from adapters.call_center import mapper_asterisk
from adapters.call_center.mapper import MapContext
from bus.errors import RawRecord
from bus.logging import get_logger

log = get_logger(__name__)


@dataclass
class ImportReport:
    lines: int = 0
    published_events: int = 0
    duplicates: int = 0
    rejected: int = 0


class CdrFileReader:
    def __init__(
        self, path: Path, ctx: MapContext, publisher: AdapterPublisher, checkpoint: Checkpoint,
        *, chunk_lines: int = 500,
    ) -> None:
        self._path = path
        self._ctx = ctx
        self._publisher = publisher
        self._checkpoint = checkpoint
        self._chunk_lines = chunk_lines

    def _start_offset(self) -> int:
        saved = self._checkpoint.load() or {}
        stat = self._path.stat()
        if saved.get("inode") != stat.st_ino or int(saved.get("offset", 0)) > stat.st_size:
            return 0  # a new or truncated file
        return int(saved.get("offset", 0))

    async def read_available(self) -> ImportReport:
        """Publish every complete record from the checkpoint to the end of the file as it is now."""
        report = ImportReport()
        offset = self._start_offset()
        inode = self._path.stat().st_ino
        with open(self._path, "rb") as handle:
            handle.seek(offset)
            chunk: list[tuple[int, bytes]] = []  # (byte offset of the record, record bytes)
            pending, position = b"", offset
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # a line still being written
                pending += line
                position += len(line)
                if pending.count(b'"') % 2:
                    continue  # a quoted field spans lines
                if pending.strip():
                    chunk.append((position - len(pending), pending.rstrip(b"\r\n")))
                pending = b""
                if len(chunk) >= self._chunk_lines:
                    await self._publish(chunk, report)
                    self._checkpoint.save({"path": str(self._path), "inode": inode, "offset": position})
                    chunk = []
            if chunk:
                await self._publish(chunk, report)
            consumed = position - len(pending)
            self._checkpoint.save({"path": str(self._path), "inode": inode, "offset": consumed})
        return report

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

    async def _publish(self, chunk: list[tuple[int, bytes]], report: ImportReport) -> None:
        started = time.perf_counter()
        records: list[MappedRecord] = []
        refused: list[tuple[int, bytes, RejectedInput]] = []
        for start, raw in chunk:
            try:
                records.append(mapper_asterisk.map_cdr(raw.decode("utf-8", errors="replace"), self._ctx))
            except RejectedInput as error:
                refused.append((start, raw, error))
        if records:
            result = await self._publisher.submit(records, received_at=started)
            report.published_events += result.published_events
            report.duplicates += result.duplicate_records
        for start, raw, error in refused:
            headers = (("file", str(self._path).encode()), ("file.offset", str(start).encode()))
            await self._publisher.reject(RawRecord(value=raw, headers=headers), error)
            log.warning("refused a CDR line", file=self._path.name, offset=start, reason=error.reason)
        report.lines += len(chunk)
        report.rejected += len(refused)


def checkpoint_for(path: Path, state_dir: Path) -> Checkpoint:
    """The checkpoint file of ``path`` (one per absolute path) under ``state_dir``."""
    name = str(path.resolve()).strip(os.sep).replace(os.sep, "__")
    return Checkpoint(state_dir / f"{name}.checkpoint.json")
