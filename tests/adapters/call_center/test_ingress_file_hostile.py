"""``import-cdr`` (issue #10 case 13): a bad line costs only itself, and a finished file's last line is
read even without a newline (a followed file's is left until it is complete)."""

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
    assert dict(publisher.rejected[0][0].headers)["file.offset"] == str(len(lines[0]) + 1).encode()


async def test_a_last_line_without_newline_is_imported_at_the_end_but_not_while_following(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    master.write_text("\n".join(master_lines()))  # no newline after the last line
    publisher = StandInPublisher()
    assert (await _reader(master, tmp_path, publisher).read_available()).lines == 2  # still being written?
    report = await _reader(master, tmp_path, publisher).read_available(to_end=True)
    assert report.lines == 1 and len(publisher.submitted) == 3
    assert (await _reader(master, tmp_path, publisher).read_available(to_end=True)).lines == 0
