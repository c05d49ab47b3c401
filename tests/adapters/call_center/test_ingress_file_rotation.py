"""``import-cdr`` (one-shot and ``--follow``) on a ``Master.csv`` rotated between two reads. The checkpoint was inode +
byte offset only: a file truncated in place (logrotate ``copytruncate``) and written again past the old offset was
resumed mid-file, the CDRs before the old offset skipped silently, exit 0 and a clean summary (tester53 F10). A file
rotated in any way (``adapters.call_center.rotation``) is now read from its start, the summary and one log line saying
so; the CDRs read again that were already published carry the same version ids, which the dedupe store drops."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from adapters.base.checkpoint import Checkpoint
from adapters.call_center import ingress_file
from bus.logging import get_logger
from tests.adapters.call_center.test_ingress_file_cut import _reader, calls_published, cdr
from tests.adapters.call_center.test_ingress_file_open_record import uniqueids
from tests.adapters.web.support import StandInPublisher


def _lines(*minutes: int) -> str:
    return "".join(f"{cdr(minute)}\n" for minute in minutes)


def _rewrite_in_place(path: Path, text: str) -> None:
    """logrotate's ``copytruncate`` (the copy left out), then Asterisk writing again: the same inode."""
    inode = path.stat().st_ino
    with path.open("r+") as handle:
        handle.truncate(0)
        handle.write(text)
    assert path.stat().st_ino == inode


async def test_tester53_f10_a_file_truncated_in_place_and_written_past_the_old_offset_is_read_from_its_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reported sample: one CDR imported; the file truncated and three CDRs written (longer than before)."""
    master = tmp_path / "Master.csv"
    master.write_text(_lines(21))
    assert (await _reader(master, tmp_path, StandInPublisher()).read_available()).lines == 1
    _rewrite_in_place(master, _lines(22, 23, 24))
    publisher = StandInPublisher()
    monkeypatch.setattr(ingress_file, "log", get_logger(ingress_file.__name__))  # first used inside capture_logs
    with capture_logs() as logs:
        report = await _reader(master, tmp_path, publisher).read_available()
    assert report.summary("Master.csv") == f"Master.csv: 3 lines, {calls_published(3)}, 0 duplicates, 0 rejected, " \
                                           "read from its start (truncated and written again since the last read)"
    assert uniqueids(publisher) == ["1733390022.1", "1733390023.1", "1733390024.1"]
    (line,) = [entry for entry in logs if entry["log_level"] == "warning"]
    assert (line["file"], line["cause"]) == ("Master.csv", "truncated and written again")  # no identifier values
    assert "1733390" not in str(line) and "61234" not in str(line)
    again = await _reader(master, tmp_path, StandInPublisher()).read_available()
    assert (again.lines, again.restarted) == (0, {})  # read once: the checkpoint is at the new end


async def test_a_rewrite_of_the_same_size_and_a_shorter_one_are_read_from_their_start(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    master.write_text(_lines(31))
    await _reader(master, tmp_path, StandInPublisher()).read_available()
    _rewrite_in_place(master, _lines(32))  # the very same size: only the bytes before the offset tell
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert (report.lines, uniqueids(publisher)) == (1, ["1733390032.1"])
    master.write_text(_lines(33, 34))
    await _reader(master, tmp_path, StandInPublisher()).read_available()
    _rewrite_in_place(master, _lines(35))  # shorter than the offset
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert report.summary("Master.csv").endswith(", 0 rejected, read from its start (truncated since the last read)")
    assert uniqueids(publisher) == ["1733390035.1"]


async def test_a_file_replaced_by_a_new_one_is_read_from_its_start_and_what_was_published_is_a_duplicate(
    tmp_path: Path,
) -> None:
    """logrotate's ``create``: the file moved away and a new one made at the path (another inode). A new file holding
    CDRs already published (a copy put back) is read whole; those CDRs carry the version ids they were published with,
    so the dedupe store drops them (``test_ingress_file.py``: the same against Kafka with the checkpoint lost)."""
    master = tmp_path / "Master.csv"
    master.write_text(_lines(41, 42))
    first = StandInPublisher()
    await _reader(master, tmp_path, first).read_available()
    master.rename(tmp_path / "Master.csv.1")
    master.write_text(_lines(41, 42, 43))
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert report.summary("Master.csv").endswith(", read from its start (replaced by a new file since the last read)")
    assert [record.dedupe_id for record in publisher.submitted[:2]] == [record.dedupe_id for record in first.submitted]
    assert uniqueids(publisher)[2:] == ["1733390043.1"]


async def test_following_reads_a_file_truncated_and_written_again_from_its_start_and_says_it_once(
    tmp_path: Path,
) -> None:
    """``import-cdr --follow``: a CDR read; the file truncated (a poll may see it empty) and CDRs written again."""
    master = tmp_path / "Master.csv"
    master.write_text(_lines(51))
    publisher = StandInPublisher()
    reader = _reader(master, tmp_path, publisher)
    stop = asyncio.Event()
    following = asyncio.create_task(reader.follow(stop, poll_s=0.01))
    for _ in range(500):
        await asyncio.sleep(0.01)
        if publisher.submitted:
            break
    master.write_text("")  # truncated, then polled empty several times
    await asyncio.sleep(0.1)
    with master.open("a") as handle:
        handle.write(_lines(52, 53))
    for _ in range(500):
        await asyncio.sleep(0.01)
        if len(publisher.submitted) == 3:
            break
    stop.set()
    total = await following
    assert uniqueids(publisher) == ["1733390051.1", "1733390052.1", "1733390053.1"]
    assert total.summary("Master.csv") == f"Master.csv: 3 lines, {calls_published(3)}, 0 duplicates, 0 rejected, " \
                                          "read from its start (truncated since the last read)"
    saved = Checkpoint(tmp_path / "checkpoint.json").load()
    assert saved is not None and (saved["offset"], saved["line"]) == (len(_lines(52, 53)), 2)


async def test_tester54_f9_the_cdrs_written_before_a_create_rotation_are_read_from_the_file_moved_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reported sample (logrotate ``create``, the README's advice): CDR 201 imported; Asterisk writes 202; the file
    moved to ``Master.csv.1`` and a new one made, 203 written; the next import published 201's successor 203 only, 202
    left unread in ``Master.csv.1``, exit 0. The rest of the file moved away (found by its inode) is read first."""
    master = tmp_path / "Master.csv"
    master.write_text(_lines(15))
    assert (await _reader(master, tmp_path, StandInPublisher()).read_available()).lines == 1
    with master.open("a") as handle:
        handle.write(_lines(16))
    master.rename(tmp_path / "Master.csv.1")
    master.write_text(_lines(17))
    publisher = StandInPublisher()
    monkeypatch.setattr(ingress_file, "log", get_logger(ingress_file.__name__))  # first used inside capture_logs
    with capture_logs() as logs:
        report = await _reader(master, tmp_path, publisher).read_available()
    assert uniqueids(publisher) == ["1733390016.1", "1733390017.1"]
    assert report.summary("Master.csv") == f"Master.csv: 2 lines, {calls_published(2)}, 0 duplicates, 0 rejected, " \
        "read from its start (replaced by a new file since the last read), the rest of the file moved away read " \
        "first (Master.csv.1)"
    assert [(entry["file"], entry.get("moved_to")) for entry in logs if entry["log_level"] == "warning"] == [
        ("Master.csv", "Master.csv.1"), ("Master.csv", None)]
    again = await _reader(master, tmp_path, StandInPublisher()).read_available()
    assert (again.lines, again.restarted, again.moved_rest) == (0, {}, [])


async def test_a_file_moved_away_out_of_reach_is_said_in_the_summary_and_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """logrotate's ``compress`` without ``delaycompress`` (or ``olddir``): the file moved away is not beside the new
    one; what it held after the last read cannot be read here: the summary and a warning say to import it by name."""
    master = tmp_path / "Master.csv"
    master.write_text(_lines(11))
    await _reader(master, tmp_path, StandInPublisher()).read_available()
    (tmp_path / "old").mkdir()
    master.rename(tmp_path / "old" / "Master.csv.1")  # logrotate's olddir (kept: a deleted file's inode is reused)
    master.write_text(_lines(12))
    publisher = StandInPublisher()
    monkeypatch.setattr(ingress_file, "log", get_logger(ingress_file.__name__))
    with capture_logs() as logs:
        report = await _reader(master, tmp_path, publisher).read_available()
    assert uniqueids(publisher) == ["1733390012.1"]
    assert report.summary("Master.csv").endswith(
        ", the file moved away not found beside it: CDRs written to it after the last read are not imported (import "
        "it by name)")
    assert any("not beside it" in entry["event"] and entry["after_line"] == 1 for entry in logs)


async def test_a_file_moved_away_and_written_again_is_not_taken_for_the_one_read(tmp_path: Path) -> None:
    """A file beside it with the old inode but other bytes before the offset (the inode reused) is not the file read:
    its fingerprint differs, so nothing of it is read and the summary says the one moved away was not found."""
    master = tmp_path / "Master.csv"
    master.write_text(_lines(21))
    await _reader(master, tmp_path, StandInPublisher()).read_available()
    moved = tmp_path / "Master.csv.1"
    master.rename(moved)
    _rewrite_in_place(moved, _lines(22, 23))  # same inode, other bytes before the offset
    master.write_text(_lines(24))
    publisher = StandInPublisher()
    report = await _reader(master, tmp_path, publisher).read_available()
    assert uniqueids(publisher) == ["1733390024.1"]
    assert report.moved_rest == [] and report.moved_lost == 1


async def test_following_reads_the_cdrs_left_in_a_file_moved_away_before_the_next_poll(tmp_path: Path) -> None:
    """``import-cdr --follow`` (tester54 F9, 00:23): CDR 108 appended, then the file moved and a new one made with 109
    before the next poll: 108 was never published. Both are now, 108 first."""
    master = tmp_path / "Master.csv"
    master.write_text(_lines(25))
    publisher = StandInPublisher()
    reader = _reader(master, tmp_path, publisher)
    stop = asyncio.Event()
    following = asyncio.create_task(reader.follow(stop, poll_s=0.2))
    for _ in range(500):
        await asyncio.sleep(0.01)
        if publisher.submitted:
            break
    with master.open("a") as handle:  # written and rotated between two polls
        handle.write(_lines(26))
    master.rename(tmp_path / "Master.csv.1")
    master.write_text(_lines(27))
    for _ in range(500):
        await asyncio.sleep(0.01)
        if len(publisher.submitted) == 3:
            break
    stop.set()
    total = await following
    assert uniqueids(publisher) == ["1733390025.1", "1733390026.1", "1733390027.1"]
    assert total.moved_rest == ["Master.csv.1"]


async def test_following_waits_for_the_file_between_a_rotation_s_rename_and_its_create(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``import-cdr --follow`` (tester55 F10): a poll between logrotate ``create``'s rename and its create found no
    file and the follower died with FileNotFoundError (exit 1); the CDRs after it waited for a restart. It now reads
    the rest of the file moved away, says once that it waits, and reads the new file when it comes."""
    master = tmp_path / "Master.csv"
    master.write_text(_lines(41))
    publisher = StandInPublisher()
    reader = _reader(master, tmp_path, publisher)
    stop = asyncio.Event()
    monkeypatch.setattr(ingress_file, "log", get_logger(ingress_file.__name__))  # first used inside capture_logs
    with capture_logs() as logs:
        following = asyncio.create_task(reader.follow(stop, poll_s=0.01))
        for _ in range(500):
            await asyncio.sleep(0.01)
            if publisher.submitted:
                break
        with master.open("a") as handle:
            handle.write(_lines(42))
        master.rename(tmp_path / "Master.csv.1")
        for _ in range(500):  # several polls while no file is at the path
            await asyncio.sleep(0.01)
            if len(publisher.submitted) == 2:
                break
        await asyncio.sleep(0.1)
        assert not following.done()
        master.write_text(_lines(43))
        for _ in range(500):
            await asyncio.sleep(0.01)
            if len(publisher.submitted) == 3:
                break
        stop.set()
        total = await following
    assert uniqueids(publisher) == ["1733390041.1", "1733390042.1", "1733390043.1"]
    assert total.moved_rest == ["Master.csv.1"]
    waits = [entry for entry in logs if "waiting for it" in entry["event"]]
    assert len(waits) == 1 and waits[0]["file"] == "Master.csv"
