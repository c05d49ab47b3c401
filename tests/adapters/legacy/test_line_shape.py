"""A layout's lines as the clear copy of a refused one reads them (``adapters.legacy.line_shape``): the file's encoding,
its separator, and each column mapped to an identifier field with that identifier's kind."""

from __future__ import annotations

import pytest

from adapters.legacy.batch_lines import header_columns
from adapters.legacy.layout import Layout, load_layout
from adapters.legacy.line_shape import line_shape
from adapters.legacy.mapper import IDENTIFIER_FIELD_KINDS
from bus.dead_letter_lines import LineShape, clear_line
from bus.identifiers.masking import mask
from tests.adapters.legacy.support import EXAMPLES


def test_the_example_customer_master_maps_its_identifier_columns() -> None:
    layout = load_layout(EXAMPLES / "clientes_layout.yaml")
    with open(EXAMPLES / "clientes.csv", "rb") as handle:
        columns = header_columns(handle, layout)
    shape = line_shape(layout, columns)
    assert (shape.encoding, shape.delimiter, shape.reencoded) == ("latin-1", ";", True)
    named = {name: shape.identifiers.get(index) for name, index in columns.items()}
    assert named == {"NUM_CLIENTE": "CUSTOMER_NUMBER", "NIF": "NATIONAL_ID", "NOMBRE": None, "APELLIDOS": None,
                     "FECHA_NAC": None, "IBAN": "ACCOUNT", "PRODUCTO": None, "SEGMENTO": None, "MOVIL": "PHONE",
                     "TELEFONO": "PHONE", "EMAIL": "EMAIL", "CP": None, "FECHA_MODIF": None}


def test_a_fixed_width_layout_gives_each_field_its_span_and_kind() -> None:
    shape = line_shape(load_layout(EXAMPLES / "overdue_layout.yaml"), {})
    assert shape.delimiter is None and shape.encoding == "latin-1"
    assert shape.spans[:2] == ((1, 12, "ACCOUNT"), (13, 18, None))


def _layout(name: str, **where: object) -> Layout:
    """An AccountOpened layout reading ``name`` from column 1 (or ``where``), constants for the rest it requires."""
    csv = not where
    fields: dict[str, object] = {"account_type": {"value": "x"},
                                 name: {"column": 1} if csv else where}
    if name != "account_number":
        fields["account_number"] = {"column": 0} if csv else {"start": 1, "width": 4}
    return Layout.model_validate({"name": "x", "format": "csv" if csv else "fixed-width", "event": "AccountOpened",
                                  "header": False, "fields": fields})


@pytest.mark.parametrize(("name", "kind"), sorted(IDENTIFIER_FIELD_KINDS.items()))
def test_each_identifier_field_a_layout_maps_is_its_kind_in_csv_and_fixed_width(name: str, kind: str) -> None:
    assert line_shape(_layout(name), {}).identifiers[1] == kind
    assert (5, 20, kind) in line_shape(_layout(name, start=5, width=20), {}).spans


def test_a_column_read_by_two_fields_is_an_identifiers_when_either_is_one() -> None:
    layout = Layout.model_validate({"name": "x", "format": "csv", "event": "AccountOpened", "header": True,
                                    "fields": {"account_number": {"column": "NUM"}, "account_type": {"column": "NUM"},
                                               "mobile": {"column": "TEL"}}})
    shape = line_shape(layout, {"NUM": 0, "TEL": 2, "OTHER": 1})
    assert shape.identifiers == {0: "ACCOUNT", 2: "PHONE"}


def test_a_utf_8_layout_says_its_bytes_are_the_files() -> None:
    shape = line_shape(_layout("mobile"), {})
    assert not shape.reencoded and isinstance(shape, LineShape)
    assert clear_line(b"CA-00200001,677 123 456", shape, str) == f"{mask('ACCOUNT', 'CA-00200001')},*****3456".encode()
