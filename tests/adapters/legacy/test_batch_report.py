"""``import-batch`` and ``check-layout`` summaries of an export whose record spans several lines (a quoted field
with a line break, RFC 4180): records and lines are both said (tester48 F9: ``3 lines`` for a 4-line file)."""

from __future__ import annotations

from pathlib import Path

from adapters.legacy.batch_report import BatchReport
from adapters.legacy.ingress_batch import BatchImporter
from adapters.legacy.layout import load_layout
from adapters.legacy.layout_check import check_lines
from tests.adapters.legacy.support import legacy_context
from tests.adapters.web.support import StandInPublisher

SAMPLES = Path(__file__).parent / "samples"
HEADER = "CONTRACT_NO;CONTRACT_TYPE;OPENED;FIRST_NAME;LAST_NAME;DOB;ADDRESS;POSTCODE;CITY;PHONE;EMAIL\n"


def account(n: int, address: str = "1 rue X") -> str:
    return f"ELEC-500{n};residential;28/02/2022;Ana;Roca;01/01/1990;{address};7500{n};Paris;+3361234567{n};a{n}@x.fr\n"


def export(tmp_path: Path, *records: str) -> Path:
    path = tmp_path / "accounts.csv"
    path.write_text(HEADER + "".join(records))
    return path


async def import_summary(path: Path, tmp_path: Path) -> tuple[str, StandInPublisher]:
    publisher = StandInPublisher()
    importer = BatchImporter(legacy_context(), publisher, tmp_path / "state")  # type: ignore[arg-type]
    report = await importer.import_file(path, load_layout(SAMPLES / "accounts_layout.yaml"))
    return report.summary(path.name), publisher


async def test_tester48_f9_a_record_over_two_lines_is_one_record_of_two_lines(tmp_path: Path) -> None:
    path = export(tmp_path, account(1), account(2, '"2 rue Y\nBât. B"'), account(3))
    summary, publisher = await import_summary(path, tmp_path)
    assert summary == "accounts.csv: 3 records (4 lines), 3 events published, 0 duplicates, 0 rejected"
    assert len(publisher.submitted) == 3
    check = check_lines(path, load_layout(SAMPLES / "accounts_layout.yaml"), legacy_context())
    assert check.summary("accounts.csv") == (
        "accounts.csv: 3 records (4 lines) checked, 3 would be published as 3 events, 0 rejected")


async def test_every_shape_of_multi_line_records_counts_its_lines(tmp_path: Path) -> None:
    """Several multi-line fields in one record, CRLF line ends, a blank line inside the quotes, a multi-line record
    last without a final newline, and a cut line (refused, one line) after them: the lines are the file's lines after
    its header."""
    records = [account(1, '"a\r\nb\r\nc"').replace("\n", "\r\n").replace("\r\r\n", "\r\n"),
               account(2, '"x\n\ny"'), '"cut', "\n", account(3, '"last\nline"').rstrip("\n")]
    path = export(tmp_path, *records)
    # the lines after the header: as many as the newlines, the header's counted and the last line's missing
    lines = path.read_bytes().count(b"\n")
    summary, publisher = await import_summary(path, tmp_path)
    assert summary.startswith(f"accounts.csv: 4 records ({lines} lines), 3 events published, 0 duplicates, 1 rejected")
    check = check_lines(path, load_layout(SAMPLES / "accounts_layout.yaml"), legacy_context())
    assert check.summary("accounts.csv").startswith(f"accounts.csv: 4 records ({lines} lines) checked, 3 would be")


async def test_a_file_of_one_line_records_is_summed_up_as_before(tmp_path: Path) -> None:
    summary, _ = await import_summary(export(tmp_path, account(1), account(2)), tmp_path)
    assert summary == "accounts.csv: 2 lines, 2 events published, 0 duplicates, 0 rejected"


def test_a_report_that_names_its_events_by_kind() -> None:
    """The events of several kinds a file published are named: a line whose identifier was dropped adds an
    ``IdentifiersObserved`` with the refusal (tester48 F9: ``3 lines, 4 events``)."""
    report = BatchReport("c" * 64, lines=3, physical_lines=4, published_events=4)
    report.event_kinds.update({"BillIssued": 3, "IdentifiersObserved": 1})
    assert report.summary("bills.csv") == (
        "bills.csv: 3 records (4 lines), 4 events published (3 BillIssued, 1 IdentifiersObserved), 0 duplicates, "
        "0 rejected")
