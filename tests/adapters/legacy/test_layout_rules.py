"""A layout's fields against its event (``adapters.legacy.layout_rules``): unknown, missing and unreadable fields
refused at load, all at once, and status words only on a status field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.legacy.errors import LayoutError
from adapters.legacy.layout import Layout, load_layout
from tests.adapters.legacy.support import EXAMPLES, SAMPLES


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
