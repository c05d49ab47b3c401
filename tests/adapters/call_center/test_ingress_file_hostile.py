"""``import-cdr`` (issue #10 case 13): a bad line costs only itself; a last line without its newline is left until it
has one (Asterisk may still be writing it), by a one-shot import as while following, and the summary says so."""

from __future__ import annotations

import csv
from pathlib import Path

from adapters.base.checkpoint import Checkpoint
from adapters.call_center.ingress_file import CdrFileReader
from tests.adapters.call_center.support import context, master_lines
from tests.adapters.web.support import StandInPublisher


def _overflowing(line: str) -> str:
    row = next(iter(csv.reader([line])))
    row[11], row[12] = "", "99999999999999"  # no end time, and a duration past any date
    return ",".join(f'"{v}"' for v in row)


def _reader(path: Path, tmp_path: Path, publisher: StandInPublisher, **options: int) -> CdrFileReader:
    return CdrFileReader(path, context(), publisher, Checkpoint(tmp_path / "checkpoint.json"), **options)  # type: ignore[arg-type]


async def test_a_line_with_an_overflowing_duration_is_refused_and_the_rest_imported(tmp_path: Path) -> None:
    lines = master_lines()
    master = tmp_path / "Master.csv"
    master.write_text("\n".join([lines[0], _overflowing(lines[1]), lines[2]]) + "\n")
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher, chunk_lines=1).read_available()
    assert (report.lines, report.rejected) == (3, 1)
    assert len(publisher.submitted) == 2 and "duration" in publisher.rejected[0][1].reason
    headers = dict(publisher.rejected[0][0].headers)
    assert headers["file.offset"] == str(len(lines[0]) + 1).encode() and headers["file.line"] == b"2"
    assert publisher.rejected[0][1].reason.startswith("Master.csv line 2: ")  # as import-batch (tester17 M2)


async def test_line_numbers_count_every_line_and_survive_a_resume(tmp_path: Path) -> None:
    """tester17 M2: the dead letter names the line (import-batch does), not only a byte offset; a checkpoint written
    before line numbers (offset only) still gives the right line. A quoted field broken over two lines is one CDR
    of two lines (cdr_csv writes a line break inside the quotes as it is, tester50 F5), numbered by its first."""
    lines = master_lines()
    spanning = lines[0].replace('"billing,t,,,300"', '"billing,t,\n,,300"', 1)  # a quoted field over two lines
    assert spanning != lines[0]
    master = tmp_path / "Master.csv"
    master.write_text("\n".join([spanning, lines[1], '"","garbage"']) + "\n")
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert [dict(raw.headers)["file.line"] for raw, _ in publisher.rejected] == [b"4"]
    assert [error.code for _, error in publisher.rejected] == ["bad_columns"]
    assert publisher.rejected[0][1].reason.startswith("Master.csv line 4: ")
    assert (report.lines, report.physical_lines, report.rejected) == (3, 4, 1)
    Checkpoint(tmp_path / "checkpoint.json").save(
        {"inode": master.stat().st_ino, "offset": len(spanning) + len(lines[1]) + 2})  # no "line": an older one
    again = StandInPublisher()
    report = await _reader(master, tmp_path, again).read_available()
    assert (report.lines, report.rejected) == (1, 1) and dict(again.rejected[0][0].headers)["file.line"] == b"4"
    assert report.summary("Master.csv") == "Master.csv: 1 line, 0 events published, 0 duplicates, 1 rejected"


async def test_a_whole_valid_last_line_without_newline_is_left_until_it_has_one(tmp_path: Path) -> None:
    """A whole, valid CDR without its newline is left as a half one is: the reader cannot tell them apart (a line cut
    between two fields parses), and Asterisk always ends a line with one; a finished file gets it by hand."""
    master = tmp_path / "Master.csv"
    master.write_text("\n".join(master_lines()))  # no newline after the last line
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert (report.lines, report.unended, len(publisher.submitted)) == (2, 3, 2)
    assert (await _reader(master, tmp_path, publisher).read_available()).unended == 3  # every run says so
    with master.open("a") as handle:
        handle.write("\n")
    report = await _reader(master, tmp_path, publisher).read_available()
    assert (report.lines, report.unended, len(publisher.submitted)) == (1, 0, 3)
    assert (await _reader(master, tmp_path, publisher).read_available()).lines == 0
