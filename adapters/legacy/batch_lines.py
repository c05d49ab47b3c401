"""One line of a nightly export file (``adapters.legacy.ingress_batch``): its header's columns, its records, its text
in the layout's encoding, its id, and its own time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, BinaryIO

from adapters.base import clock
from adapters.base.csv_lines import closing_lines, quote_open
from adapters.base.errors import RejectedInput
from adapters.legacy.errors import LayoutError
from adapters.legacy.keys import key_parts
from adapters.legacy.layout import Layout
from adapters.legacy.line_fields import whole_record
from adapters.legacy.mapper import LegacyContext
from bus.envelope import key_digest
from bus.identifiers import IdentifierNormaliser


def header_columns(handle: BinaryIO, layout: Layout) -> dict[str, int]:
    """Column name -> index from the header line ``handle`` is at (read past it), or ``{}`` for a layout without
    one. Raises ``LayoutError`` when a column the layout names is missing (``Layout.columns_from``)."""
    if not layout.header:
        return {}
    first = handle.readline()
    return layout.columns_from(decoded(first, header_encoding(layout.encoding), 1).rstrip("\r\n"))


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One record of an export file: ``line``, the number of its first line; ``raw``, its bytes as read, line end
    included (a CSV record whose quoted field spans lines holds all of them); ``text``, those bytes decoded without
    the line end, or None for a line cut inside a quoted field (``adapters.base.csv_lines``: refused alone);
    ``last``, the number of its last line (the lines read so far)."""

    line: int
    raw: bytes
    text: str | None
    last: int


def file_records(handle: BinaryIO, layout: Layout, number: int, columns: dict[str, int]) -> Iterator[FileRecord]:
    """The records of the file from where ``handle`` is, ``number`` lines read before it; ``columns``: the header's
    (``header_columns``). One line each, except a CSV record whose quoted field spans lines (RFC 4180): a line left
    inside a quoted field (an odd count of the layout's ``quotechar``) is joined to the next lines until the quote
    closes, unless a next line is on its own a whole record of the layout (``line_fields.whole_record``) or the file
    ends first: then the line was cut mid-write, is yielded alone with ``text`` None, and the lines after it are read
    again as records of their own, so none is swallowed by it. Reads no line beyond the record it yields, so
    ``handle.tell()`` is the position after it. The one reader of ``import-batch`` (``batch_file.FileImport``) and
    ``check-layout`` (``layout_check``). Raises ``LayoutError`` for a record not valid in the layout's encoding
    (``decoded``)."""
    quote = layout.quotechar.encode()
    while line := handle.readline():
        number += 1
        if layout.format != "csv" or not quote_open(line, quote):
            yield FileRecord(number, line, decoded(line, layout.encoding, number).rstrip("\r\n"), number)
            continue
        start, after_first = number, handle.tell()
        joined = _joined(handle, layout, line, columns)
        if joined is None:
            handle.seek(after_first)  # the line was cut: the lines after it are read again, on their own
            yield FileRecord(start, line, None, start)
            continue
        number = start + joined.count(b"\n") - 1 + (not joined.endswith(b"\n"))
        yield FileRecord(start, joined, decoded(joined, layout.encoding, start).rstrip("\r\n"), number)


def _joined(handle: BinaryIO, layout: Layout, line: bytes, columns: dict[str, int]) -> bytes | None:
    """``line`` (left inside a quoted field) and the next lines up to the one that closes the field, when together
    they are a whole record of the layout (``line_fields.whole_record``: RFC 4180 quoting, its field count); None
    when the file ends first, a next line is a whole record on its own, or the joined lines are no record."""
    return closing_lines(line, iter(handle.readline, b""),
                         lambda raw: whole_record(layout, raw.decode(layout.encoding, "replace"), columns),
                         layout.quotechar.encode()).raw


def decoded(raw: bytes, encoding: str, number: int) -> str:
    """Line ``number`` of a file (its bytes ``raw``) read in the layout's ``encoding``. Raises ``LayoutError`` (exit 2)
    for a byte not valid in it, naming the line, the byte and the fix: a Latin-1 export read as UTF-8 published its
    names with U+FFFD for every accent, for good. Read before its chunk is published, so the lines
    before it are published and a run with the encoding corrected resumes at its chunk."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = raw[exc.start:exc.start + 1].hex().upper()
        raise LayoutError(
            f"line {number} is not {encoding}: byte 0x{bad} at byte {exc.start + 1} of the line; set the layout's "
            "encoding to the file's (e.g. `encoding: latin-1`) and import it again") from None


def line_id(layout: Layout, fields: dict[str, Any], checksum: str, number: int,
            normaliser: IdentifierNormaliser) -> str:
    """The id of line ``number`` of the file ``checksum``: without a ``key``,
    ``batch:<layout>:<checksum 32 hex>:<line>``; with one, ``batch:<layout>:key-<32 hex>``, a digest of the key's
    columns each spelled as ``bus.identifiers`` normalises it (``adapters.legacy.keys``: a re-spelled IBAN is the same
    key; no identifier value in an id). Raises ``RejectedInput`` (``missing_field``) for a key column without a
    value."""
    if not layout.key:
        return f"batch:{layout.name}:{checksum[:32]}:{number}"
    for name in layout.key:
        if fields.get(name) in (None, ""):
            raise RejectedInput(f"required field {name} is missing (it is part of the key)", code="missing_field")
    return f"batch:{layout.name}:{key_digest(layout.name, key_parts(layout.key, fields, normaliser))}"


def written_line_id(layout: Layout, fields: dict[str, Any]) -> str:
    """The id an earlier version gave a keyed line: its key's columns as written, ``batch:<layout>:<a>|<b>``. Looked up
    in the revisions only (``batch_file.FileImport._revision``), so a file imported before the upgrade is a
    duplicate after it; never published again."""
    return f"batch:{layout.name}:{'|'.join(str(fields[name]) for name in layout.key)}"


def line_time(fields: dict[str, Any], layout: Layout) -> datetime | None:
    """The line's own time (its ``occurred_at`` field: a time the layout's ``timezone`` already placed, else a naive
    time read as UTC, a date at midnight UTC), or None: a layout without ``occurred_at``, or a blank one (the caller
    stamps the file's modification time and marks the event undated)."""
    value = fields.get(layout.occurred_at) if layout.occurred_at else None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def header_encoding(encoding: str) -> str:
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


EXPORTED_AT = "exported_at"  # the checkpoint's field: the instant every record of the file is stamped with


def export_time(modified: datetime, saved: dict[str, Any], ctx: LegacyContext) -> datetime:
    """The instant (UTC) a file's records that carry no time of their own are stamped with (an undated line, a
    snapshot's closure): the file's modification time ``modified``, moved back once for the whole file when it lies
    ahead of the importer's clock beyond ``ctx.future_tolerance_s`` (``adapters.base.clock.future_skew``), or the one
    the checkpoint ``saved`` of an interrupted run of the file recorded (``EXPORTED_AT``). One instant for the file:
    moved back record by record, each got its own mapping instant, and a snapshot's closures, mapped after its lines,
    came after the new subscriber's line of the same number, which then took nothing (``processors/identity/graph/
    recycle.py``'s one-export rule)."""
    if saved.get(EXPORTED_AT):
        return datetime.fromisoformat(saved[EXPORTED_AT])
    skew = clock.future_skew(modified, datetime.now(UTC), tolerance_s=ctx.future_tolerance_s,
                             source_system=ctx.source_system)
    return skew.apply(modified) or modified


def ahead_of_clock(at: datetime, ctx: LegacyContext) -> bool:
    """Whether ``at`` lies ahead of the importer's clock beyond ``ctx.future_tolerance_s`` (``export_time`` moves such a
    file time back): a snapshot's time remembered so before that rule is not compared with (it refused every export
    dated before it as older)."""
    return (at - datetime.now(UTC)).total_seconds() > ctx.future_tolerance_s
