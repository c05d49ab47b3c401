"""tester32 F2 (a UK mobile operator): a full snapshot master that no longer lists a subscriber closes the account.

The nightly subscriber master lists every account; a customer who ported out is simply not in the next night's file.
Before, nothing was published for the missing line, so the number stayed on the old customer for good. A layout with
``snapshot: true`` closes each account the previous snapshot listed and this one does not (``AccountClosed``, a
revision of the gone line: ``adapters.legacy.snapshot``); a delta layout never does; importing the same snapshot again
closes nothing more.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from adapters.legacy import ingress_batch
from adapters.legacy.cli import exit_reasons, import_exit_code
from adapters.legacy.ingress_batch import BatchImporter
from adapters.legacy.layout import Layout
from adapters.legacy.mapper import LegacyContext
from adapters.legacy.snapshot import GONE_REASON, SNAPSHOTS_FILE
from bus.topics import BUSINESS_EVENTS
from tests.adapters.legacy.test_ingress_batch import _Publisher, start_importer
from tests.support.kafka_io import read_dead_letters, read_events
from tests.support.settings import settings_with_topics

CLOSED = "omnibus.business.AccountClosed"
SUBSCRIBERS = {
    "name": "subscribers", "format": "csv", "event": "AccountOpened", "key": ["account_number"], "snapshot": True,
    "phone_region": "GB",
    "fields": {"account_number": {"column": "ACCOUNT"}, "account_type": {"value": "mobile"},
               "mobile": {"column": "MSISDN"}, "full_name": {"column": "NAME"}},
}
HEADER = "ACCOUNT,MSISDN,NAME"
ALICE, BOB, CAROL = "UK-1001,07911 123401,Alice Reed", "UK-1002,07911 123402,Bob Hale", "UK-1003,07911 123403,Carol Ng"


def _importer(tmp_path: Path, publisher: Any) -> BatchImporter:
    ctx = LegacyContext("subscriber-master", "business", identity_topic="observed", phone_region="GB")
    return BatchImporter(ctx, publisher, tmp_path / "state", chunk_lines=2)  # type: ignore[arg-type]


def _night(tmp_path: Path, name: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def _closed(publisher: Any) -> list[dict[str, Any]]:
    return [event.value for event in (out.event for out in publisher.events) if event.schema == CLOSED]


async def test_an_account_the_next_snapshot_no_longer_lists_is_closed_once(tmp_path: Path) -> None:
    """Night 2 has no Bob (ported out): his account is closed, undated (the export's time), as a revision of his line
    (``@``: identity's record lines see the line stop giving his number), counted in the summary; night 3 (the same
    accounts again, another file), night 3 imported again (``already imported``) and night 2 imported again (an
    earlier snapshot: read again as the whole list, the same accounts as night 3) close nothing more."""
    publisher = _Publisher()
    importer, layout = _importer(tmp_path, publisher), Layout.model_validate(SUBSCRIBERS)
    first = await importer.import_file(_night(tmp_path, "n1.csv", ALICE, BOB, CAROL), layout)
    assert first.gone.closed == 0 and not _closed(publisher)
    second = await importer.import_file(_night(tmp_path, "n2.csv", ALICE, CAROL), layout)
    assert second.summary("n2.csv") == ("n2.csv: 2 lines, 0 events published, 2 duplicate lines, 0 rejected, "
                                        "1 account closed (gone from the snapshot)")
    (closed,) = _closed(publisher)
    assert (closed["account_number"], closed["reason"], closed["undated"]) == ("UK-1002", GONE_REASON, True)
    assert "@" in closed["envelope"]["source_event_id"]
    third = await importer.import_file(_night(tmp_path, "n3.csv", CAROL, ALICE), layout)
    latest = await importer.import_file(tmp_path / "n3.csv", layout)
    copy = await importer.import_file(_night(tmp_path, "n4.csv", ALICE, CAROL), layout)  # night 2's bytes, later
    assert (third.gone.closed, third.published_events, latest.already_imported) == (0, 0, True)
    assert (copy.already_imported, copy.gone.read_again, copy.published_events) == (False, True, 0)
    assert len(_closed(publisher)) == 1


async def test_a_dated_snapshot_closes_with_a_dated_fact(tmp_path: Path) -> None:
    """A layout whose lines are dated (a last-changed column): the closure is dated too, at the file's time, since an
    undated close never closes an account a dated line opened (docs/legacy-batch.md, "A layout without
    occurred_at")."""
    publisher = _Publisher()
    dated = Layout.model_validate({**SUBSCRIBERS, "occurred_at": "changed", "fields": {
        **SUBSCRIBERS["fields"], "changed": {"value": "2026-11-02", "type": "date"}}})
    importer = _importer(tmp_path, publisher)
    await importer.import_file(_night(tmp_path, "n1.csv", ALICE, BOB), dated)
    await importer.import_file(_night(tmp_path, "n2.csv", ALICE), dated)
    (closed,) = _closed(publisher)
    assert closed["undated"] is False


async def test_a_delta_layout_never_closes_what_its_file_does_not_list(tmp_path: Path) -> None:
    publisher = _Publisher()
    importer, delta = _importer(tmp_path, publisher), Layout.model_validate({**SUBSCRIBERS, "snapshot": False})
    await importer.import_file(_night(tmp_path, "n1.csv", ALICE, BOB, CAROL), delta)
    second = await importer.import_file(_night(tmp_path, "n2.csv", CAROL), delta)
    assert second.gone.closed == 0 and not _closed(publisher)


async def test_a_subscriber_listed_again_after_the_closure_is_a_changed_line_that_reopens(tmp_path: Path) -> None:
    """Bob comes back (the same line): not a duplicate of his line before the closure, a newer fact, counted as
    reopened (not as a changed line: his line is as it was)."""
    publisher = _Publisher()
    importer, layout = _importer(tmp_path, publisher), Layout.model_validate(SUBSCRIBERS)
    for night, rows in (("n1.csv", (ALICE, BOB)), ("n2.csv", (ALICE,))):
        await importer.import_file(_night(tmp_path, night, *rows), layout)
    back = await importer.import_file(_night(tmp_path, "n3.csv", BOB, ALICE), layout)  # another file
    assert (back.published_events, back.changed, back.gone.reopened, back.gone.closed) == (2, 0, 1, 0)
    assert back.summary("n3.csv") == ("n3.csv: 2 lines, 2 events published (1 AccountOpened, 1 IdentifiersObserved), "
                                      "1 duplicate line, 0 rejected, "
                                      "1 account reopened (listed again after a snapshot closed it)")


async def test_a_snapshot_with_a_rejected_line_closes_nothing(tmp_path: Path) -> None:
    """A line the import could not read may be one of the accounts that look gone: nothing is closed, and said so."""
    publisher = _Publisher()
    importer, layout = _importer(tmp_path, publisher), Layout.model_validate(SUBSCRIBERS)
    await importer.import_file(_night(tmp_path, "n1.csv", ALICE, BOB, CAROL), layout)
    second = await importer.import_file(_night(tmp_path, "n2.csv", ALICE, ",07911 123402,Bob Hale"), layout)
    assert second.gone.closed == 0 and not _closed(publisher)
    assert second.summary("n2.csv").endswith(", 1 rejected, a snapshot with rejected lines: nothing closed")


async def test_a_gone_line_of_an_account_another_line_still_lists_is_counted_not_closed(tmp_path: Path) -> None:
    """A family plan's line (keyed by account and mobile) ported out while the account's other lines stay: closing
    the account would end theirs too."""
    publisher = _Publisher()
    family = Layout.model_validate({**SUBSCRIBERS, "key": ["account_number", "mobile"]})
    importer = _importer(tmp_path, publisher)
    payer, child = "UK-2001,07911 123411,Dan Shaw", "UK-2001,07911 123412,Dan Shaw"
    await importer.import_file(_night(tmp_path, "n1.csv", payer, child), family)
    second = await importer.import_file(_night(tmp_path, "n2.csv", payer), family)
    assert (second.gone.closed, second.gone.kept_open) == (0, 1) and not _closed(publisher)
    assert second.summary("n2.csv").endswith(", 1 line gone from the snapshot, their account still listed: not closed")


async def test_an_earlier_snapshot_come_back_closes_what_the_latest_listed_and_it_does_not(tmp_path: Path) -> None:
    """tester34 F5 (a Polish operator): Monday lists Alice, Tuesday Alice and Bob (a new subscriber), Wednesday's export
    is byte-identical to Monday's (Bob's contract ended). Before, Wednesday was "already imported" and Bob's account
    never closed; now only the layout's latest snapshot is: Wednesday is read as the whole list and Bob is closed."""
    publisher = _Publisher()
    importer, layout = _importer(tmp_path, publisher), Layout.model_validate(SUBSCRIBERS)
    await importer.import_file(_night(tmp_path, "monday.csv", ALICE), layout)
    await importer.import_file(_night(tmp_path, "tuesday.csv", ALICE, BOB), layout)
    wednesday_file = _night(tmp_path, "wednesday.csv", ALICE)  # byte-identical to Monday's
    wednesday = await importer.import_file(wednesday_file, layout)
    assert (wednesday.already_imported, wednesday.gone.closed) == (False, 1)
    assert [closed["account_number"] for closed in _closed(publisher)] == ["UK-1002"]
    assert wednesday.summary("wednesday.csv").endswith(
        "1 account closed (gone from the snapshot), "
        "the same content as an earlier night's file: read again as tonight's whole list")
    redelivered = await importer.import_file(wednesday_file, layout)  # the same night's file again: a no-op
    assert (redelivered.already_imported, redelivered.published_events) == (True, 0)
    assert len(_closed(publisher)) == 1


async def test_an_earlier_snapshot_come_back_reopens_what_the_latest_closed(tmp_path: Path) -> None:
    """The other way round: Monday lists Alice and Bob, Tuesday only Alice (Bob closed), Wednesday is Monday's file
    again (Bob reinstated): his line is published again as a newer fact, which reopens his account."""
    publisher = _Publisher()
    importer, layout = _importer(tmp_path, publisher), Layout.model_validate(SUBSCRIBERS)
    await importer.import_file(_night(tmp_path, "monday.csv", ALICE, BOB), layout)
    tuesday = await importer.import_file(_night(tmp_path, "tuesday.csv", ALICE), layout)
    wednesday = await importer.import_file(_night(tmp_path, "wednesday.csv", ALICE, BOB), layout)  # Monday's bytes
    assert tuesday.gone.closed == 1
    assert (wednesday.already_imported, wednesday.gone.reopened, wednesday.changed, wednesday.published_events) == (
        False, 1, 0, 2)
    thursday = await importer.import_file(_night(tmp_path, "thursday.csv", ALICE), layout)
    assert thursday.gone.closed == 1 and len(_closed(publisher)) == 2  # closed again, as a newer revision


async def test_an_empty_snapshot_closes_nothing_and_says_so(tmp_path: Path) -> None:
    """A header and no line (the export failed upstream) would close every account the layout listed: nothing is
    closed, the summary says why, and the next real snapshot closes against the last one that listed accounts."""
    publisher = _Publisher()
    importer, layout = _importer(tmp_path, publisher), Layout.model_validate(SUBSCRIBERS)
    await importer.import_file(_night(tmp_path, "n1.csv", ALICE, BOB, CAROL), layout)
    empty = await importer.import_file(_night(tmp_path, "n2.csv"), layout)
    assert (empty.gone.closed, empty.gone.empty, _closed(publisher)) == (0, True, [])
    assert empty.summary("n2.csv") == (
        "n2.csv: 0 lines, 0 events published, 0 duplicates, 0 rejected, an empty snapshot: nothing closed; the next "
        "snapshot with lines closes what it no longer lists (--allow-mass-close closes every account)")
    third = await importer.import_file(_night(tmp_path, "n3.csv", ALICE, CAROL), layout)
    assert third.gone.closed == 1 and [closed["account_number"] for closed in _closed(publisher)] == ["UK-1002"]


async def test_a_snapshot_older_than_the_latest_is_not_imported_and_closes_nothing(tmp_path: Path) -> None:
    """tester35 F2: Tuesday's file (Alice) arrives after Wednesday's (Alice, Bob, Carol), or one command names both in
    the wrong order: closing Bob and Carol (Carol's closure dated before she opened) was wrong. A snapshot file older
    (by its time) than the layout's latest is no news: not imported, nothing published or closed, said so, exit 3."""
    publisher = _Publisher()
    importer, layout = _importer(tmp_path, publisher), Layout.model_validate(SUBSCRIBERS)
    tuesday = _night(tmp_path, "tuesday.csv", ALICE)
    wednesday = _night(tmp_path, "wednesday.csv", ALICE, BOB, CAROL)
    os.utime(tuesday, (time.time() - 86400, time.time() - 86400))
    await importer.import_file(wednesday, layout)
    late = await importer.import_file(tuesday, layout)
    assert late.gone.older_than is not None and late.gone.needs_a_look and import_exit_code([late]) == 3
    assert (late.published_events, late.lines, _closed(publisher)) == (0, 0, [])
    assert "tuesday.csv: older than the last snapshot of its layout imported (exported " in late.summary("tuesday.csv")
    thursday = await importer.import_file(_night(tmp_path, "thursday.csv", ALICE, CAROL), layout)
    assert [closed["account_number"] for closed in _closed(publisher)] == ["UK-1002"] and thursday.changed == 0


async def test_an_empty_snapshot_makes_import_batch_exit_3(tmp_path: Path) -> None:
    """tester35 F4: the empty export closed nothing but exited 0: a nightly scheduler saw success."""
    importer, layout = _importer(tmp_path, _Publisher()), Layout.model_validate(SUBSCRIBERS)
    await importer.import_file(_night(tmp_path, "n1.csv", ALICE, BOB), layout)
    empty = await importer.import_file(_night(tmp_path, "n2.csv"), layout)
    assert import_exit_code([empty]) == 3 and import_exit_code([empty], rejected_ok=True) == 3


async def test_the_error_line_says_which_way_a_snapshot_closed_nothing(tmp_path: Path) -> None:
    """A cron mail that keeps only stderr learnt "it is empty, or would close more accounts than ...": the ``error:``
    line of each refusal names its own, and none offers ``--rejected-ok``, which does not waive it."""
    importer, layout = _importer(tmp_path, _Publisher()), Layout.model_validate(SUBSCRIBERS)
    await importer.import_file(_night(tmp_path, "n1.csv", *(f"UK-{n},07911 12{n},Name {n}" for n in range(2000, 2030))),
                               layout)
    empty = await importer.import_file(_night(tmp_path, "n2.csv"), layout)
    cut = await importer.import_file(_night(tmp_path, "n3.csv", "UK-2000,07911 122000,Name 2000"), layout)
    (said_empty,), (said_cut,) = exit_reasons([empty]), exit_reasons([cut])
    assert said_empty.startswith("a full snapshot is empty") and "would close" not in said_empty
    assert said_cut.startswith("a full snapshot would close more accounts") and "empty" not in said_cut
    assert "--rejected-ok does not waive it" in said_empty and "--rejected-ok does not waive it" in said_cut


@pytest.mark.parametrize("text", ["", "\n", "\n" + ALICE + "\n"])
@pytest.mark.parametrize("snapshot", [True, False])
async def test_a_file_without_its_header_line_is_a_failed_export_exit_3(
        text: str, snapshot: bool, tmp_path: Path) -> None:
    """A zero-byte export (the most common failed export) exited 2, "bad settings", where a header-only one exits 3:
    a file with no header line is the export's fault, not the layout's. Nothing read, published or closed, not
    remembered: the complete export imported next is read in full."""
    publisher = _Publisher()
    importer, layout = _importer(tmp_path, publisher), Layout.model_validate({**SUBSCRIBERS, "snapshot": snapshot})
    await importer.import_file(_night(tmp_path, "n1.csv", ALICE, BOB), layout)
    before = len(publisher.events)
    failed = tmp_path / "n2.csv"
    failed.write_text(text)
    report = await importer.import_file(failed, layout)
    assert (report.no_header, report.lines, len(publisher.events)) == (True, 0, before)
    assert import_exit_code([report]) == 3 and import_exit_code([report], rejected_ok=True) == 3
    assert report.summary("n2.csv").startswith("n2.csv: no header line (the file is empty, or its first line is blank")
    assert exit_reasons([report])[0].startswith("an export file has no header line")
    failed.write_text("\n".join([HEADER, ALICE, CAROL]) + "\n")
    again = await importer.import_file(failed, layout)
    assert (again.no_header, again.already_imported, again.published_events > 0) == (False, False, True)


async def test_after_an_upgrade_an_old_snapshot_file_is_read_again_once(tmp_path: Path) -> None:
    """State of a version that did not record the latest snapshot (its ``latest`` table empty): a snapshot file it
    imported is read once more when it comes back (the same lines: duplicates, nothing closed), then it is the
    latest and "already imported"."""
    publisher = _Publisher()
    importer, layout = _importer(tmp_path, publisher), Layout.model_validate(SUBSCRIBERS)
    night = _night(tmp_path, "n1.csv", ALICE, BOB)
    await importer.import_file(night, layout)
    with sqlite3.connect(tmp_path / "state" / "batch" / SNAPSHOTS_FILE) as db:
        db.execute("DELETE FROM latest")
    again = await importer.import_file(night, layout)
    assert (again.already_imported, again.gone.read_again, again.published_events, again.duplicates) == (
        False, True, 0, 2)
    assert (await importer.import_file(night, layout)).already_imported


@pytest.mark.parametrize("change", [{"event": "BillIssued"}, {"key": []}])
def test_only_a_keyed_account_layout_can_be_a_snapshot(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="snapshot: a full snapshot closes the accounts it no longer lists"):
        Layout.model_validate({**SUBSCRIBERS, **change})


@pytest.mark.kafka
async def test_a_real_import_closes_the_gone_account_once_without_dead_letters(
    exit_stack: AsyncExitStack, bootstrap_servers: str, tmp_path: Path
) -> None:
    """Against the broker: night 2 without Bob publishes one ``AccountClosed`` of his account, nothing dead-lettered;
    a copy of night 2 under another name (a re-run of the export) closes nothing more."""
    settings = await settings_with_topics(bootstrap_servers)
    importer = await start_importer(exit_stack, settings, tmp_path / "state")
    layout = Layout.model_validate(SUBSCRIBERS)
    await importer.import_file(_night(tmp_path, "n1.csv", ALICE, BOB, CAROL), layout)
    second = await importer.import_file(_night(tmp_path, "n2.csv", ALICE, CAROL), layout)
    rerun = await importer.import_file(_night(tmp_path, "n2-copy.csv", ALICE, CAROL, ""), layout)
    assert (second.gone.closed, rerun.gone.closed, rerun.already_imported) == (1, 0, False)
    events = [landed.event for landed in await read_events(settings, BUSINESS_EVENTS)]
    assert [event.value["account_number"] for event in events if event.schema == CLOSED] == ["UK-1002"]
    assert await read_dead_letters(settings) == []


async def test_a_snapshot_whose_file_time_is_ahead_of_the_clock_stamps_one_instant(tmp_path: Path) -> None:
    """A night whose modification time lies ahead of the importer's clock (an exporting host whose clock runs ahead,
    a copy that kept its time): its lines and its closures are moved back once, to one instant no later than the
    import, not each to its own mapping instant: a closure stamped after the new subscriber's line of the same number
    kept the number with the old holder (``tests/processors/identity/graph/test_snapshot_recycle_one_file.py``)."""
    publisher = _Publisher()
    importer, layout = _importer(tmp_path, publisher), Layout.model_validate(SUBSCRIBERS)
    await importer.import_file(_night(tmp_path, "n1.csv", ALICE, BOB), layout)
    ahead = time.time() + 6 * 3600
    night = _night(tmp_path, "n2.csv", ALICE.replace("Reed", "Reed-Ng"), CAROL)
    os.utime(night, (ahead, ahead))
    start = len(publisher.events)
    report = await importer.import_file(night, layout)
    stamps = {out.event.value["envelope"]["occurred_at"] for out in publisher.events[start:]}
    assert report.gone.closed == 1 and len(stamps) == 1
    assert stamps.pop().timestamp() <= time.time()


async def test_a_file_dated_ahead_of_the_clock_is_said_in_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The move back was only counted in a metric, and ``import-batch`` serves none: a bank never learnt that its export
    host's clock ran hours fast. One warning per file names it and how far ahead; a file on time says nothing."""
    from structlog.testing import capture_logs

    from bus.logging import get_logger

    monkeypatch.setattr(ingress_batch, "log", get_logger(ingress_batch.__name__))  # a new lazy logger (cached ones hide)
    importer, layout = _importer(tmp_path, _Publisher()), Layout.model_validate(SUBSCRIBERS)
    with capture_logs() as logs:
        await importer.import_file(_night(tmp_path, "n1.csv", ALICE, BOB), layout)
    assert not [line for line in logs if "ahead of our clock" in line["event"]]
    night = _night(tmp_path, "n2.csv", ALICE, BOB, CAROL)
    os.utime(night, (time.time() + 3 * 3600, time.time() + 3 * 3600))
    with capture_logs() as logs:
        await importer.import_file(night, layout)
    (line,) = [line for line in logs if "ahead of our clock" in line["event"]]
    assert line["log_level"] == "warning" and line["file"] == "n2.csv" and 3 * 3600 - 120 < line["ahead_s"] <= 3 * 3600


async def test_an_interrupted_import_resumes_with_the_instant_it_stamped(tmp_path: Path) -> None:
    """The instant a file ahead of the clock was moved back to is kept in its checkpoint: the run that resumes it
    stamps its remaining lines and its closures with it, not with its own clock."""
    publisher = _Publisher()
    importer, layout = _importer(tmp_path, publisher), Layout.model_validate(SUBSCRIBERS)
    await importer.import_file(_night(tmp_path, "n1.csv", ALICE, BOB), layout)
    ahead = time.time() + 6 * 3600
    night = _night(tmp_path, "n2.csv", CAROL, ALICE)
    os.utime(night, (ahead, ahead))
    stamped = "2026-01-02T03:04:05+00:00"
    checkpoint = importer.checkpoint(layout, ingress_batch.file_checksum(night))
    checkpoint.save({"file": night.name, "offset": len(f"{HEADER}\n".encode()), "line": 1, "complete": False,
                     "accepted": 0, "rejected": 0, "exported_at": stamped})
    start = len(publisher.events)
    await importer.import_file(night, layout)
    stamps = {out.event.value["envelope"]["occurred_at"] for out in publisher.events[start:]}
    assert {stamp.isoformat() for stamp in stamps} == {stamped}


async def test_a_snapshot_dated_ahead_of_the_clock_never_makes_the_next_exports_older(tmp_path: Path) -> None:
    """A file whose time lies ahead of our clock (the exporting host's clock runs fast, ``cp -p``) was remembered as the
    layout's latest with that time: every export until then was refused as older, exit 3, for days. Its time is moved
    back as its records' is (``export_time``), and a latest remembered ahead of the clock before that is not compared."""
    publisher = _Publisher()
    importer, layout = _importer(tmp_path, publisher), Layout.model_validate(SUBSCRIBERS)
    tomorrow = _night(tmp_path, "tomorrow.csv", ALICE, BOB, CAROL)
    os.utime(tomorrow, (time.time() + 86400, time.time() + 86400))
    await importer.import_file(tomorrow, layout)
    tonight = await importer.import_file(_night(tmp_path, "tonight.csv", ALICE, CAROL), layout)
    assert tonight.gone.older_than is None and tonight.gone.closed == 1
    with sqlite3.connect(tmp_path / "state" / "batch" / SNAPSHOTS_FILE) as db:  # as a release before the rule remembered it
        db.execute("UPDATE latest SET taken_at = ?", ["2099-01-01T00:00:00+00:00"])
    after = await importer.import_file(_night(tmp_path, "after.csv", ALICE), layout)
    assert after.gone.older_than is None and after.gone.closed == 1
    assert [closed["account_number"] for closed in _closed(publisher)] == ["UK-1002", "UK-1003"]
