"""A CDR whose quoted field holds a line break, read while Asterisk writes it: its first line (up to and with the
field's line break) is in the file before its rest. ``import-cdr`` refused that first line as cut ("unclosed quote ...
cut mid-write?"), checkpointed past it, and refused the rest alone at the next read (one-shot and ``--follow``): the
CDR was dead-lettered in two halves, never published (tester52 F9). A record still inside its quoted field at the end
of what was read is now left for the next read, as a last line without its newline is: the checkpoint stays before
it, the summary says so, and it is read whole once written. A line is still refused as cut once a whole CDR follows
it (``adapters.base.csv_lines.closing_lines``, ``growing``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.base.checkpoint import Checkpoint
from adapters.call_center.ingress_file import CdrFileReader
from tests.adapters.call_center.support import context
from tests.adapters.call_center.test_ingress_file_cut import CUT, _reader, _refused_lines, calls_published, cdr
from tests.adapters.call_center.test_ingress_file_multiline import noted
from tests.adapters.web.support import StandInPublisher

LEFT = ", 1 record not ended yet (line {line}, inside a quoted field), left for the next run"


def halves(record: str, newline: str = "\n") -> tuple[str, str]:
    """``record``'s first line with the line break inside its field, and the rest (with the record's newline)."""
    cut = record.index(newline) + len(newline)
    return record[:cut], record[cut:] + newline


def uniqueids(publisher: StandInPublisher) -> list[str]:
    return [record.dedupe_id.split("/")[1].split("@")[0] for record in publisher.submitted]


async def test_tester52_f9_a_cdr_whose_first_line_is_written_before_its_rest_is_left_then_read_whole(
    tmp_path: Path,
) -> None:
    """The reported sample, one-shot: a CDR, then the first line of one whose userfield is ``"first line\\nsecond
    line"``; the checkpoint stays before it, and the run after the rest is written reads it whole."""
    master = tmp_path / "Master.csv"
    first, rest = halves(noted(51, "first line\nsecond line"))
    master.write_text(f"{cdr(50)}\n{first}")
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert report.summary("Master.csv") == (f"Master.csv: 1 line, {calls_published(1)}, 0 duplicates, 0 rejected"
                                            + LEFT.format(line=2))
    assert (report.rejected, report.unended, report.unended_open) == (0, 2, True) and not publisher.rejected
    saved = Checkpoint(tmp_path / "checkpoint.json").load()
    assert saved is not None and (saved["offset"], saved["line"]) == (len(f"{cdr(50)}\n"), 1)  # before the record
    with master.open("a") as handle:
        handle.write(rest)
    again = StandInPublisher()
    report = await _reader(master, tmp_path, again).read_available()
    assert report.summary("Master.csv") == f"Master.csv: 1 record (2 lines), {calls_published(1)}, 0 duplicates, " \
                                           "0 rejected"
    assert not again.rejected and uniqueids(again) == ["1733390051.1"]


async def test_tester52_f9_following_reads_the_record_whole_once_its_rest_is_appended(tmp_path: Path) -> None:
    """``import-cdr --follow``: the file written in two steps, the rest appended after a read saw the first line."""
    master = tmp_path / "Master.csv"
    first, rest = halves(noted(51, "first line\nsecond line"))
    master.write_text(f"{cdr(50)}\n{first}")
    publisher = StandInPublisher()
    reader = _reader(master, tmp_path, publisher)
    stop = asyncio.Event()
    following = asyncio.create_task(reader.follow(stop, poll_s=0.01))
    for _ in range(500):  # until a read saw the first line (and published the CDR before it)
        await asyncio.sleep(0.01)
        if reader.report.unended == 2:
            break
    assert uniqueids(publisher) == ["1733390050.1"] and not publisher.rejected
    with master.open("a") as handle:
        handle.write(rest)
    for _ in range(500):
        await asyncio.sleep(0.01)
        if len(publisher.submitted) == 2:
            break
    stop.set()
    total = await following
    assert total.summary("Master.csv") == f"Master.csv: 2 records (3 lines), {calls_published(2)}, 0 duplicates, " \
                                          "0 rejected"
    assert not publisher.rejected and uniqueids(publisher) == ["1733390050.1", "1733390051.1"]


async def test_a_crlf_file_leaves_the_open_record_and_reads_it_whole(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    first, rest = halves(noted(21, "one\r\ntwo"), "\r\n")
    master.write_bytes(f"{cdr(20)}\r\n{first}".encode())
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert (report.lines, report.rejected, report.unended, report.unended_open) == (1, 0, 2, True)
    with master.open("ab") as handle:
        handle.write(rest.encode())
    report = await _reader(master, tmp_path, publisher).read_available()
    assert (report.lines, report.physical_lines, report.rejected, report.unended) == (1, 2, 0, 0)
    assert uniqueids(publisher) == ["1733390020.1", "1733390021.1"] and not publisher.rejected


async def test_several_open_records_one_after_another_each_a_line_at_a_time(tmp_path: Path) -> None:
    """A field over three lines written a line at a time, then another record caught open behind it: each read
    leaves the open one (numbered by its first line) and reads the ones now whole."""
    master = tmp_path / "Master.csv"
    three = noted(21, "one\ntwo\nthree").split("\n")
    second_first, second_rest = halves(noted(22, "x\ny"))
    steps = [f"{cdr(20)}\n{three[0]}\n", f"{three[1]}\n", f"{three[2]}\n{second_first}", second_rest]
    publisher = StandInPublisher()
    seen = []
    for step in steps:
        with master.open("a") as handle:
            handle.write(step)
        report = await _reader(master, tmp_path, publisher).read_available()
        seen.append((report.lines, report.physical_lines, report.rejected, report.unended))
    assert seen == [(1, 1, 0, 2), (0, 0, 0, 2), (1, 3, 0, 5), (1, 2, 0, 0)]
    assert uniqueids(publisher) == [f"17333900{minute}.1" for minute in (20, 21, 22)] and not publisher.rejected


async def test_a_cut_line_before_an_open_record_is_refused_once_the_record_is_whole(tmp_path: Path) -> None:
    """The cut line's quote is closed by the open record's first line: nothing is decided until the record's rest is
    there; then the cut line is refused alone and the record read whole."""
    master = tmp_path / "Master.csv"
    first, rest = halves(noted(22, "x\ny"))
    master.write_text(f"{cdr(20)}\n{CUT}\n{first}")
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert (report.lines, report.rejected, report.unended, report.unended_open) == (1, 0, 2, True)
    with master.open("a") as handle:
        handle.write(rest)
    report = await _reader(master, tmp_path, publisher).read_available()
    assert (report.lines, report.physical_lines, report.rejected, report.unended) == (2, 3, 1, 0)
    assert _refused_lines(publisher) == [2] and uniqueids(publisher) == ["1733390020.1", "1733390022.1"]
    (raw, error), = publisher.rejected
    assert raw.value == CUT.encode() and "(cut mid-write?)" in error.reason


async def test_a_cut_line_followed_by_whole_cdrs_is_still_refused_at_once(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    master.write_text(f"{cdr(20)}\n{CUT}\n{cdr(22)}\n")
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert (report.lines, report.rejected, report.unended, _refused_lines(publisher)) == (3, 1, 0, [2])
    assert uniqueids(publisher) == ["1733390020.1", "1733390022.1"]


async def test_an_open_record_after_a_full_chunk_is_left_with_the_checkpoint_before_it(tmp_path: Path) -> None:
    """Chunks of two records: the first chunk is committed, the open record ends the second one before it."""
    master = tmp_path / "Master.csv"
    first, rest = halves(noted(24, "x\ny"))
    master.write_text("".join(f"{cdr(minute)}\n" for minute in (20, 21, 22)) + first)
    publisher = StandInPublisher()
    checkpoint = Checkpoint(tmp_path / "checkpoint.json")
    reader = CdrFileReader(master, context(), publisher, checkpoint, chunk_lines=2)  # type: ignore[arg-type]
    report = await reader.read_available()
    assert (report.lines, report.rejected, report.unended) == (3, 0, 4)
    saved = checkpoint.load()
    assert saved is not None and saved["line"] == 3
    with master.open("a") as handle:
        handle.write(rest)
    report = await reader.read_available()
    assert (report.lines, report.physical_lines, report.unended) == (1, 2, 0)
    assert uniqueids(publisher)[-1] == "1733390024.1"
