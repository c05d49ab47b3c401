"""A full snapshot that would close too much of the base closes nothing (``adapters.legacy.snapshot.CloseLimit``).

A truncated export (the transfer cut after one line) still reads: before, every account it no longer listed was
closed, the whole base, and ``import-batch`` exited 0. Now a snapshot that would close more than
``SNAPSHOT_MAX_CLOSE_SHARE`` (10 %) of the keys listed before, and more than ``SNAPSHOT_MAX_CLOSE_FLOOR`` (10), is
refused as an empty one is: its lines (new and changed accounts) are published, no account is closed, the summary and
a warning say so with counts only, the run exits 3, and the same file imported again with ``--allow-mass-close``
closes them.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs
from typer.testing import CliRunner

from adapters.legacy.cli import app, import_exit_code
from adapters.legacy.ingress_batch import BatchImporter
from adapters.legacy.layout import Layout
from adapters.legacy.mapper import LegacyContext
from adapters.legacy.snapshot import CloseLimit
from tests.adapters.legacy.test_cli import _environment_on_the_broker
from tests.adapters.legacy.test_ingress_batch import _Publisher
from tests.adapters.legacy.test_snapshot import SUBSCRIBERS, _closed, _night

LAYOUT = Layout.model_validate(SUBSCRIBERS)


def _row(number: int, name: str = "Subscriber") -> str:
    return f"UK-{5000 + number},07911 {200000 + number},{name} {number}"


def _base(count: int) -> list[str]:
    return [_row(number) for number in range(count)]


def _importer(tmp_path: Path, publisher: Any, limit: CloseLimit | None = None) -> BatchImporter:
    ctx = LegacyContext("subscriber-master", "business", identity_topic="observed", phone_region="GB")
    return BatchImporter(ctx, publisher, tmp_path / "state", chunk_lines=7,  # type: ignore[arg-type]
                         close_limit=limit)


def _aged(path: Path, days: float) -> Path:
    """``path`` as exported ``days`` ago (its modification time): the nights of a test follow each other."""
    then = time.time() - days * 86400
    os.utime(path, (then, then))
    return path


async def test_a_truncated_export_closes_nothing_says_so_with_counts_and_exits_3(tmp_path: Path) -> None:
    """The reported case: 30 accounts, then a file cut after its first line. Nothing closed, no account number in
    the summary or the warning, exit 3; the next full night closes only what it no longer lists."""
    publisher = _Publisher()
    importer = _importer(tmp_path, publisher)
    await importer.import_file(_aged(_night(tmp_path, "n1.csv", *_base(30)), 2), LAYOUT)
    with capture_logs() as logs:
        cut = await importer.import_file(_aged(_night(tmp_path, "n2.csv", _row(0)), 1), LAYOUT)
    assert (cut.gone.closed, cut.gone.would_close, cut.gone.listed_before, _closed(publisher)) == (0, 29, 30, [])
    assert cut.gone.refused and import_exit_code([cut]) == 3 and import_exit_code([cut], rejected_ok=True) == 3
    assert cut.summary("n2.csv") == (
        "n2.csv: 1 line, 0 events published, 1 duplicate line, 0 rejected, a snapshot that would close 29 of the 30 "
        "accounts listed before, more than 10 % of them and more than 10: nothing closed; check the export (a "
        "truncated file?), then import it again with --allow-mass-close")
    (warning,) = [entry for entry in logs if entry["log_level"] == "warning"]
    assert (warning["would_close"], warning["listed_before"], warning["file"]) == (29, 30, "n2.csv")
    assert "UK-50" not in repr(logs) and "07911" not in repr(logs) and "UK-50" not in cut.summary("n2.csv")
    full = await importer.import_file(_night(tmp_path, "n3.csv", *_base(30)[2:]), LAYOUT)  # two ported out
    assert (full.gone.closed, full.gone.refused, import_exit_code([full])) == (2, False, 0)
    assert sorted(closed["account_number"] for closed in _closed(publisher)) == ["UK-5000", "UK-5001"]


async def test_a_normal_night_with_a_few_closures_passes(tmp_path: Path) -> None:
    publisher = _Publisher()
    importer = _importer(tmp_path, publisher)
    await importer.import_file(_aged(_night(tmp_path, "n1.csv", *_base(30)), 1), LAYOUT)
    night = await importer.import_file(_night(tmp_path, "n2.csv", *_base(27)), LAYOUT)
    assert (night.gone.closed, night.gone.refused, import_exit_code([night])) == (3, False, 0)
    assert len(_closed(publisher)) == 3
    assert night.summary("n2.csv").endswith(", 3 accounts closed (gone from the snapshot)")


@pytest.mark.parametrize(("base", "kept", "refused"), [
    (30, 27, False),  # 3 of 30: the share (10 %) exactly
    (30, 26, True),  # 4 of 30: beyond the share and the floor
    (5, 3, False),  # 2 of 5 (40 %): within the floor of 2
    (5, 2, True),  # 3 of 5: beyond the floor and the share
])
async def test_the_limit_is_the_larger_of_the_share_and_the_floor(
    tmp_path: Path, base: int, kept: int, refused: bool
) -> None:
    publisher = _Publisher()
    importer = _importer(tmp_path, publisher, CloseLimit(share=0.10, floor=2))
    await importer.import_file(_aged(_night(tmp_path, "n1.csv", *_base(base)), 1), LAYOUT)
    night = await importer.import_file(_night(tmp_path, "n2.csv", *_base(kept)), LAYOUT)
    assert (night.gone.refused, night.gone.closed, len(_closed(publisher))) == (
        (True, 0, 0) if refused else (False, base - kept, base - kept))


def test_a_close_limit_allows_up_to_its_share_or_floor_and_everything_when_waived() -> None:
    limit = CloseLimit(share=0.10, floor=10)
    assert limit.allows(10, 10) and limit.allows(10, 50) and not limit.allows(11, 100) and limit.allows(20, 200)
    assert not limit.allows(21, 200) and CloseLimit(waived=True).allows(1000, 1000)
    assert limit.describe() == "more than 10 % of them and more than 10"
    assert CloseLimit(share=0.025, floor=0).describe() == "more than 2.5 % of them and more than 0"


async def test_the_file_imported_again_with_the_flag_closes_once_and_is_then_already_imported(tmp_path: Path) -> None:
    """The operator checked the file (30 contracts did end) and imports it again with ``--allow-mass-close``: its lines
    are duplicates, the 29 accounts are closed; again, it is "already imported". Without the flag, the same file
    imported again is refused again (never "already imported" with its closures left undone)."""
    publisher = _Publisher()
    importer = _importer(tmp_path, publisher)
    await importer.import_file(_aged(_night(tmp_path, "n1.csv", *_base(30)), 1), LAYOUT)
    cut = _night(tmp_path, "n2.csv", _row(0))
    await importer.import_file(cut, LAYOUT)
    again = await importer.import_file(cut, LAYOUT)
    assert (again.already_imported, again.gone.would_close, again.duplicates, _closed(publisher)) == (
        False, 29, 1, [])
    checked = _importer(tmp_path, publisher, CloseLimit(waived=True))
    allowed = await checked.import_file(cut, LAYOUT)
    assert (allowed.gone.closed, allowed.gone.refused, allowed.duplicates, import_exit_code([allowed])) == (
        29, False, 1, 0)
    assert allowed.summary("n2.csv").endswith(", 29 accounts closed (gone from the snapshot)")
    rerun = await checked.import_file(cut, LAYOUT)
    assert (rerun.already_imported, len(_closed(publisher))) == (True, 29)
    assert (await importer.import_file(cut, LAYOUT)).already_imported  # without the flag too: nothing left to close


async def test_a_refused_snapshot_publishes_its_new_and_changed_lines_as_a_snapshot_with_rejected_lines_does(
    tmp_path: Path
) -> None:
    """One rule for a snapshot whose closures are withheld (rejected lines, empty, beyond the limit): its lines are
    published (a new account, a moved subscriber), only the closures wait."""
    publisher = _Publisher()
    importer = _importer(tmp_path, publisher)
    await importer.import_file(_aged(_night(tmp_path, "n1.csv", *_base(30)), 1), LAYOUT)
    before = len(publisher.events)
    cut = await importer.import_file(_night(tmp_path, "n2.csv", _row(0, "Renamed"), _row(99)), LAYOUT)
    assert (cut.gone.would_close, cut.changed, cut.published_events, _closed(publisher)) == (29, 1, 2, [])
    assert [out.event.value["account_number"] for out in publisher.events[before:]] == ["UK-5000", "UK-5099"]


async def test_a_refused_snapshot_is_not_the_latest_so_the_last_good_file_is_already_imported(tmp_path: Path) -> None:
    """The operator's other way out: the last good export imported again is "already imported" (not "older than the
    last snapshot"), closes nothing, and tomorrow's night closes against the whole base."""
    publisher = _Publisher()
    importer = _importer(tmp_path, publisher)
    good = _aged(_night(tmp_path, "n1.csv", *_base(30)), 2)
    await importer.import_file(good, LAYOUT)
    await importer.import_file(_aged(_night(tmp_path, "n2.csv", _row(0)), 1), LAYOUT)
    again = await importer.import_file(good, LAYOUT)
    assert (again.already_imported, again.gone.older_than, import_exit_code([again])) == (True, None, 0)
    night = await importer.import_file(_night(tmp_path, "n3.csv", *_base(29)), LAYOUT)
    assert (night.gone.closed, [closed["account_number"] for closed in _closed(publisher)]) == (1, ["UK-5029"])


async def test_an_empty_snapshot_imported_with_the_flag_closes_every_account(tmp_path: Path) -> None:
    publisher = _Publisher()
    importer = _importer(tmp_path, publisher)
    await importer.import_file(_aged(_night(tmp_path, "n1.csv", *_base(3)), 1), LAYOUT)
    empty = _night(tmp_path, "n2.csv")
    refused = await importer.import_file(empty, LAYOUT)
    assert (refused.gone.empty, import_exit_code([refused])) == (True, 3)
    allowed = await _importer(tmp_path, publisher, CloseLimit(waived=True)).import_file(empty, LAYOUT)
    assert (allowed.gone.empty, allowed.gone.closed, len(_closed(publisher))) == (False, 3, 3)


async def test_an_empty_snapshot_read_again_says_it_in_one_clause(tmp_path: Path) -> None:
    """An empty export whose bytes equal an earlier night's (an empty first night, listed accounts since): one clause,
    never both "nothing closed" and "read again as tonight's whole list"."""
    publisher = _Publisher()
    importer = _importer(tmp_path, publisher)
    await importer.import_file(_aged(_night(tmp_path, "n1.csv"), 2), LAYOUT)
    await importer.import_file(_aged(_night(tmp_path, "n2.csv", *_base(3)), 1), LAYOUT)
    repeat = await importer.import_file(_night(tmp_path, "n3.csv"), LAYOUT)  # night 1's bytes
    assert repeat.gone.read_again and repeat.gone.empty
    assert repeat.summary("n3.csv") == (
        "n3.csv: 0 lines, 0 events published, 0 duplicates, 0 rejected, an empty snapshot (the same content as an "
        "earlier night's file): nothing closed; the next snapshot with lines closes what it no longer lists "
        "(--allow-mass-close closes every account)")


@pytest.mark.kafka
def test_import_batch_exits_3_for_a_refused_snapshot_and_imports_it_with_allow_mass_close(
    monkeypatch: pytest.MonkeyPatch, bootstrap_servers: str, tmp_path: Path
) -> None:
    """The command, against the broker (its exit code was the rejected lines' alone: an empty snapshot exited 0):
    the floor set to 1, a night that closes 2 of 3 accounts exits 3 with an ``error:`` line; the same file with
    ``--allow-mass-close`` exits 0 and closes them."""
    _environment_on_the_broker(monkeypatch, bootstrap_servers, tmp_path)
    monkeypatch.setenv("OMNIBUS_ADAPTER_LEGACY__SNAPSHOT_MAX_CLOSE_FLOOR", "1")
    layout = tmp_path / "subscribers.json"
    layout.write_text(json.dumps(SUBSCRIBERS))
    runner = CliRunner()
    first = runner.invoke(app, ["import-batch", "--layout", str(layout),
                                str(_aged(_night(tmp_path, "n1.csv", *_base(3)), 1))])
    assert first.exit_code == 0, first.output
    arguments = ["import-batch", "--layout", str(layout), str(_night(tmp_path, "n2.csv", _row(0)))]
    refused = runner.invoke(app, arguments)
    assert refused.exit_code == 3, refused.output
    assert "a snapshot that would close 2 of the 3 accounts listed before, more than 10 % of them and more than 1: " \
        "nothing closed" in refused.output
    assert "error: a full snapshot would close more accounts than" in refused.output and "UK-500" not in refused.output
    assert "--rejected-ok: exit 0" not in refused.output  # it does not waive a held-back closure
    allowed = runner.invoke(app, [*arguments, "--allow-mass-close"])
    assert allowed.exit_code == 0, allowed.output
    assert "n2.csv: 1 line, 0 events published, 1 duplicate line, 0 rejected, 2 accounts closed" in allowed.output


async def test_a_snapshot_with_rejected_lines_read_again_says_it_in_one_clause(tmp_path: Path) -> None:
    publisher = _Publisher()
    importer = _importer(tmp_path, publisher)
    rows = (*_base(2), ",07911 299999,No Account")  # the last line has no account number: rejected
    await importer.import_file(_aged(_night(tmp_path, "n1.csv", *rows), 2), LAYOUT)
    await importer.import_file(_aged(_night(tmp_path, "n2.csv", *_base(3)), 1), LAYOUT)
    repeat = await importer.import_file(_night(tmp_path, "n3.csv", *rows), LAYOUT)  # night 1's bytes
    assert repeat.gone.read_again and repeat.gone.unsure and not _closed(publisher)
    assert repeat.summary("n3.csv").endswith(
        ", 1 rejected, a snapshot with rejected lines (the same content as an earlier night's file): nothing closed")
