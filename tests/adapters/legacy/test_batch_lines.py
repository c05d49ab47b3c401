"""The one reader of an export file's records (``batch_lines.file_records``), which ``import-batch`` and
``check-layout`` share."""

from io import BytesIO

import pytest

from adapters.legacy.batch_lines import FileRecord, file_records
from adapters.legacy.errors import LayoutError
from adapters.legacy.layout import load_layout
from tests.adapters.legacy.support import EXAMPLES

BILLS = load_layout(EXAMPLES / "bills_layout.yaml")  # csv, quotechar '"'
OVERDUE = load_layout(EXAMPLES / "overdue_layout.yaml")  # fixed-width
HEADER = (EXAMPLES / "bills.csv").read_text().splitlines()[0]
COLUMNS = BILLS.columns_from(HEADER)  # 9 columns


def test_a_quoted_field_over_two_lines_is_one_record_and_nothing_past_a_record_is_read() -> None:
    first_record = b'A-1;"2 rue\ndes Lilas";d;d;d;d;10;EUR;x\r\n'  # the header's 9 fields
    handle = BytesIO(first_record + b"A-2;3 rue Haute;20\n")
    records = file_records(handle, BILLS, 1, COLUMNS)  # the header read
    assert next(records) == FileRecord(2, first_record, 'A-1;"2 rue\ndes Lilas";d;d;d;d;10;EUR;x', 3)
    assert handle.tell() == len(first_record)  # the position a checkpoint saves after it
    assert next(records) == FileRecord(4, b"A-2;3 rue Haute;20\n", "A-2;3 rue Haute;20", 4)
    assert next(records, None) is None


def test_the_file_ending_inside_a_quoted_field_refuses_the_first_line_alone_and_reads_the_rest_again() -> None:
    handle = BytesIO(b'A-1;x;1\nA-2;"cut\nhere')
    assert list(file_records(handle, BILLS, 0, COLUMNS)) == [FileRecord(1, b"A-1;x;1\n", "A-1;x;1", 1),
                                                              FileRecord(2, b'A-2;"cut\n', None, 2),
                                                              FileRecord(3, b"here", "here", 3)]


def test_a_quote_in_a_fixed_width_line_joins_nothing() -> None:
    handle = BytesIO(b'12 "ab\n34 cd"\n')
    assert [record.text for record in file_records(handle, OVERDUE, 0, {})] == ['12 "ab', '34 cd"']


def test_a_record_not_in_the_layouts_encoding_is_a_layout_error_naming_its_first_line() -> None:
    handle = BytesIO("A-1;x;1\nA-2;Hélène;2\n".encode("latin-1"))
    records = file_records(handle, BILLS, 5, COLUMNS)
    assert next(records).line == 6
    with pytest.raises(LayoutError, match=r"^line 7 is not utf-8"):
        next(records)
