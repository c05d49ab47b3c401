"""The clear copy of a refused line of a file import whose columns are known: readable text, its identifier columns
masked.

A file import (``adapters.legacy`` ``import-batch`` with a layout, CSV or fixed width; the call center's Asterisk
``Master.csv`` import) knows what each column of its lines holds. It gives each refused line's ``RawRecord`` a
``LineShape`` (``RawRecord.line``), and ``bus.dead_letter_clear.ClearCopy`` writes the line's clear copy by it
(``clear_line``) instead of scrubbing it whole as free text:

- the line is decoded in the file's encoding (a layout's ``encoding``: a Latin-1 export's ``cuenta nómina``), and the
  clear copy is UTF-8, so ``omnibus deadletters show`` prints it as text; a byte that is not valid in that encoding
  (a line cut inside a quoted field at the end of the file, a CDR written in another charset) is shown as its escape
  (``\\xf3``), the rest of the line read;
- a column the layout maps to an identifier (``LineShape.identifiers``: a customer number, a phone, an e-mail, an
  account, a supply point, a national ID, a card) shows its mask (``bus.identifiers.masking.mask``: ``C-5009`` as
  ``****5009``, ``*****3456``, ``m***@example.es``), a national ID or card number its token (``nid1:…``:
  ``SecretScrubber``) and ``[national id]`` / its mask when it is no valid one;
- every other column is scrubbed as free text, as the whole line was before (``bus.redact.free_text``: a number of
  seven digits or more becomes ``[digits]``, a date keeps its shape), after the national IDs and cards in it became
  their tokens;
- the line keeps its shape: a CSV line its separator, its columns in their order, each quoted as it was; a fixed-width
  line its columns where they were (a masked or scrubbed value padded with spaces to its column's width; a token or mask
  longer than its column pushes the rest of the line right).

The file's encoding is said in the dead letter's ``FILE_ENCODING_HEADER`` when the clear copy's bytes are not the
file's (an encoding other than UTF-8).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bus.identifiers.kinds import SECRET_TYPES
from bus.identifiers.masking import mask
from bus.issued_ids import ISSUED
from bus.redact import free_text

# On the dead letter of a file's line whose clear copy was decoded from another encoding than UTF-8: that encoding
# (``latin-1``), so the operator knows the bytes of the file differ from the copy's.
FILE_ENCODING_HEADER = "file.encoding"
_UTF8 = codecs.lookup("utf-8").name


@dataclass(frozen=True, slots=True)
class LineShape:
    """What a file import knows of its lines: ``encoding`` (a Python codec name, the layout's), and either a CSV
    line's ``delimiter`` and ``quotechar`` with ``identifiers`` (0-based column index -> identifier kind,
    ``bus.identifiers.kinds.IDENTIFIER_TYPES``), or, ``delimiter`` None, a fixed-width line's ``spans`` ((1-based
    start, width in characters, identifier kind or None) of each field the layout reads)."""

    encoding: str = "utf-8"
    delimiter: str | None = None
    quotechar: str = '"'
    identifiers: Mapping[int, str] = field(default_factory=dict, hash=False)  # hashed by its other fields
    spans: tuple[tuple[int, int, str | None], ...] = ()

    @property
    def reencoded(self) -> bool:
        """Whether the clear copy's bytes (UTF-8) are not the file's."""
        return codecs.lookup(self.encoding).name != _UTF8


# A value's clear copy: (text, identifier kind or None) -> text.
Cell = Callable[[str, str | None], str]


def decoded_line(data: bytes, shape: LineShape) -> str:
    """``data`` decoded in ``shape.encoding``, a byte not valid in it as its escape (``\\xf3``); never raises."""
    return data.decode(shape.encoding, errors="backslashreplace")


def clear_line(data: bytes, shape: LineShape, secrets: Callable[[str], str]) -> bytes:
    """The clear copy of a file's line ``data`` (its bytes as read, no line end), UTF-8 (see the module docstring).
    ``secrets``: text with its national IDs and card numbers as their tokens (``SecretScrubber``)."""
    text = decoded_line(data, shape)

    def cell(value: str, kind: str | None) -> str:
        return _cell(value, kind, secrets)

    if shape.delimiter is None:
        cleared = _fixed_width(text, shape.spans, cell)
    else:
        quote = shape.quotechar
        cleared = shape.delimiter.join(_csv_cell(raw, shape.identifiers.get(index), quote, cell)
                                       for index, raw in enumerate(_csv_split(text, shape.delimiter, quote)))
    return cleared.encode("utf-8", errors="backslashreplace")


def _csv_split(text: str, delimiter: str, quotechar: str) -> list[str]:
    """``text``'s columns as written (a quoted one with its quotes), split at each ``delimiter`` outside quotes
    (RFC 4180: a quote inside a quoted field is doubled); a line cut inside a quoted field ends in it."""
    cells, start, quoted = [], 0, False
    for index, char in enumerate(text):
        if char == quotechar:
            quoted = not quoted
        elif char == delimiter and not quoted:
            cells.append(text[start:index])
            start = index + 1
    cells.append(text[start:])
    return cells


def _csv_cell(raw: str, kind: str | None, quote: str, cell: Cell) -> str:
    """A column as written, its value as its ``cell``: quoted again when it was (its quotes doubled)."""
    if raw[:1] != quote:
        return cell(raw, kind)
    closed = len(raw) >= 2 and raw.endswith(quote)
    value = (raw[1:-1] if closed else raw[1:]).replace(quote * 2, quote)
    return quote + cell(value, kind).replace(quote, quote * 2) + (quote if closed else "")


def _cell(value: str, kind: str | None, secrets: Callable[[str], str]) -> str:
    """One column's clear copy: an identifier's mask (a secret's token), else the column scrubbed as free text."""
    stripped = value.strip()
    if not stripped:
        return value
    if kind is None:
        return free_text(secrets(value))
    held = secrets(stripped) if kind in SECRET_TYPES else stripped
    return held if ISSUED.fullmatch(held) else mask(kind, held)


def _fixed_width(text: str, spans: tuple[tuple[int, int, str | None], ...], cell: Cell) -> str:
    """A fixed-width line's clear copy: each field's span as its ``cell``, padded with spaces to its width (a
    scrubbed ``[digits]`` too); the text between and after the fields as free text. Overlapping fields are one span,
    an identifier's if either is one."""
    merged: list[tuple[int, int, str | None]] = []
    for start, end, kind in sorted((start - 1, start - 1 + width, kind) for start, width, kind in spans):
        if merged and start < merged[-1][1]:
            first, last, held = merged[-1]
            merged[-1] = (first, max(last, end), held or kind)
        else:
            merged.append((start, end, kind))
    out, cursor = [], 0
    for start, end, kind in merged:
        if start >= len(text):
            break
        out.append(cell(text[cursor:start], None))
        value = text[start:end]
        out.append(cell(value, kind).ljust(len(value)))
        cursor = end
    out.append(cell(text[cursor:], None))
    return "".join(out)
