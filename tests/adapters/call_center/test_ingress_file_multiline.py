"""A CDR whose quoted field holds a line break (a ``userfield`` or caller name set from a form): Asterisk's cdr_csv
writes it so, one record over two lines. cdr_csv's ``append_string`` quotes every text field, doubles a quote inside
it and copies every other byte as it is, a line break too, and the record ends with its one newline, written by one
``fputs``: the record is whole, and is read whole (tester50 F5: it was refused as two lines "cut mid-write?", both
dead-lettered). A line whose quote stays open up to a line that is a CDR of its own is still cut and refused alone,
as ``import-batch`` reads an export's records (``adapters.base.csv_lines.closing_lines``); one still open at the file's
end is left for the next read (``test_ingress_file_open_record.py``)."""

from __future__ import annotations

from pathlib import Path

from adapters.base.checkpoint import Checkpoint
from adapters.call_center import mapper_asterisk
from adapters.call_center.ingress_file import CdrFileReader
from tests.adapters.call_center.support import context
from tests.adapters.call_center.test_ingress_file_cut import COLUMNS, CUT, _reader, calls_published, cdr
from tests.adapters.web.support import StandInPublisher


def noted(minute: int, note: str) -> str:
    """``cdr(minute)`` with its userfield (the last column) set to ``note``, quoted as cdr_csv quotes it."""
    return cdr(minute).removesuffix('""') + '"' + note.replace('"', '""') + '"'


async def test_tester50_f5_a_cdr_whose_userfield_holds_a_line_break_is_one_record_of_two_lines(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    two_lines = noted(20, "note line one\nnote line two")
    master.write_text(f"{two_lines}\n{cdr(21)}\n")
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert report.summary("Master.csv") == f"Master.csv: 2 records (3 lines), {calls_published(2)}, 0 duplicates, " \
                                           "0 rejected"
    assert not publisher.rejected


async def test_several_line_breaks_crlf_and_an_escaped_quote_in_one_field_are_one_record(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    four_lines = noted(21, 'a\r\n"b"\r\n\r\nc')
    master.write_bytes(f"{cdr(20)}\r\n{four_lines}\r\n{cdr(22)}\r\n".encode())
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert report.summary("Master.csv") == f"Master.csv: 3 records (6 lines), {calls_published(3)}, 0 duplicates, " \
                                           "0 rejected"


async def test_a_cut_line_before_whole_cdrs_is_still_refused_alone(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    two_lines = noted(24, "x\ny")
    master.write_text(f"{cdr(20)}\n{CUT}\n{cdr(23)}\n{two_lines}\n")
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert report.summary("Master.csv") == f"Master.csv: 4 records (5 lines), {calls_published(3)}, 0 duplicates, " \
                                           "1 rejected"
    (raw, error), = publisher.rejected
    assert error.code == "truncated" and error.reason.startswith("Master.csv line 2: unclosed quote")


async def test_a_record_whose_second_line_is_not_written_yet_waits_for_it(tmp_path: Path) -> None:
    """Asterisk appends a record with one write; a reader may see part of it: left for the next read, whole."""
    master = tmp_path / "Master.csv"
    whole = noted(21, "one\ntwo")
    master.write_text(f"{cdr(20)}\n{whole[:-6]}")
    publisher = StandInPublisher()
    first = await _reader(master, tmp_path, publisher).read_available()
    assert (first.lines, first.rejected, first.unended) == (1, 0, 2)
    with master.open("a") as handle:
        handle.write(f"{whole[-6:]}\n")
    second = await _reader(master, tmp_path, publisher).read_available()
    assert second.summary("Master.csv") == f"Master.csv: 1 record (2 lines), {calls_published(1)}, 0 duplicates, " \
                                           "0 rejected"


def test_a_posted_body_reads_a_cdr_over_two_lines_whole_and_a_cut_line_alone() -> None:
    two_lines = noted(20, "one\ntwo")
    items = mapper_asterisk.split_lines(f"{two_lines}\n{CUT}\n{cdr(22)}\n".encode(), COLUMNS)
    assert [item.error is None for item in items] == [True, False, True]
    assert items[0].record == noted(20, "one\ntwo")


def test_a_quote_closed_by_lines_that_make_no_cdr_with_it_is_not_said_cut_mid_write() -> None:
    items = mapper_asterisk.split_lines(f'"","612345620","600","a\nb",5\n{cdr(22)}\n'.encode(), COLUMNS)
    first = items[0].error
    assert first is not None and first.code == "truncated"
    assert "a later line closes" in first.reason and "cut mid-write" not in first.reason
    assert items[-1].error is None and items[-1].record == cdr(22)


async def test_a_site_with_more_columns_reads_a_multi_line_cdr_after_a_cut_line_whole(tmp_path: Path) -> None:
    """With ``newcdrcolumns`` (21 columns) the cut line joined to the next CDR's first line had a column count a CDR
    may have: it was read as one (refused), the rest of the CDR refused as cut. Its shifted times tell it apart."""
    master = tmp_path / "Master.csv"
    master.write_text("\n".join([cdr(20), CUT, noted(21, "x\ny"), cdr(22), ""]))
    site = context(asterisk_optional_columns=("uniqueid", "userfield", "peeraccount", "linkedid", "sequence"))
    publisher = StandInPublisher()
    reader = CdrFileReader(master, site, publisher, Checkpoint(tmp_path / "checkpoint.json"))  # type: ignore[arg-type]
    report = await reader.read_available()
    assert report.summary("Master.csv") == f"Master.csv: 4 records (5 lines), {calls_published(3)}, 0 duplicates, " \
                                           "1 rejected"
    (raw, error), = publisher.rejected
    assert raw.value == CUT.encode() and error.code == "truncated" and "(cut mid-write?)" in error.reason
