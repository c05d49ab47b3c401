"""Importing nightly export files (CSV or fixed-width, described by a ``layout.Layout``).

Resumable: after each chunk of lines Kafka acknowledged, a checkpoint (byte offset, line number) is
saved for this exact file (its SHA-256 names the checkpoint). After a crash the import resumes at the
first unacknowledged chunk; re-read lines are dropped by the dedupe store. A file already imported in
full is recognised by its checksum and not read again; a copy under another name, or the same facts in
a later file when the layout declares a business ``key``, are duplicates the dedupe store drops.
A line that cannot become an event is dead-lettered with its file and line number, and the import
goes on.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from adapters.base.checkpoint import Checkpoint
from adapters.base.errors import RejectedInput
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from adapters.legacy.layout import Layout
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from bus.errors import RawRecord
from bus.logging import get_logger

log = get_logger(__name__)


@dataclass
class BatchReport:
    checksum: str
    lines: int = 0
    published_events: int = 0
    duplicates: int = 0
    rejected: dict[int, str] = field(default_factory=dict)  # line number -> reason
    already_imported: bool = False


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based, in the file
    text: str
    raw: bytes


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class BatchImporter:
    def __init__(
        self, ctx: LegacyContext, publisher: AdapterPublisher, state_dir: Path, *, chunk_lines: int = 500
    ) -> None:
        self._ctx = ctx
        self._publisher = publisher
        self._state_dir = state_dir
        self._chunk_lines = chunk_lines

    def checkpoint(self, layout: Layout, checksum: str) -> Checkpoint:
        return Checkpoint(self._state_dir / "batch" / f"{layout.name}-{checksum}.json")

    async def import_file(self, path: Path, layout: Layout) -> BatchReport:
        checksum = file_checksum(path)
        report = BatchReport(checksum)
        checkpoint = self.checkpoint(layout, checksum)
        saved = checkpoint.load() or {}
        if saved.get("complete"):
            report.already_imported = True
            return report
        occurred_default = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        with open(path, "rb") as handle:
            columns: dict[str, int] = {}
            number = 0
            if layout.header:
                first = handle.readline()
                number = 1
                columns = layout.columns_from(first.decode(_header_encoding(layout.encoding)).rstrip("\r\n"))
            if saved:
                handle.seek(int(saved["offset"]))
                number = int(saved["line"])
            else:
                for _ in range(layout.skip_lines):
                    handle.readline()
                    number += 1
            chunk: list[_Line] = []
            pending, start = b"", number + 1
            while line := handle.readline():
                number += 1
                pending += line
                if layout.format == "csv" and pending.count(layout.quotechar.encode()) % 2:
                    continue  # a quoted field spans lines
                text = pending.decode(layout.encoding, errors="replace").rstrip("\r\n")
                if not layout.skips(text):
                    chunk.append(_Line(start, text, pending.rstrip(b"\r\n")))
                pending, start = b"", number + 1
                if len(chunk) >= self._chunk_lines:
                    await self._publish(chunk, layout, columns, checksum, occurred_default, path, report)
                    checkpoint.save({"file": path.name, "offset": handle.tell(), "line": number, "complete": False})
                    chunk = []
            if pending.strip():
                raise RejectedInput(f"{path.name}: the file ends inside a quoted field (line {start})",
                                    code="truncated")
            if chunk:
                await self._publish(chunk, layout, columns, checksum, occurred_default, path, report)
        checkpoint.save({"file": path.name, "offset": path.stat().st_size, "line": number, "complete": True})
        return report

    async def _publish(
        self, chunk: list[_Line], layout: Layout, columns: dict[str, int], checksum: str,
        occurred_default: datetime, path: Path, report: BatchReport,
    ) -> None:
        started = time.perf_counter()
        good: list[MappedRecord] = []
        bad: list[tuple[_Line, RejectedInput]] = []
        for line in chunk:
            try:
                fields = layout.parse(line.text, columns)
                record = BusinessRecord(layout.event, fields, line_id(layout, fields, checksum, line.number),
                                        _occurred(fields, layout, occurred_default))
                good.append(map_business(record, self._ctx))
            except RejectedInput as error:
                bad.append((line, RejectedInput(f"{path.name} line {line.number}: {error.reason}", code=error.code)))
        if good:
            result = await self._publisher.submit(good, received_at=started)
            report.published_events += result.published_events
            report.duplicates += result.duplicate_records
        for line, error in bad:
            headers = (("file", path.name.encode()), ("file.line", str(line.number).encode()),
                       ("layout", layout.name.encode()))
            await self._publisher.reject(RawRecord(value=line.raw, headers=headers), error)
            report.rejected[line.number] = error.reason
        report.lines += len(chunk)


def line_id(layout: Layout, fields: dict[str, Any], checksum: str, number: int) -> str:
    if not layout.key:
        return f"batch:{layout.name}:{checksum[:32]}:{number}"
    parts = []
    for name in layout.key:
        if fields.get(name) in (None, ""):
            raise RejectedInput(f"required field {name} is missing (it is part of the key)", code="missing_field")
        parts.append(str(fields[name]))
    return f"batch:{layout.name}:{'|'.join(parts)}"


def _occurred(fields: dict[str, Any], layout: Layout, default: datetime) -> datetime:
    value = fields.get(layout.occurred_at) if layout.occurred_at else None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return default


def _header_encoding(encoding: str) -> str:
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
