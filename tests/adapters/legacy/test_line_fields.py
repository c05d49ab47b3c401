"""A data line read with its layout (``adapters.legacy.line_fields``): by header name, index or position, typed,
a malformed trait left out, a line cut short or run on refused, an empty header named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from adapters.base.errors import RejectedInput
from adapters.legacy.errors import LayoutError
from adapters.legacy.layout import Layout, load_layout
from tests.adapters.legacy.support import EXAMPLES, SAMPLES


def test_a_csv_line_is_read_by_header_names() -> None:
    layout = load_layout(EXAMPLES / "bills_layout.yaml")
    lines = (EXAMPLES / "bills.csv").read_text().splitlines()
    fields = layout.parse(lines[1], layout.columns_from(lines[0]))
    assert fields["amount"] == Decimal("59.99") and fields["due_date"] == date(2024, 4, 15)
    assert fields["currency"] == "EUR" and fields["account_number"] == "ACC-100234"


def test_a_fixed_width_line_is_read_by_position_with_implied_decimals() -> None:
    layout = load_layout(EXAMPLES / "overdue_layout.yaml")
    lines = (EXAMPLES / "overdue.txt").read_text(encoding="latin-1").splitlines()
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
    layout = load_layout(EXAMPLES / "bills_layout.yaml")
    lines = (EXAMPLES / "bills.csv").read_text().splitlines()
    with pytest.raises(RejectedInput, match=r"field due_date is malformed \(expected date %d/%m/%Y"):
        layout.parse(lines[1].replace("15/04/2024", "2024-04-15"), layout.columns_from(lines[0]))


def test_a_header_lacking_a_named_column_is_a_layout_error() -> None:
    layout = load_layout(EXAMPLES / "bills_layout.yaml")
    with pytest.raises(LayoutError, match="the header line has no column .*'NUM_FACTURE'"):
        layout.columns_from("NUM_COMPTE;MONTANT_TTC")


@pytest.mark.parametrize(("line", "written"), [(1, "31/02/1980"), (2, "1980-02-01")])
def test_tester15_f6_a_malformed_trait_is_left_out_not_the_line(line: int, written: str) -> None:
    """tester15 F6: one malformed birth date rejected the whole account line (AccountOpened dead-lettered)."""
    layout = load_layout(SAMPLES / "energy_accounts_layout.yaml")
    lines = (SAMPLES / "energy_accounts.csv").read_text(encoding="latin-1").splitlines()
    left_out: dict[str, str] = {}
    fields = layout.parse(lines[line], layout.columns_from(lines[0]), left_out)
    assert fields["birth_date"] is None and fields["account_number"] and fields["last_name"] == "MARTIN"
    assert list(left_out) == ["birth_date"] and "expected date %d/%m/%Y" in left_out["birth_date"]
    with pytest.raises(RejectedInput, match="field birth_date is malformed"):  # a caller not taking left-out traits
        layout.parse(lines[line], layout.columns_from(lines[0]))


def test_a_malformed_field_of_the_event_itself_still_refuses_the_line() -> None:
    layout = load_layout(EXAMPLES / "bills_layout.yaml")
    lines = (EXAMPLES / "bills.csv").read_text().splitlines()
    with pytest.raises(RejectedInput, match="field due_date is malformed"):
        layout.parse(lines[1].replace("15/04/2024", "2024-04-15"), layout.columns_from(lines[0]), {})


def test_tester19_f5_a_csv_line_cut_short_or_run_on_is_refused_with_both_counts() -> None:
    """tester19 F5: ``EL-7700007;residential;standard;ROUX`` (4 of the header's 13 fields, an unquoted newline in
    the export) was published as an account with half its data. Any count other than the header's is refused."""
    layout = load_layout(SAMPLES / "energy_accounts_layout.yaml")
    lines = (SAMPLES / "energy_accounts.csv").read_text(encoding="latin-1").splitlines()
    columns = layout.columns_from(lines[0])
    header = len(lines[0].split(";"))
    cut = ";".join(lines[2].split(";")[:4])
    for line, count in ((cut, 4), (lines[2] + ";extra", header + 1), (";" * (header - 2), header - 1)):
        with pytest.raises(RejectedInput, match=rf"^the line has {count} fields, the header {header}$") as caught:
            layout.parse(line, columns, {})
        assert caught.value.code == "field_count"
    assert layout.parse(lines[2], columns, {})["account_number"]  # the whole line still reads


def test_a_headerless_csv_line_without_the_columns_the_layout_reads_is_refused() -> None:
    layout = Layout.model_validate({"name": "accounts", "format": "csv", "event": "AccountOpened", "header": False,
                                    "fields": {"account_number": {"column": 0}, "account_type": {"column": 2}}})
    assert layout.parse("ACC-7,x,prepaid,more", {}) == {"account_number": "ACC-7", "account_type": "prepaid"}
    with pytest.raises(RejectedInput, match=r"the line has 2 fields, the layout reads column 2 \(0-based\)"):
        layout.parse("ACC-7,x", {})


def test_a_fixed_width_line_ending_before_the_last_field_is_refused() -> None:
    layout = load_layout(EXAMPLES / "overdue_layout.yaml")
    line = (EXAMPLES / "overdue.txt").read_text(encoding="latin-1").splitlines()[1]
    assert layout.parse(line[:64], {})["as_of"] == date(2024, 4, 27)  # the last field ends at character 64
    for cut in (line[:63], line[:20]):
        with pytest.raises(RejectedInput, match=rf"the line has {len(cut)} characters, the layout's last field "
                                                r"ends at character 64") as caught:
            layout.parse(cut, {})
        assert caught.value.code == "field_count"


@pytest.mark.parametrize("header_line", ["", "  "])
def test_tester21_f12_an_empty_file_is_named_empty_not_a_sentence_cut_short(header_line: str) -> None:
    layout = load_layout(EXAMPLES / "bills_layout.yaml")
    with pytest.raises(LayoutError, match=r"^the file has no header line \(it is empty, or its first line is blank") \
            as raised:
        layout.columns_from(header_line)
    assert "'NUM_FACTURE'" in str(raised.value) and not str(raised.value).endswith("it has ")
