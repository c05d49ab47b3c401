"""What a layout says of its lines for the clear copy of a refused one (``bus.dead_letter_lines.LineShape``): the file's
encoding, a CSV line's separator and quote character, and which column holds which identifier.

An identifier column is one the layout maps to a field that holds one identifier (``mapper.IDENTIFIER_FIELD_KINDS``:
``customer_id`` a CUSTOMER_NUMBER, ``mobile`` a PHONE, ``national_id``, ``iban``...): the dead letter shows its mask,
the other columns scrubbed as free text. Never part of what a line publishes, nor of its id.
"""

from __future__ import annotations

from adapters.legacy.layout import Layout
from adapters.legacy.mapper import IDENTIFIER_FIELD_KINDS
from bus.dead_letter_lines import LineShape


def line_shape(layout: Layout, columns: dict[str, int]) -> LineShape:
    """``layout``'s ``LineShape``; ``columns``: a CSV header's column name -> 0-based index (``header_columns``).
    A column two fields read is an identifier's when either field is one."""
    if layout.format == "fixed-width":
        spans = tuple((spec.start, spec.width, IDENTIFIER_FIELD_KINDS.get(name))
                      for name, spec in layout.fields.items() if spec.start is not None and spec.width is not None)
        return LineShape(encoding=layout.encoding, spans=spans)
    identifiers: dict[int, str] = {}
    for name, spec in layout.fields.items():
        index = columns.get(spec.column) if isinstance(spec.column, str) else spec.column
        kind = IDENTIFIER_FIELD_KINDS.get(name)
        if index is not None and kind is not None:
            identifiers.setdefault(index, kind)
    return LineShape(encoding=layout.encoding, delimiter=layout.delimiter, quotechar=layout.quotechar,
                     identifiers=identifiers)
