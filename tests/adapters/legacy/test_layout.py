"""A layout file loaded and validated (``adapters.legacy.layout``): one line naming the file for every fault, its
status words and number formats (its fields against its event: test_layout_rules.py; a line read with it:
test_line_fields.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.legacy.errors import LayoutError
from adapters.legacy.layout import Layout, load_layout


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
