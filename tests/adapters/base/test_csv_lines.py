"""``closing_lines``: the one rule the CDR and export readers join a record's lines by, and tell a cut line with."""

from __future__ import annotations

import csv

from adapters.base.csv_lines import closing_lines


def three_fields(raw: bytes) -> bool:
    """A whole record of a three-column file: quotes closed, three fields."""
    text = raw.decode().removesuffix("\n").removesuffix("\r")
    return raw.count(b'"') % 2 == 0 and [len(row) for row in csv.reader([text])] == [3]


def lines(*texts: str) -> list[bytes]:
    return [f"{text}\n".encode() for text in texts]


def test_a_record_over_two_lines_is_joined() -> None:
    found = closing_lines(b'"a","b","one\n', lines('two"'), three_fields)
    assert (found.raw, found.lines, found.closed) == (b'"a","b","one\ntwo"\n', 2, True)


def test_a_cut_line_before_a_whole_record_is_cut() -> None:
    found = closing_lines(b'"a","b\n', lines('"c","d","e"'), three_fields)
    assert (found.raw, found.closed) == (None, False)


def test_a_cut_line_before_a_record_over_two_lines_is_cut_not_closed() -> None:
    """The cut line's quote is closed by the next record's first line; that line opens a record with the one after it:
    the cut line was cut mid-write, not a record of a wrong shape."""
    following = iter(lines('"c","d","one', 'two"', '"f","g","h"'))
    found = closing_lines(b'"a","b\n', following, three_fields)
    assert (found.raw, found.closed, found.waiting) == (None, False, False)


def test_a_quote_closed_by_a_line_that_opens_no_record_is_closed() -> None:
    found = closing_lines(b'"a","one\n', lines('two",5,6,7', '"c","d","e"'), three_fields)
    assert (found.raw, found.closed) == (None, True)


def test_a_record_the_closing_line_opens_not_written_yet_waits() -> None:
    following = [b'"c","d","one\n', b'tw']
    found = closing_lines(b'"a","b\n', following, three_fields, growing=True)
    assert found.waiting and found.raw is None


def test_a_run_of_cut_lines_looks_one_record_ahead_only() -> None:
    """Each cut line closes the quote of the one before: no chain of looks (a body of cut lines stays linear)."""
    following = iter(lines(*['"x'] * 5000))
    found = closing_lines(b'"a","b\n', following, three_fields)
    assert (found.raw, found.closed) == (None, True)
    assert len(list(following)) == 5000 - 2


def test_a_record_still_inside_its_field_when_a_growing_file_ends_waits() -> None:
    """Its field's line break is written, the rest not yet: decided at the next read, not cut."""
    found = closing_lines(b'"a","b","one\n', [], three_fields, growing=True)
    assert (found.raw, found.closed, found.waiting) == (None, False, True)
    found = closing_lines(b'"a","b","one\n', lines("two", "three"), three_fields, growing=True)
    assert found.waiting


def test_a_cut_line_before_a_record_open_at_a_growing_files_end_waits() -> None:
    found = closing_lines(b'"a","b\n', lines('"c","d","one'), three_fields, growing=True)
    assert found.waiting and found.raw is None


def test_a_record_still_inside_its_field_when_a_finished_text_ends_is_cut() -> None:
    """A POSTed body or an export is all there: its end inside a field is a cut."""
    found = closing_lines(b'"a","b","one\n', lines("two"), three_fields)
    assert (found.raw, found.closed, found.waiting) == (None, False, False)


def test_a_cut_line_in_a_growing_file_is_still_cut_when_a_whole_record_follows() -> None:
    found = closing_lines(b'"a","b\n', lines('"c","d","e"'), three_fields, growing=True)
    assert (found.raw, found.closed, found.waiting) == (None, False, False)
