"""A ``Master.csv`` line cut inside a quoted field (a crash or a full disk mid-write, Asterisk then appending the next
records): its quote is not closed by lines that make one CDR with it (a CDR whose field holds a line break is read
whole: ``test_ingress_file_multiline.py``), so the cut line is refused alone (``unclosed quote``) and
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
COLUMNS = context().settings.asterisk_columns  # the test site's: cdr.conf's default columns


def calls_published(calls: int) -> str:
    """What the summary says of ``calls`` CDRs published: three events each, named by kind."""
    kinds = ", ".join(f"{calls} {kind}" for kind in ("CallCompleted", "IdentifiersObserved", "InteractionRecorded"))
    return f"{3 * calls} events published ({kinds})"


def _reader(path: Path, tmp_path: Path, publisher: StandInPublisher) -> CdrFileReader:
    return CdrFileReader(path, context(), publisher, Checkpoint(tmp_path / "checkpoint.json"))  # type: ignore[arg-type]


def _refused_lines(publisher: StandInPublisher) -> list[int]:
    return [int(dict(raw.headers)["file.line"]) for raw, _ in publisher.rejected]


async def test_the_reported_file_refuses_the_cut_line_and_publishes_the_calls_after_it(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    master.write_text(f"{cdr(20)}\n{CUT}{cdr(22)}\n{cdr(23)}\n{cdr(24)}\n")  # the 612345622 call glued to the cut
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert report.summary("Master.csv") == f"Master.csv: 4 lines, {calls_published(3)}, 0 duplicates, 1 rejected"
    (raw, error), = publisher.rejected
    assert error.code == "truncated" and error.reason.startswith("Master.csv line 2: unclosed quote")
    assert raw.value == f"{CUT}{cdr(22)}".encode()  # the cut line alone, nothing after it


async def test_a_cut_last_line_is_left_then_refused_alone_once_whole_cdrs_follow_it(tmp_path: Path) -> None:
    """At the file's end a line inside a quoted field may be a CDR whose field's line break is written before its rest:
    left for the next run; once whole CDRs follow it, it was cut: refused alone, the CDRs after it published."""
    master = tmp_path / "Master.csv"
    master.write_text(f"{cdr(20)}\n\"garbage line with no columns\n")
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert (report.lines, report.rejected, report.unended, report.unended_open) == (1, 0, 2, True)
    with master.open("a") as handle:
        handle.write(f"{cdr(23)}\n{cdr(24)}\n")
    again = StandInPublisher()
    report = await _reader(master, tmp_path, again).read_available()
    assert report.summary("Master.csv") == f"Master.csv: 3 lines, {calls_published(2)}, 0 duplicates, 1 rejected"
    assert _refused_lines(again) == [2]


async def test_a_cut_first_line_two_cut_lines_and_a_crlf_file(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    master.write_bytes(f"{CUT}\r\n{cdr(22)}\r\n{CUT}\r\n{CUT}\r\n{cdr(23)}\r\n".encode())
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert (report.lines, report.rejected, report.published_events) == (5, 3, 6)
    assert _refused_lines(publisher) == [1, 3, 4]
    assert all(not raw.value.endswith(b"\r") for raw, _ in publisher.rejected)


async def test_a_half_written_last_line_is_left_by_a_one_shot_import_and_published_once_complete(
    tmp_path: Path,
) -> None:
    """The reported sample: a one-shot import while Asterisk was writing call 52 refused its first 70 bytes as cut and
    checkpointed past them; the next run refused the rest as another cut line: call 52 was never published."""
    master = tmp_path / "Master.csv"
    whole = cdr(52)
    master.write_text(f"{cdr(51)}\n{whole[:70]}")  # no newline yet: Asterisk is still writing it
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert report.summary("Master.csv") == (f"Master.csv: 1 line, {calls_published(1)}, 0 duplicates, 0 rejected, "
                                            "1 line not ended yet (line 2, no newline), left for the next run")
    assert not publisher.rejected and report.rejected == 0  # import-cdr exits 0, as for a clean run
    with master.open("a") as handle:
        handle.write(f"{whole[70:]}\n{cdr(53)}\n")  # Asterisk finishes the line, writes another
    again = StandInPublisher()
    report = await _reader(master, tmp_path, again).read_available()
    assert report.summary("Master.csv") == f"Master.csv: 2 lines, {calls_published(2)}, 0 duplicates, 0 rejected"
    published = [record.dedupe_id.split("/")[1].split("@")[0] for record in again.submitted]  # the calls' uniqueids
    assert not again.rejected and published == ["1733390052.1", "1733390053.1"]


async def test_a_file_that_ends_in_a_cut_line_that_never_grows_says_so_at_every_run(tmp_path: Path) -> None:
    """Never read, never silently ignored: each run's summary names the line; its newline leaves it a record open at
    the file's end (said so too), refused as cut once a whole CDR follows it."""
    master = tmp_path / "Master.csv"
    master.write_text(f"{cdr(20)}\n{CUT}")
    publisher = StandInPublisher()
    assert (await _reader(master, tmp_path, publisher).read_available()).lines == 1
    for _ in range(2):
        report = await _reader(master, tmp_path, publisher).read_available()
        assert (report.lines, report.rejected, report.unended) == (0, 0, 2) and not publisher.rejected
        summary = report.summary("Master.csv")
        assert summary.endswith(", 1 line not ended yet (line 2, no newline), left for the next run")
    with master.open("a") as handle:
        handle.write("\n")
    report = await _reader(master, tmp_path, publisher).read_available()
    assert (report.lines, report.rejected, report.unended) == (0, 0, 2) and not publisher.rejected
    assert report.summary("Master.csv").endswith(", 1 record not ended yet (line 2, inside a quoted field), left for "
                                                 "the next run")
    with master.open("a") as handle:
        handle.write(f"{cdr(23)}\n")
    report = await _reader(master, tmp_path, publisher).read_available()
    assert (report.lines, report.rejected, report.unended, _refused_lines(publisher)) == (2, 1, 0, [2])


def test_a_posted_body_refuses_the_cut_line_alone_and_keeps_the_calls_after_it() -> None:
    """Over HTTP the two valid calls after the cut were folded into the one rejected record."""
    body = f"{cdr(20)}\n{CUT}{cdr(22)}\r\n{cdr(23)}\n{cdr(24)}\n".encode()
    items = mapper_asterisk.split_lines(body, COLUMNS)
    assert [item.error.code if item.error else None for item in items] == [None, "truncated", None, None]
    assert [item.record for item in items] == [cdr(20), f"{CUT}{cdr(22)}", cdr(23), cdr(24)]
    assert items[1].raw == f"{CUT}{cdr(22)}".encode()
