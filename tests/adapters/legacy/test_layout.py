from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

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
    ({"format": "csv", "encoding": "latin-9x", "fields": {}}, "encoding: .*unknown encoding 'latin-9x'"),
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
    layout = load_layout(EXAMPLES / "bills_layout.yaml")
    with pytest.raises(LayoutError, match="the header line has no column .*'NUM_FACTURE'"):
        layout.columns_from("NUM_COMPTE;MONTANT_TTC")


def test_tester15_f5_a_field_no_event_reads_is_refused_naming_it() -> None:
    """tester15 F5: ``ibann:`` (a typo) and ``whatever_field:`` were ignored without a word (exit 0, columns lost)."""
    with pytest.raises(LayoutError, match=r"unknown fields 'ibann', 'whatever_field': AccountOpened reads "
                                          r"account_number, account_type, .*iban.*and a person's traits") as raised:
        load_layout(SAMPLES / "energy_accounts_typos_layout.yaml")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("name", ["amount", "bill_id", "colour", "e_mail"])
def test_a_field_of_another_event_or_none_is_unknown(tmp_path: Path, name: str) -> None:
    document = {"name": "x", "format": "csv", "event": "AccountOpened",
                "fields": {"account_number": {"column": 0}, name: {"column": 1}}}
    with pytest.raises(ValueError, match=f"unknown field '{name}': AccountOpened reads"):
        Layout.model_validate(document)


def test_identifiers_traits_and_the_fields_named_as_key_or_time_are_known() -> None:
    layout = load_layout(SAMPLES / "energy_accounts_layout.yaml")  # iban, NOM/PRENOM as last_name/first_name
    assert {"iban", "last_name", "first_name", "birth_date", "postcode"} <= set(layout.fields)
    Layout.model_validate({"name": "x", "format": "csv", "event": "AccountClosed", "key": ["export_ref"],
                           "occurred_at": "extracted_at", "fields": {
                               "account_number": {"column": 0}, "export_ref": {"column": 1},
                               "extracted_at": {"column": 2, "type": "timestamp"}, "DOB": {"column": 3}}})
    for sample in sorted(SAMPLES.glob("*layout.yaml")):  # the test samples stay valid (docs examples: tests/docs)
        if "typos" not in sample.name and "misspelt" not in sample.name:
            load_layout(sample)


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


# tester24 F15: the tester's billing layout, without the bill's period (period_start_date, period_end_date).
TESTER24_BILLS = """\
name: bills
format: csv
event: BillIssued
delimiter: ";"
key: [bill_id]
fields:
  account_number: {column: NUM_COMPTE}
  bill_id: {column: NUM_FACTURE}
  amount: {column: MONTANT_TTC, type: decimal}
  currency: {column: DEVISE}
  due_date: {column: ECHEANCE, type: date, format: "%d/%m/%Y"}
  email: {column: EMAIL}
  customer_id: {column: CUST_NO}
"""


def test_tester24_f15_a_layout_without_a_required_field_of_its_event_is_refused_naming_file_event_and_fields(
    tmp_path: Path,
) -> None:
    """tester24 F15: accepted, then every line of the file was dead-lettered and the file was "already imported"."""
    path = tmp_path / "bills.yaml"
    path.write_text(TESTER24_BILLS)
    with pytest.raises(LayoutError) as raised:
        load_layout(path)
    message = str(raised.value)
    assert message.startswith(f"layout {path}: ") and "\n" not in message, message
    assert "BillIssued requires fields period_start_date, period_end_date, missing from the layout" in message


def _bills(**fields: dict) -> dict:
    document = load_layout(EXAMPLES / "bills_layout.yaml").model_dump()
    document["fields"] = {**document["fields"], **fields}
    return document


@pytest.mark.parametrize(("event", "fields", "missing"), [
    ("BillIssued", {"account_number": {"column": 0}}, "bill_id"),
    ("AccountOpened", {"account_number": {"column": 0}}, "account_type"),
    ("AccountOpened", {"account_type": {"column": 0}}, "account_number"),
    ("OrderStatusChanged", {"order_id": {"column": 0}}, "status"),
    ("PaymentOverdue", {"account_number": {"column": 0}, "bill_id": {"column": 1}, "due_date": {"column": 2}},
     r"amount_due \(or amount_due_minor\)"),
    ("HandoffResolved", {"handoff_id": {"column": 0}}, "resolution"),
])
def test_each_required_field_an_event_reads_is_required_of_its_layout(event: str, fields: dict, missing: str) -> None:
    document = {"name": "x", "format": "csv", "event": event, "header": False, "fields": fields}
    with pytest.raises(ValueError, match=f"{event} requires fields? (.*, )?{missing}(,|, missing from the layout)"):
        Layout.model_validate(document)


def test_an_amount_in_minor_units_or_a_constant_gives_a_required_field() -> None:
    document = _bills(amount_minor={"column": "MONTANT_TTC", "type": "int"}, currency={"value": "EUR"})
    del document["fields"]["amount"]
    assert Layout.model_validate(document).fields["currency"].value == "EUR"
    Layout.model_validate(_bills(period_end_date={"value": "2024-03-31"}))


@pytest.mark.parametrize(("fields", "message"), [
    ({"due_date": {"column": "ECHEANCE", "type": "int"}}, r"field due_date of BillIssued cannot be read from type int "
                                                           r"\(it is a day: type string or date or timestamp\)"),
    ({"amount": {"column": "MONTANT_TTC", "type": "date"}}, "field amount of BillIssued cannot be read from type date"),
    ({"issued_on": {"column": "DATE_EMISSION"}}, "occurred_at field issued_on has type string: it must be a time"),
])
def test_a_type_the_events_field_cannot_be_read_from_is_refused(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Layout.model_validate(_bills(**fields))


def test_every_fault_of_a_layout_is_named_at_once() -> None:
    document = _bills(ammount={"column": "MONTANT_TTC"}, due_date={"column": "ECHEANCE", "type": "decimal"})
    del document["fields"]["bill_id"]
    document["key"] = []
    with pytest.raises(ValueError) as raised:
        Layout.model_validate(document)
    assert all(fault in str(raised.value) for fault in ("unknown field 'ammount'", "requires field bill_id",
                                                        "field due_date of BillIssued cannot be read from type"))


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*_layout.yaml")
                                          if "typos" not in p.name and "misspelt" not in p.name))
def test_the_sample_layouts_give_every_required_field(sample: str) -> None:
    load_layout(SAMPLES / sample)


@pytest.mark.parametrize(("event", "field", "fields"), [
    ("CardStatusChanged", "reason", {"card_number": {"column": 0}, "card_status": {"column": 1},
                                     "reason": {"column": 2, "status_words": {"x": "BLOCKED"}}}),
    ("OrderStatusChanged", "product_code", {"order_id": {"column": 0}, "status": {"column": 1},
                                            "product_code": {"column": 2, "status_words": {"x": "COMPLETED"}}}),
    ("AccountClosed", "reason", {"account_number": {"column": 0}, "reason": {"column": 1, "status_words": {"x": "y"}}}),
])
def test_status_words_belong_to_a_status_field_only(event: str, field: str, fields: dict) -> None:
    """tester32 F12, tester33 F6: a layout maps its system's own words, on the field that holds them."""
    with pytest.raises(ValueError, match=f"field {field}: status_words maps a system's own status words to the common "
                                         "statuses: only on the card_status field of a CardStatusChanged layout or the "
                                         "status field of an OrderStatusChanged layout"):
        Layout.model_validate({"name": "x", "format": "csv", "event": event, "header": False, "fields": fields})


@pytest.mark.parametrize(("event", "fields", "problem"), [
    ("OrderStatusChanged", {"order_id": {"column": 0}, "status": {"column": 1, "status_words": {"x": "BLOCKED"}}},
     "field status: status_words: 'x' is mapped to 'BLOCKED', which is no order status (one of CANCELLED, "
     "COMPLETED, CONFIRMED, CREATED, DELIVERED, FAILED, IN_PROGRESS, SHIPPED)"),
    ("CardStatusChanged", {"card_number": {"column": 0}, "card_status": {"column": 1, "status_words": {"x": "DONE"}}},
     "field card_status: status_words: 'x' is mapped to 'DONE', which is no card status"),
])
def test_status_words_map_to_the_events_own_statuses(event: str, fields: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        Layout.model_validate({"name": "x", "format": "csv", "event": event, "header": False, "fields": fields})


def test_tester33_f6_an_order_layouts_status_words_are_kept_as_the_mapper_reads_them() -> None:
    layout = Layout.model_validate({"name": "x", "format": "csv", "event": "OrderStatusChanged", "header": False,
                                    "fields": {"order_id": {"column": 0}, "status": {
                                        "column": 1, "status_words": {"Religação pendente": "created"}}}})
    assert layout.status_words == {"RELIGACAO_PENDENTE": "CREATED"}


def test_a_layouts_status_words_are_kept_as_the_mapper_reads_them() -> None:
    layout = Layout.model_validate({"name": "x", "format": "csv", "event": "CardStatusChanged", "header": False,
                                    "fields": {"card_number": {"column": 0}, "card_status": {
                                        "column": 1, "status_words": {"Bloq. prev.": "blocked"}}}})
    assert layout.status_words == {"BLOQ_PREV": "BLOCKED"}


@pytest.mark.parametrize(("declared", "reason"), [
    ({"number_locale": "xx_QQ"}, "number_locale 'xx_QQ' is no known locale"),
    ({"decimal_separator": ";"}, "decimal_separator ';'"),
    ({"fields": {"order_id": {"column": 0, "decimal_separator": ","}}},
     "field order_id: decimal_separator and thousands_separator are for a decimal field, this one is string"),
])
def test_tester33_f5_a_number_format_that_cannot_be_is_refused_at_load(declared: dict, reason: str) -> None:
    document = {"name": "x", "format": "csv", "event": "OrderStatusChanged", "header": False,
                "fields": {"order_id": {"column": 0}, "status": {"column": 1}}, **declared}
    if "fields" in declared:
        document["fields"] = {**declared["fields"], "status": {"column": 1}}
    with pytest.raises(ValueError, match=reason):
        Layout.model_validate(document)


def test_tester33_f7_occurred_at_written_as_a_field_names_the_fix() -> None:
    """tester33 F7: ``occurred_at: {column: DATA_ALTERACAO, ...}`` under ``fields`` (a natural first try) was only an
    unknown field; the fix was visible only in the Cards example."""
    with pytest.raises(ValueError, match=re.escape(
            "occurred_at is a top-level key naming one of the fields, not a field: give the time its own field under "
            "fields (e.g. changed_at, reading 'DATA_ALTERACAO' as type date) and write occurred_at: changed_at at the "
            "top level (docs/legacy-batch.md, occurred_at)")):
        Layout.model_validate({"name": "contas", "format": "csv", "event": "AccountOpened", "delimiter": ";",
                               "fields": {"account_number": {"column": "CONTA_CONTRATO"},
                                          "account_type": {"column": "TIPO"},
                                          "occurred_at": {"column": "DATA_ALTERACAO", "type": "date",
                                                          "format": "%d/%m/%Y"}}})


def test_occurred_at_naming_a_field_called_occurred_at_is_still_valid() -> None:
    layout = Layout.model_validate({"name": "x", "format": "csv", "event": "AccountClosed", "header": False,
                                    "occurred_at": "occurred_at",
                                    "fields": {"account_number": {"column": 0},
                                               "occurred_at": {"column": 1, "type": "date"}}})
    assert layout.occurred_at == "occurred_at"
