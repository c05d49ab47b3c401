"""One data line of an export file read with its layout (``adapters.legacy.layout``): the header's columns, and
the line's typed fields.

``columns_from`` maps a CSV header line to column positions (``LayoutError`` when one the layout names is missing);
``parse`` reads a data line's fields, each as its type (``layout_fields.typed``) and, for a time written without a
zone, in the field's or the layout's ``timezone`` (``adapters.legacy.wall_clock``); ``RejectedInput`` for a line cut
short or run on (code ``field_count``) or a malformed field.
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from adapters.base.csv_lines import quote_open
from adapters.base.errors import RejectedInput
from adapters.legacy.errors import LayoutError, NoHeaderLine
from adapters.legacy.layout_fields import FieldSpec, typed
from adapters.legacy.reads import event_reads
from adapters.legacy.wall_clock import day_start, local_instant
from bus.identifiers.traits import standard_key

if TYPE_CHECKING:
    from adapters.legacy.layout import Layout


def columns_from(layout: Layout, header_line: str) -> dict[str, int]:
    """Column name -> 0-based index of a CSV header line; ``NoHeaderLine`` for a blank line (an empty file),
    ``LayoutError`` for a column the layout names that it lacks."""
    names = next(csv.reader([header_line], delimiter=layout.delimiter, quotechar=layout.quotechar), [])
    positions = {name.strip(): index for index, name in enumerate(names)}
    wanted = {s.column for s in layout.fields.values() if isinstance(s.column, str)}
    if not header_line.strip():  # an empty file read "...; it has" and stopped
        raise NoHeaderLine("the file has no header line (it is empty, or its first line is blank: a failed "
                          f"export?); the layout names the columns {', '.join(map(repr, sorted(wanted)))}")
    if missing := sorted(wanted - set(positions)):
        raise LayoutError(f"the header line has no column {', '.join(map(repr, missing))} (named in the layout); "
                          f"it has {', '.join(map(repr, positions))}")
    return positions


def parse(layout: Layout, line: str, columns: dict[str, int],
          left_out: dict[str, str] | None = None) -> dict[str, Any]:
    """The typed fields of one data line; ``RejectedInput`` names the first bad one. A person's trait that does not
    read as its type (a birth date 31/02/1980) is left out instead, its standard key and reason put in
    ``left_out``: the line's event still flows, as the other adapters drop a bad trait."""
    cells = (next(csv.reader([line], delimiter=layout.delimiter, quotechar=layout.quotechar), [])
             if layout.format == "csv" else None)
    _check_length(layout, line, cells, columns)
    fields: dict[str, Any] = {}
    for name, spec in layout.fields.items():
        if spec.value is not None:
            raw: str | None = spec.value
        elif cells is not None:
            index = columns[spec.column] if isinstance(spec.column, str) else spec.column
            raw = cells[index] if index is not None and index < len(cells) else None
        elif spec.start is not None and spec.width is not None:  # fixed-width: both required at load
            raw = line[spec.start - 1: spec.start - 1 + spec.width]
        else:
            raw = None
        try:
            value = typed(raw.strip() if raw is not None else None, spec, name, layout.decimal_format(name))
            fields[name] = _in_zone(layout, name, spec, value)
        except RejectedInput as error:
            trait = standard_key(name)
            if trait is None or left_out is None:
                raise
            fields[name] = None
            left_out[trait] = error.reason
    return fields


def whole_record(layout: Layout, line: str, columns: dict[str, int]) -> bool:
    """Whether ``line`` (a CSV layout's record of one line or several, line end included or not) is a whole record of
    the layout: no quoted field left open, quoting as RFC 4180 has it (a closing quote followed by the delimiter or
    the end), and the field count ``parse`` accepts (``_check_length``). A line after one left inside a quoted field
    that is such a record is taken as the next record, not as the rest of the field (``batch_lines.file_records``)."""
    text = line.rstrip("\r\n")
    if quote_open(text.encode(), layout.quotechar.encode()):
        return False
    try:
        cells = next(csv.reader([text], delimiter=layout.delimiter, quotechar=layout.quotechar, strict=True), [])
        _check_length(layout, text, cells, columns)
    except (csv.Error, RejectedInput):
        return False
    return True


def _in_zone(layout: Layout, name: str, spec: FieldSpec, value: Any) -> Any:
    """``value`` as the instant it names in the field's or the layout's ``timezone`` (``wall_clock``): a
    timestamp written without a zone, and a date read as an instant (the ``occurred_at`` field, a field its event
    reads as a time); unchanged without a timezone (UTC, as before), or for a date that stays a day."""
    zone = spec.timezone or layout.timezone
    if zone is None or value is None:
        return value
    if spec.type == "timestamp":
        return local_instant(value, ZoneInfo(zone), name)
    if spec.type == "date" and (name == layout.occurred_at or event_reads(layout.event).kinds.get(name) == "moment"):
        return day_start(value, ZoneInfo(zone))
    return value


def _check_length(layout: Layout, line: str, cells: list[str] | None, columns: dict[str, int]) -> None:
    """Refuse a line cut short or run on (``RejectedInput``, code ``field_count``): an unquoted newline in an
    export splits one record into two half lines, which would otherwise be published with their missing fields
    empty. CSV with a header: a field count other than the header's; without one: fewer fields than
    the last column the layout reads; fixed-width: a line ending before the layout's last field does."""
    if cells is not None and columns:
        expected = max(columns.values()) + 1  # the header's field count (its last cell's index + 1)
        if len(cells) != expected:
            raise RejectedInput(f"the line has {len(cells)} fields, the header {expected}", code="field_count")
    elif cells is not None:
        read = [s.column for s in layout.fields.values() if isinstance(s.column, int)]
        if read and len(cells) <= max(read):
            raise RejectedInput(f"the line has {len(cells)} fields, the layout reads column {max(read)} "
                                "(0-based)", code="field_count")
    else:
        end = max((s.start + s.width - 1 for s in layout.fields.values()
                   if s.start is not None and s.width is not None), default=0)
        if len(line) < end:
            raise RejectedInput(f"the line has {len(line)} characters, the layout's last field ends at "
                                f"character {end}", code="field_count")
