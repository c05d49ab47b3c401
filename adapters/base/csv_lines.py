"""A CSV line cut mid-write (a crash or a full disk inside a quoted field): how the file readers tell it, and the
refusal it gets.

RFC 4180 quotes a field with the quote character and doubles a quote inside it (``""``), so a record's quote
characters come in pairs: a line (or run of lines) with an odd count ends inside a quoted field. A field may hold a
line break: an export's (``adapters.legacy.batch_lines``), and a CDR's (Asterisk's cdr_csv quotes every text field,
doubles a quote and copies any other byte, a line break too, then ends the record with its newline in one write:
``adapters.call_center``). Both readers join such a line to the next ones by one rule, ``closing_lines``: up to the
line that closes the quote, while no line on its own is a whole record and the joined lines are one. Otherwise the
line was cut mid-write: it is refused alone, and the lines after it are read as lines of their own, never swallowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from adapters.base.errors import RejectedInput

UNCLOSED_QUOTE_CODE = "truncated"


def quote_open(raw: bytes, quotechar: bytes = b'"') -> bool:
    """Whether ``raw`` (one line, or the lines of one record) ends inside a quoted field: an odd count of
    ``quotechar`` (one byte; an escaped ``""`` counts two)."""
    return raw.count(quotechar) % 2 == 1


@dataclass(frozen=True)
class Closing:
    """What ``closing_lines`` found after a line left inside a quoted field: ``raw``, the line and the next ones up to
    the one that closes the field, when together they are a whole record (else None); ``lines``, how many lines
    ``raw`` holds; ``closed``: whether a later line closed the field (True with ``raw`` None: the lines joined are no
    record); ``waiting``: the lines ran out (on one not ended yet, or with the field still open) in a file still being
    written: the record may be whole once the rest is written, so it is decided at the next read, neither read nor
    refused now."""

    raw: bytes | None
    lines: int = 1
    closed: bool = False
    waiting: bool = False


def closing_lines(first: bytes, following: Iterable[bytes], is_record: Callable[[bytes], bool],
                  quotechar: bytes = b'"', *, growing: bool = False,
                  is_shaped: Callable[[bytes], bool] | None = None,
                  starts_record: Callable[[bytes], bool] | None = None) -> Closing:
    """``first`` (a line left inside a quoted field: ``quote_open``) joined to the ``following`` lines (with their line
    ends) up to the one that closes the field, when together they are a whole record (``is_record`` of the joined
    bytes). Not joined when a following line is a whole record on its own, when the joined lines are none, or when
    the lines end first: then ``first`` was cut. So was it when the line that closes the field, no record with it,
    opens one with the lines after it (a record whose field holds a line break, right after a cut line): not
    ``Closing.closed`` then. ``growing``: the file is still being appended to (a Master.csv, a record at a time), so
    what ends there is not all written yet: a last line without its line end, and a record still inside its quoted
    field when the lines run out (a field's line break is written before the rest of the record): ``Closing.waiting``,
    not cut (a cut line is told at a later read, by the whole record written after it). Consumes ``following`` no
    further than the lines it looked at (up to the end of the record the closing line opens). ``is_shaped``: whether
    joined lines have a record's shape (its columns) though a field of theirs is malformed: such lines, when the
    closing line opens no record with the lines after it, are one record with a bad field, returned (``raw``) for its
    mapper to refuse naming the field, not refused as lines of no record (the line after them then taken for cut).
    ``starts_record``: whether a line may be a record's first line; a closing line that may not opens none, so it is
    not looked past (nor waited for at a growing file's end)."""
    following = iter(following)  # one pass: the look past the closing line goes on from where it stopped
    found, closer, joined = _closing(first, following, is_record, quotechar, growing)
    if found.closed and found.raw is None:  # the closing line is left inside a quoted field too (odd quotes)
        if starts_record is None or starts_record(closer):
            opened, _, _ = _closing(closer, following, is_record, quotechar, growing)
            if opened.waiting:
                return opened  # the record it may open is not all written yet: decided at the next read
            if opened.raw is not None:
                return Closing(None)
        if is_shaped is not None and is_shaped(joined):
            return Closing(joined, found.lines, closed=True)
    return found


def _closing(first: bytes, following: Iterable[bytes], is_record: Callable[[bytes], bool], quotechar: bytes,
             growing: bool) -> tuple[Closing, bytes, bytes]:
    """``closing_lines`` without its look past the closing line; with the last line it looked at, and the lines
    joined (``Closing.lines`` of them when closed)."""
    pending, lines, line = first, 1, first
    for line in following:
        if growing and not line.endswith(b"\n"):
            return Closing(None, waiting=True), line, pending
        if is_record(line):
            return Closing(None), line, pending
        pending, lines = pending + line, lines + 1
        if not quote_open(pending, quotechar):
            return Closing(pending if is_record(pending) else None, lines, closed=True), line, pending
    # ran out inside the field: in a growing file, the rest is to come
    return Closing(None, waiting=growing), line, pending


def unclosed_quote(closed: bool = False) -> RejectedInput:
    """The refusal of a line that ends inside a quoted field (code ``truncated``): its dead letter names the line.
    ``closed``: a later line closes the field, but the lines joined are no record (``Closing.closed``): not said to
    be cut mid-write then."""
    if closed:
        return RejectedInput("unclosed quote: the line ends inside a quoted field that a later line closes, but the "
                             "lines joined are no record of the file; the lines after it were read on their own",
                             code=UNCLOSED_QUOTE_CODE)
    return RejectedInput("unclosed quote: the line ends inside a quoted field (cut mid-write?); the lines after it "
                         "were read on their own", code=UNCLOSED_QUOTE_CODE)
