"""A CDR whose quoted field holds a line break and one of whose fields is malformed (a ``start`` that is no time):
its lines were joined by the CDR's times too (``whole_cdr``), so they made "no CDR": the first line was refused as
lines of no record ("a later line closes" its quote), the next alone as cut ("cut mid-write?"), two dead letters and
the bad field never named, in a POSTed body as in a file (tester53 F11). Lines of a CDR's shape (its quotes closed,
its column count: ``mapper_asterisk.cdr_shaped``) are now one CDR, refused once naming the field (``malformed_field``),
as on one line; a cut line joined to the first line of a CDR over two lines is still told apart (the look past the
closing line, ``adapters.base.csv_lines.closing_lines``) and lines of a wrong column count are still no CDR."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.call_center import mapper_asterisk
from adapters.call_center.errors import RejectedInput
from tests.adapters.call_center.support import context
from tests.adapters.call_center.test_ingress_file_cut import COLUMNS, _reader, calls_published, cdr
from tests.adapters.call_center.test_ingress_file_multiline import noted
from tests.adapters.call_center.test_ingress_file_open_record import uniqueids
from tests.adapters.call_center.test_ingress_http_multiline import columns
from tests.adapters.web.support import StandInPublisher

BAD_START = "2026-13-45 99:02:00"


def malformed(minute: int, note: str, name: str = "start", value: str = BAD_START) -> str:
    """``noted(minute, note)`` with its field ``name`` (``start``, ``end`` or ``duration``) set to ``value``."""
    good = {"start": f'"2026-12-05 09:{minute}:00"', "end": f'"2026-12-05 09:{minute}:50"', "duration": ',"50",'}[name]
    bad = f',"{value}",' if name == "duration" else f'"{value}"'
    return noted(minute, note).replace(good, bad, 1)


def test_tester53_f11_a_posted_cdr_over_two_lines_with_a_bad_start_is_one_malformed_field() -> None:
    """The reported body: CDRs 01, 02 (its start malformed) and 03, each with a userfield over two lines."""
    body = "\n".join([noted(21, "a\nb"), malformed(22, "c\nd"), noted(23, "e\nf")])
    items = mapper_asterisk.split_lines(body.encode(), columns(("uniqueid", "userfield")))
    assert len(items) == 3 and [item.error for item in items] == [None, None, None]
    assert items[1].record == malformed(22, "c\nd")  # its two lines, one record for the mapper to refuse
    with pytest.raises(RejectedInput) as refused:
        mapper_asterisk.map_cdr(items[1].record, context())
    assert refused.value.code == "malformed_field"
    assert "field start is malformed" in refused.value.reason and BAD_START in refused.value.reason


@pytest.mark.parametrize(("name", "value"), [("end", "yesterday"), ("duration", "5s")])
def test_other_malformed_fields_of_a_cdr_over_two_lines_are_named_too(name: str, value: str) -> None:
    record = malformed(22, "c\nd", name, value)
    items = mapper_asterisk.split_lines(f"{record}\n{cdr(23)}\n".encode(), COLUMNS)
    assert [(item.record, item.error) for item in items] == [(record, None), (cdr(23), None)]
    with pytest.raises(RejectedInput) as refused:
        mapper_asterisk.map_cdr(record, context())
    assert refused.value.code == "malformed_field" and f"field {name} is malformed" in refused.value.reason


def test_lines_of_a_wrong_column_count_are_still_no_cdr() -> None:
    items = mapper_asterisk.split_lines(f'"","612345620","600","a\nb",5\n{cdr(22)}\n'.encode(), COLUMNS)
    assert items[0].error is not None and "a later line closes" in items[0].error.reason
    assert items[-1].error is None and items[-1].record == cdr(22)


async def test_tester53_f11_in_a_file_the_cdr_is_one_rejection_on_its_first_line(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    master.write_text("".join(f"{record}\n" for record in
                              [noted(21, "a\nb"), malformed(22, "c\nd"), noted(23, "e\nf"), cdr(24)]))
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert report.summary("Master.csv") == f"Master.csv: 4 records (7 lines), {calls_published(3)}, 0 duplicates, " \
                                           "1 rejected"
    (raw, error), = publisher.rejected
    assert error.code == "malformed_field" and error.reason.startswith("Master.csv line 3: field start is malformed")
    assert raw.value == malformed(22, "c\nd").encode()
    assert uniqueids(publisher) == ["1733390021.1", "1733390023.1", "1733390024.1"]
    saved = await _reader(master, tmp_path, StandInPublisher()).read_available()
    assert saved.lines == 0  # the checkpoint is past every line



async def test_following_a_file_the_malformed_cdr_over_two_lines_at_its_end_is_refused_once(tmp_path: Path) -> None:
    """``import-cdr --follow``: at the file's end, its second line (a quoted field left open on its own) opens no CDR
    still being written (it starts none: ``mapper_asterisk.starts_cdr``), so the record is not left waiting for one
    (as a record inside its field is): refused once naming its field; the CDR written after it published."""
    master = tmp_path / "Master.csv"
    master.write_text(noted(21, "a\nb") + "\n" + malformed(22, "c\nd") + "\n")
    publisher = StandInPublisher()
    reader = _reader(master, tmp_path, publisher)
    stop = asyncio.Event()
    following = asyncio.create_task(reader.follow(stop, poll_s=0.01))
    for _ in range(500):
        await asyncio.sleep(0.01)
        if publisher.rejected:
            break
    assert len(publisher.submitted) == 1 and reader.report.unended == 0
    with master.open("a") as handle:
        handle.write(f"{cdr(23)}\n")
    for _ in range(500):
        await asyncio.sleep(0.01)
        if len(publisher.submitted) == 2:
            break
    stop.set()
    total = await following
    assert total.summary("Master.csv") == f"Master.csv: 3 records (5 lines), {calls_published(2)}, 0 duplicates, " \
                                          "1 rejected"
    (raw, error), = publisher.rejected
    assert error.code == "malformed_field" and error.reason.startswith("Master.csv line 3: field start is malformed")
    assert uniqueids(publisher) == ["1733390021.1", "1733390023.1"]


async def test_a_refused_cdr_of_a_file_named_otherwise_is_named_by_its_file_only(tmp_path: Path) -> None:
    """A new user's ``Bad.csv``: the reason read ``Bad.csv line 3: Master.csv: field start is malformed ...``, a file
    named Bad.csv called Master.csv mid-reason. The file's own name and line lead the reason, once."""
    bad = tmp_path / "Bad.csv"
    bad.write_text("".join(f"{record}\n" for record in [noted(21, "a\nb"), malformed(22, "c\nd")]))
    publisher = StandInPublisher()
    await _reader(bad, tmp_path, publisher).read_available()
    (_, error), = publisher.rejected
    assert error.reason.startswith("Bad.csv line 3: field start is malformed") and "Master.csv" not in error.reason

