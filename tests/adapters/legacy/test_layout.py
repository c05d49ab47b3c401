from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.base.errors import RejectedInput
from adapters.legacy.errors import LayoutError
from adapters.legacy.layout import Layout, load_layout
from tests.adapters.legacy.support import SAMPLES


def test_a_csv_line_is_read_by_header_names() -> None:
    layout = load_layout(SAMPLES / "bills_layout.yaml")
    lines = (SAMPLES / "bills.csv").read_text().splitlines()
    fields = layout.parse(lines[1], layout.columns_from(lines[0]))
    assert fields["amount"] == Decimal("59.99") and fields["due_date"] == date(2024, 4, 15)
    assert fields["currency"] == "EUR" and fields["account_number"] == "ACC-100234"


def test_a_fixed_width_line_is_read_by_position_with_implied_decimals() -> None:
    layout = load_layout(SAMPLES / "overdue_layout.yaml")
    lines = (SAMPLES / "overdue.txt").read_text(encoding="latin-1").splitlines()
    assert layout.skips(lines[0]) and layout.skips(lines[-1])
    fields = layout.parse(lines[1], {})
    assert fields == {"account_number": "ACC-100234", "bill_id": "F2024-03-0042117", "amount_due": Decimal("59.99"),
                      "currency": "EUR", "due_date": date(2024, 4, 15), "days_overdue": 12,
                      "as_of": date(2024, 4, 27)}


def test_csv_columns_by_index_and_constants() -> None:
    layout = Layout.model_validate({"name": "accounts", "format": "csv", "event": "account.opened", "header": False,
                                    "fields": {"account_number": {"column": 0}, "account_type": {"value": "prepaid"}}})
    assert layout.event == "AccountOpened"
    assert layout.parse("ACC-7,ignored", {}) == {"account_number": "ACC-7", "account_type": "prepaid"}


def test_a_bad_value_names_its_field() -> None:
    layout = load_layout(SAMPLES / "bills_layout.yaml")
    lines = (SAMPLES / "bills.csv").read_text().splitlines()
    with pytest.raises(RejectedInput, match=r"field due_date is malformed \(expected date %d/%m/%Y"):
        layout.parse(lines[1].replace("15/04/2024", "2024-04-15"), layout.columns_from(lines[0]))


@pytest.mark.parametrize(("document", "message"), [
    ({"format": "fixed-width", "fields": {"bill_id": {"start": 1}}}, "needs start and width"),
    ({"format": "csv", "header": False, "fields": {"bill_id": {"column": "BILL"}}}, "only when the file has a header"),
    ({"format": "csv", "key": ["nope"], "fields": {"bill_id": {"column": 0}}}, "nope is used as key"),
    ({"format": "csv", "event": "InvoicePaid", "fields": {}}, "unknown event type"),
    ({"format": "csv", "fields": {"due_date": {"column": 0, "type": "date", "format": "%d/%m/%Q"}}},
     "field due_date: format '%d/%m/%Q' is not a strptime format"),
    ({"format": "csv", "fields": {"bill_id": {"colum": 0}}}, r"fields.bill_id.colum: Extra inputs are not permitted"),
    ({"format": "csv", "delimeter": ";", "fields": {}}, "delimeter: Extra inputs are not permitted"),
    ({"format": "xlsx", "fields": {}}, "format: Input should be 'csv' or 'fixed-width'"),
])
def test_inconsistent_layouts_are_refused_on_one_line_naming_the_file(
    tmp_path: Path, document: dict, message: str
) -> None:
    """tester13 M2: each kind of invalid layout is one line (``error:`` in the CLI) that names the file and the problem."""
    path = tmp_path / "layout.json"
    path.write_text(__import__("json").dumps({"name": "x", "event": "BillIssued", **document}))
    with pytest.raises(LayoutError, match=message) as raised:
        load_layout(path)
    assert str(raised.value).startswith(f"layout {path}: ") and "\n" not in str(raised.value), str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__  # no second traceback chained


def test_a_layout_that_is_not_yaml_names_its_file(tmp_path: Path) -> None:
    path = tmp_path / "layout.yaml"
    path.write_text("name: x\nfields: [unclosed\n")
    with pytest.raises(LayoutError, match="not valid YAML") as raised:
        load_layout(path)
    assert str(raised.value).startswith(f"layout {path}: ")


def test_a_header_lacking_a_named_column_is_a_layout_error() -> None:
    layout = load_layout(SAMPLES / "bills_layout.yaml")
    with pytest.raises(LayoutError, match="the header line has no column .*'NUM_FACTURE'"):
        layout.columns_from("NUM_COMPTE;MONTANT_TTC")
