"""A CSV line cut mid-write (a crash or a full disk inside a quoted field): how the file readers tell it, and the
refusal it gets.

RFC 4180 quotes a field with the quote character and doubles a quote inside it (``""``), so a record's quote
characters come in pairs: a line (or run of lines) with an odd count ends inside a quoted field. Asterisk's
``Master.csv`` never writes a record over two lines, so such a CDR line is cut (``adapters.call_center``); an export
may quote a field with a line break, so a legacy batch reader joins lines only while no line on its own is a whole
record of the layout (``adapters.legacy.batch_lines``). Either way the cut line is refused alone, and the lines after
it are read as lines of their own: never swallowed into it.
"""

from __future__ import annotations

from adapters.base.errors import RejectedInput

UNCLOSED_QUOTE_CODE = "truncated"


def quote_open(raw: bytes, quotechar: bytes = b'"') -> bool:
    """Whether ``raw`` (one line, or the lines of one record) ends inside a quoted field: an odd count of
    ``quotechar`` (one byte; an escaped ``""`` counts two)."""
    return raw.count(quotechar) % 2 == 1


def unclosed_quote() -> RejectedInput:
    """The refusal of a line that ends inside a quoted field (code ``truncated``): its dead letter names the line."""
    return RejectedInput("unclosed quote: the line ends inside a quoted field (cut mid-write?); the lines after it "
                         "were read on their own", code=UNCLOSED_QUOTE_CODE)
