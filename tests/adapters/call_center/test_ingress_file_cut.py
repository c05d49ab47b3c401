"""A ``Master.csv`` line cut inside a quoted field (a crash or a full disk mid-write, Asterisk then appending the next
records): cdr_csv never writes a record over two lines, so the cut line is refused alone (``unclosed quote``) and
every line after it is a CDR of its own, in a file (``import-cdr``, resumable) and in a POSTed body. Before, the open
quote swallowed every later line: ``1 lines, 3 events published, 0 rejected``, exit 0, and re-runs read nothing."""

from __future__ import annotations

from pathlib import Path

from adapters.base.checkpoint import Checkpoint
from adapters.call_center import mapper_asterisk
from adapters.call_center.ingress_file import CdrFileReader
from tests.adapters.call_center.support import context
from tests.adapters.web.support import StandInPublisher


def cdr(minute: int) -> str:
    """A whole answered CDR of call ``612345<minute>`` (the reported sample's ``mk``)."""
    return (f'"","6123456{minute}","600","from-pstn","<6123456{minute}>","SIP/trunk-0001","SIP/600-0002","Dial",'
            f'"SIP/600,30","2026-12-05 09:{minute}:00","2026-12-05 09:{minute}:12","2026-12-05 09:{minute}:50","50",'
            f'"38","ANSWERED","DOCUMENTATION","17333900{minute}.1",""')


CUT = '"","612345621","600","from-pstn","""Ana Gar'  # cut inside a quoted field holding an escaped ""


def _reader(path: Path, tmp_path: Path, publisher: StandInPublisher) -> CdrFileReader:
    return CdrFileReader(path, context(), publisher, Checkpoint(tmp_path / "checkpoint.json"))  # type: ignore[arg-type]


def _refused_lines(publisher: StandInPublisher) -> list[int]:
    return [int(dict(raw.headers)["file.line"]) for raw, _ in publisher.rejected]


async def test_the_reported_file_refuses_the_cut_line_and_publishes_the_calls_after_it(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    master.write_text(f"{cdr(20)}\n{CUT}{cdr(22)}\n{cdr(23)}\n{cdr(24)}\n")  # the 612345622 call glued to the cut
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available(to_end=True)
    assert report.summary("Master.csv") == "Master.csv: 4 lines, 9 events published, 0 duplicates, 1 rejected"
    (raw, error), = publisher.rejected
    assert error.code == "truncated" and error.reason.startswith("Master.csv line 2: unclosed quote")
    assert raw.value == f"{CUT}{cdr(22)}".encode()  # the cut line alone, nothing after it


async def test_a_cut_last_line_is_refused_and_lines_appended_later_are_read_from_after_it(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    master.write_text(f"{cdr(20)}\n\"garbage line with no columns\n")
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available(to_end=True)
    assert (report.lines, report.rejected, _refused_lines(publisher)) == (2, 1, [2])
    with master.open("a") as handle:
        handle.write(f"{cdr(23)}\n{cdr(24)}\n")
    again = StandInPublisher()
    report = await _reader(master, tmp_path, again).read_available(to_end=True)
    assert report.summary("Master.csv") == "Master.csv: 2 lines, 6 events published, 0 duplicates, 0 rejected"


async def test_a_cut_first_line_two_cut_lines_and_a_crlf_file(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    master.write_bytes(f"{CUT}\r\n{cdr(22)}\r\n{CUT}\r\n{CUT}\r\n{cdr(23)}\r\n".encode())
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available(to_end=True)
    assert (report.lines, report.rejected, report.published_events) == (5, 3, 6)
    assert _refused_lines(publisher) == [1, 3, 4]
    assert all(not raw.value.endswith(b"\r") for raw, _ in publisher.rejected)


async def test_a_cut_line_still_being_written_is_left_while_following_and_refused_at_the_end(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    master.write_text(f"{cdr(20)}\n{CUT}")  # no newline yet: Asterisk may still be writing it
    publisher = StandInPublisher()
    assert (await _reader(master, tmp_path, publisher).read_available()).lines == 1 and not publisher.rejected
    report = await _reader(master, tmp_path, publisher).read_available(to_end=True)
    assert (report.lines, report.rejected, _refused_lines(publisher)) == (1, 1, [2])


def test_a_posted_body_refuses_the_cut_line_alone_and_keeps_the_calls_after_it() -> None:
    """Over HTTP the two valid calls after the cut were folded into the one rejected record."""
    body = f"{cdr(20)}\n{CUT}{cdr(22)}\r\n{cdr(23)}\n{cdr(24)}\n".encode()
    items = mapper_asterisk.split_lines(body)
    assert [item.error.code if item.error else None for item in items] == [None, "truncated", None, None]
    assert [item.record for item in items] == [cdr(20), f"{CUT}{cdr(22)}", cdr(23), cdr(24)]
    assert items[1].raw == f"{CUT}{cdr(22)}".encode()
